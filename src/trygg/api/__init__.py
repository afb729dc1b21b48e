"""trygg.api"""
