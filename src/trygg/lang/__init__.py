"""trygg.lang"""
