"""trygg.web"""
