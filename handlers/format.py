"""Rendering archive articles for replies (/latest, /search, /subscribe) in the safe HTML subset."""

from __future__ import annotations

import html

from bot.core.models import Article

BULLET = "• "


def article_card(article: Article, bullets: list[str]) -> str:
    """Title (linked when there is a URL), a meta line, then one bullet per line."""
    title = html.escape(article.title)
    if article.url and article.url.startswith(("http://", "https://")):
        title = f'<a href="{html.escape(article.url)}">{title}</a>'
    lines = [f"<b>{title}</b>", html.escape(meta_line(article))]
    lines += [BULLET + html.escape(b) for b in bullets]
    return "\n".join(lines)


def article_line(position: int, article: Article) -> str:
    return f"{position}. <b>{html.escape(article.title)}</b> — {html.escape(meta_line(article))}"


def meta_line(article: Article) -> str:
    parts = []
    if article.published:
        parts.append(article.published.isoformat())
    parts.append(article.lang.upper())
    if article.source:
        parts.append(article.source)
    return " · ".join(parts)
