"""trygg.policy"""
