"""Rendering archive articles for replies (/latest, /search, /subscribe): the same card as an alert."""

from __future__ import annotations

import html

from bot.core.alerts.compose import AlertEntry, compose_alert, labels_for
from bot.core.models import Article


def article_card(article: Article, bullets: list[str], lang: str) -> str:
    """Title (linked when there is a URL), date · language · source, one bullet per line."""
    entry = AlertEntry(
        outbox_ids=(),
        article_id=article.id,
        title=article.title,
        published=article.published,
        lang=article.lang,
        url=article.url,
        source=article.source,
        query="",
        reason="",
        bullets=tuple(bullets),
    )
    return compose_alert(entry, labels_for(lang))


def article_line(position: int, article: Article, lang: str) -> str:
    labels = labels_for(lang)
    meta = [labels.format_date(article.published)] if article.published else []
    meta += [article.lang.upper(), *([article.source] if article.source else [])]
    return f"{position}. <b>{html.escape(article.title)}</b> — {html.escape(' · '.join(meta))}"
