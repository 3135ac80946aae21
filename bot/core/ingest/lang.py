"""Kept so existing imports work: the language detector is ``bot.core.lang``, shared by every part."""

from bot.core.lang import DEFAULT_LANG, SUPPORTED, detect_language, normalise_lang

__all__ = ["DEFAULT_LANG", "SUPPORTED", "detect_language", "normalise_lang"]
