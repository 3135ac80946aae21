"""Turning files and feeds into :class:`~bot.core.models.ArticleDraft` objects (no storage here)."""
