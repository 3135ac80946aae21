"""Stories → alert and digest text in the neutral safe-HTML subset (``<b> <i> <a href> <code>``).

Every piece of article text is escaped, and no tag ever spans a line break, so :func:`split_message`
may cut a message between any two lines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.alerts.compose.labels import Labels
from bot.core.alerts.compose.safe_html import escape, link
from bot.core.alerts.compose.stories import AlertEntry, Story, source_name

_BULLET_MARK = re.compile(r"^\s*(?:[•·▪‣◦*-]|\u2013|\u2014)\s*")


def _title_line(entry: AlertEntry, labels: Labels) -> str:
    title = escape(entry.title) or html.escape(labels.untitled)
    return f"<b>{link(title, entry.url)}</b>"


def _meta_line(story: Story, labels: Labels) -> str | None:
    lead = story.lead
    parts = []
    if lead.published:
        parts.append(html.escape(labels.format_date(lead.published)))
    if lead.lang and lead.lang.strip():
        parts.append(escape(lead.lang.upper()))
    name = source_name(lead)
    if name:
        parts.append(html.escape(name))
    if story.sources > 1:
        others = ", ".join(link(html.escape(label), url) for label, url in story.other_links)
        parts.append(labels.sources(story.sources) + (f" ({others})" if others else ""))
    return " · ".join(parts) or None


def _bullet_lines(entry: AlertEntry) -> list[str]:
    lines = []
    for bullet in entry.bullets:
        text = escape(_BULLET_MARK.sub("", bullet))
        if text:
            lines.append(f"• {text}")
    return lines


def _matched_line(entry: AlertEntry, labels: Labels) -> str | None:
    reason = escape(entry.reason) or escape(entry.query)
    return f"<i>{html.escape(labels.matched)}: {reason}</i>" if reason else None


def story_lines(story: Story, labels: Labels) -> list[str]:
    """One story as lines of safe HTML: title, meta, bullets, matched."""
    lines = [_title_line(story.lead, labels)]
    meta = _meta_line(story, labels)
    if meta:
        lines.append(meta)
    lines.extend(_bullet_lines(story.lead))
    matched = _matched_line(story.lead, labels)
    if matched:
        lines.append(matched)
    return lines


def compose_alert(entry: AlertEntry | Story, labels: Labels) -> str:
    """An instant alert: the title (bold, linked), a meta line (date · LANG · source), one ``• `` line
    per bullet and a short ``matched: …`` line."""
    story = entry if isinstance(entry, Story) else Story(lead=entry, members=(entry,))
    return "\n".join(story_lines(story, labels))


@dataclass(frozen=True, slots=True)
class DigestText:
    html: str  # "" when there was nothing to send
    included_outbox_ids: tuple[int, ...]
    left_over_ids: tuple[int, ...] = ()  # stay pending; the next digest (or the digest command) sends them
    story_count: int = 0
    left_over_count: int = 0


def _allocate(counts: Sequence[int], cap: int) -> list[int]:
    """Share ``cap`` stories among subscriptions round-robin, so a busy one cannot crowd out the rest."""
    taken = [0] * len(counts)
    remaining = cap
    while remaining > 0:
        progressed = False
        for i, count in enumerate(counts):
            if remaining and taken[i] < count:
                taken[i] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return taken


def compose_digest(
    stories_by_query: Mapping[str, Sequence[Story]], cap: int, labels: Labels, *, command: str | None = None
) -> DigestText:
    """A digest grouped by subscription with at most ``cap`` stories in total.

    Stories beyond the cap are left out (their ids in ``left_over_ids``) and announced with a
    "+N more — send /digest for the rest" line, in the command prefix of ``labels``. ``command`` (the
    platform's spelling of the digest command, e.g. ``"!digest"``) overrides that prefix.
    """
    if cap < 1:
        raise ValueError(f"the digest cap must be at least 1, got {cap}")
    if command is not None:
        labels = labels.with_prefix(command.removesuffix("digest"))
    groups = [(query, list(stories)) for query, stories in stories_by_query.items() if stories]
    taken = _allocate([len(stories) for _, stories in groups], cap)
    shown = sum(taken)
    if not shown:
        return DigestText(html="", included_outbox_ids=())
    lines = [f"<b>{html.escape(labels.heading(shown))}</b>"]
    included: list[int] = []
    left_over: list[int] = []
    for (query, stories), count in zip(groups, taken, strict=True):
        for story in stories[count:]:
            left_over.extend(story.outbox_ids)
        if not count:
            continue
        lines.extend(["", f"<b>» {escape(query)}</b>"])
        for story in stories[:count]:
            lines.append("")
            lines.extend(story_lines(story, labels))
            included.extend(story.outbox_ids)
    hidden = sum(len(stories) for _, stories in groups) - shown
    if hidden:
        lines.extend(["", f"<i>{html.escape(labels.more_line(hidden))}</i>"])
    return DigestText(
        html="\n".join(lines),
        included_outbox_ids=tuple(included),
        left_over_ids=tuple(left_over),
        story_count=shown,
        left_over_count=hidden,
    )
