"""trygg.model"""
