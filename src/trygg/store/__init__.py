"""trygg.store"""
