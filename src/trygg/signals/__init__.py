"""trygg.signals"""
