"""Outbox entries → alert and digest text: labels, fingerprints and story folding, rendering.

One module per job; this package re-exports the names callers have always imported from here.
"""

from bot.core.alerts.compose.fingerprints import fingerprint, similar
from bot.core.alerts.compose.labels import Labels, labels_for
from bot.core.alerts.compose.render import DigestText, compose_alert, compose_digest, story_lines
from bot.core.alerts.compose.safe_html import escape, link, safe_url
from bot.core.alerts.compose.stories import AlertEntry, Story, fold_near_duplicates, group_by_query, source_name

__all__ = [
    "AlertEntry",
    "DigestText",
    "Labels",
    "Story",
    "compose_alert",
    "compose_digest",
    "escape",
    "fingerprint",
    "fold_near_duplicates",
    "group_by_query",
    "labels_for",
    "link",
    "safe_url",
    "similar",
    "source_name",
    "story_lines",
]
