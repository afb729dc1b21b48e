"""trygg.scale"""
