"""trygg.text: normalisation with an offset map back to the original, and language identification.

Import from the submodules (``from trygg.text.normalize import normalize``,
``from trygg.text.language import detect_language, LanguageTracker``). Nothing is re-exported
here on purpose: a package attribute ``normalize`` (the function) would shadow the submodule of
the same name and break ``import trygg.text.normalize as m``.
"""
