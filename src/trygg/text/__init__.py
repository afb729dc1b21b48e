"""trygg.text"""
