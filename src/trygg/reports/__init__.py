"""Reports that hotlines and regulators take: NCMEC CyberTipline, DSA transparency, statements of reasons.

Each module works on plain input dataclasses, so a case, a CLI or a test can feed it without the
engine. The NCMEC modules need the ``reports`` extra (lxml, httpx); the DSA modules need nothing
beyond the standard library.
"""
