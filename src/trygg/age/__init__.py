"""trygg.age"""
