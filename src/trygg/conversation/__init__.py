"""trygg.conversation"""
