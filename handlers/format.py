"""Rendering archive articles for replies (/latest, /search, /subscribe): the same card as an alert."""

from __future__ import annotations

import html

from bot.core.alerts.compose import AlertEntry, compose_alert, labels_for
from bot.core.models import Article


def article_card(article: Article, bullets: list[str], lang: str) -> str:
    """Title (linked when there is a URL), date · language · source, one bullet per line."""
    return compose_alert(AlertEntry.of(article, bullets), labels_for(lang))


def article_line(position: int, article: Article, lang: str) -> str:
    labels = labels_for(lang)
    meta = [labels.format_date(article.published)] if article.published else []
    meta += [article.lang.upper(), *([article.source] if article.source else [])]
    return f"{position}. <b>{html.escape(article.title)}</b> — {html.escape(' · '.join(meta))}"
