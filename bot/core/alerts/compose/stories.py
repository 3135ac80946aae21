"""Outbox entries and stories: near-duplicate articles (the same agency story from several outlets, or one
article re-sent with small edits) fold into one :class:`Story`, and stories group by subscription."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from bot.core.alerts.compose.fingerprints import Sketch, index_keys, parse_sketch, similar_sketches
from bot.core.alerts.compose.safe_html import one_line, safe_url
from bot.core.models import Article

_REPRESENTATIVES = 8  # members of a story a new entry is compared with


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """One outbox row (or several for the same article) ready to be shown."""

    outbox_ids: tuple[int, ...]
    article_id: int
    title: str
    published: date | None
    lang: str
    url: str | None
    source: str | None
    query: str  # the subscription text as the user typed it
    reason: str  # "Putin (Kremlchef)"
    bullets: tuple[str, ...] = ()
    body_fingerprint: str = ""  # from fingerprint(title, body); "" never folds

    @classmethod
    def of(
        cls,
        article: Article,
        bullets: Sequence[str],
        *,
        outbox_ids: tuple[int, ...] = (),
        query: str = "",
        reason: str = "",
        body_fingerprint: str = "",
    ) -> AlertEntry:
        """The entry showing ``article`` (an archive card has no outbox rows, query or reason)."""
        return cls(
            outbox_ids=outbox_ids,
            query=query,
            reason=reason,
            article_id=article.id,
            title=article.title,
            bullets=tuple(bullets),
            body_fingerprint=body_fingerprint,
            published=article.published,
            lang=article.lang,
            url=article.url,
            source=article.source,
        )


@dataclass(frozen=True, slots=True)
class Story:
    """One item of a digest: a lead entry and the near-duplicates folded into it."""

    lead: AlertEntry
    members: tuple[AlertEntry, ...]  # all entries, lead included, in input order

    @property
    def outbox_ids(self) -> tuple[int, ...]:
        return tuple(oid for member in self.members for oid in member.outbox_ids)

    @property
    def sources(self) -> int:
        """Distinct outlets among the members (an edited re-send from the same outlet counts once)."""
        names = {key for key in (_source_key(m) for m in self.members) if key}
        return max(1, len(names))

    @property
    def other_links(self) -> tuple[tuple[str, str], ...]:
        """(label, url) of the members from other outlets than the lead, one per outlet."""
        seen = {_source_key(self.lead)}
        links: list[tuple[str, str]] = []
        for member in self.members:
            key, url = _source_key(member), safe_url(member.url)
            if key and key not in seen and url:
                seen.add(key)
                links.append((source_name(member) or key, url))
        return tuple(links)


def source_name(entry: AlertEntry) -> str | None:
    """The outlet to show: the given source, else the host of the article's link."""
    if entry.source and entry.source.strip():
        return one_line(entry.source)
    url = safe_url(entry.url)
    if url:
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.") or None
    return None


def _source_key(entry: AlertEntry) -> str | None:
    name = source_name(entry)
    return name.casefold() if name else None


def _lead_order(entry: AlertEntry) -> tuple[date, int]:
    # The newest version is the one to show: a re-send with edits supersedes the first cut.
    return (entry.published or date.min, entry.article_id)


def fold_near_duplicates(entries: Sequence[AlertEntry]) -> list[Story]:
    """Group near-duplicate entries into stories, in the order each story first appears.

    Candidates are found through shared sketch values (two sketches that estimate a Jaccard ≥ 0.5
    necessarily share values) and title words, so large digests avoid comparing every pair.
    """
    sketches = [parse_sketch(entry.body_fingerprint) for entry in entries]
    clusters: list[list[int]] = []  # positions in entries
    index: dict[tuple[str, int], set[int]] = {}  # index key → clusters holding a member with it
    for position, sketch in enumerate(sketches):
        target = _matching_cluster(sketch, sketches, clusters, index) if sketch is not None else None
        if target is None:
            target = len(clusters)
            clusters.append([])
        clusters[target].append(position)
        if sketch is not None:
            for key in index_keys(sketch):
                index.setdefault(key, set()).add(target)
    stories = []
    for members in clusters:
        group = tuple(entries[i] for i in members)
        stories.append(Story(lead=max(group, key=_lead_order), members=group))
    return stories


def _matching_cluster(
    sketch: Sketch,
    sketches: Sequence[Sketch | None],
    clusters: Sequence[Sequence[int]],
    index: Mapping[tuple[str, int], set[int]],
) -> int | None:
    """The first story (in order of appearance) with a member similar to ``sketch``."""
    candidates: set[int] = set()
    for key in index_keys(sketch):
        candidates.update(index.get(key, ()))
    for cluster in sorted(candidates):
        members = clusters[cluster]
        # Bounded work for big stories: the first member and the latest few stand for the rest.
        representatives = (
            members if len(members) <= _REPRESENTATIVES else [members[0], *members[1 - _REPRESENTATIVES :]]
        )
        for member in representatives:
            other = sketches[member]
            if other is not None and similar_sketches(sketch, other):
                return cluster
    return None


def group_by_query(stories: Iterable[Story]) -> dict[str, list[Story]]:
    """Stories per subscription (the lead entry's query), subscriptions in order of first appearance."""
    grouped: dict[str, list[Story]] = {}
    for story in stories:
        grouped.setdefault(story.lead.query, []).append(story)
    return grouped
