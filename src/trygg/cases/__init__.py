"""trygg.cases"""
