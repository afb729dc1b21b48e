"""Language packs as data: ``load_pack(code)`` reads and validates ``src/trygg/lang/<code>.toml``."""

from trygg.lang.pack import (
    COMMON_PACK,
    LanguagePack,
    PatternEntry,
    available_languages,
    load_pack,
    load_pack_file,
)

__all__ = ["COMMON_PACK", "LanguagePack", "PatternEntry", "available_languages", "load_pack", "load_pack_file"]
