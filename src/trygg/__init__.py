"""trygg: an open-source child-safety engine for social platforms."""

__version__ = "0.1.0"
