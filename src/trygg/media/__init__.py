"""trygg.media"""
