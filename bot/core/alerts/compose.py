"""Outbox entries → alert and digest text in the neutral safe-HTML subset (``<b> <i> <a href> <code>``).

Every piece of article text is escaped, and no tag ever spans a line break, so :func:`split_message`
may cut a message between any two lines. Near-duplicate articles (the same agency story from several
outlets, or one article re-sent with small edits) are folded into one :class:`Story` first.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
import struct
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

# --- labels ------------------------------------------------------------------------------------------------

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Labels:
    """The few words an alert or digest needs, per language. ``{n}`` is a count, ``{command}`` a command."""

    lang: str
    matched: str
    source_one: str
    source_many: str
    more: str
    heading_one: str
    heading_many: str
    untitled: str
    date_pattern: str  # str.format with day, month, month_name, year
    more_button: str = "More"
    month_names: tuple[str, ...] = ()

    def sources(self, n: int) -> str:
        return (self.source_one if n == 1 else self.source_many).format(n=n)

    def heading(self, n: int) -> str:
        return (self.heading_one if n == 1 else self.heading_many).format(n=n)

    def more_line(self, n: int, command: str) -> str:
        return self.more.format(n=n, command=command)

    def format_date(self, value: date) -> str:
        month_name = self.month_names[value.month - 1] if self.month_names else ""
        return self.date_pattern.format(day=value.day, month=value.month, month_name=month_name, year=value.year)


_LABELS = {
    "en": Labels(
        lang="en",
        matched="matched",
        source_one="{n} source",
        source_many="{n} sources",
        more="+{n} more — send {command} for the rest",
        heading_one="Your news digest: {n} story",
        heading_many="Your news digest: {n} stories",
        untitled="(untitled)",
        date_pattern="{day} {month_name} {year}",
        more_button="Show the rest",
        month_names=_EN_MONTHS,
    ),
    "de": Labels(
        lang="de",
        matched="Treffer",
        source_one="{n} Quelle",
        source_many="{n} Quellen",
        more="+{n} weitere — {command} senden für den Rest",
        heading_one="Ihre Nachrichtenübersicht: {n} Meldung",
        heading_many="Ihre Nachrichtenübersicht: {n} Meldungen",
        untitled="(ohne Titel)",
        date_pattern="{day:02d}.{month:02d}.{year}",
        more_button="Rest anzeigen",
    ),
}


def labels_for(lang: str | None) -> Labels:
    """Labels for a chat language such as ``"de"`` or ``"de-AT"``; English for anything unknown."""
    base = (lang or "").strip().casefold().replace("_", "-").split("-", 1)[0]
    return _LABELS.get(base, _LABELS["en"])


# --- entries and fingerprints ------------------------------------------------------------------------------


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


_WORD = re.compile(r"\w+")
_SKETCH_SIZE = 64  # bottom-k MinHash: estimate error ~ 1/sqrt(64) ≈ 0.12 at worst, enough for "same text"
_SHINGLE = 3
_TITLE_TOKENS = 24
_FINGERPRINT_VERSION = "m1"


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [token for token in _WORD.findall(folded) if len(token) > 1 or token.isdigit()]


def _hash32(text: str) -> int:
    # A keyed-free stable hash: Python's hash() is salted per process, fingerprints must survive restarts.
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


def _encode(values: Iterable[int]) -> str:
    packed = list(values)
    raw = struct.pack(f">{len(packed)}I", *packed)
    return base64.b64encode(raw).decode("ascii")


def _decode(text: str) -> frozenset[int]:
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    return frozenset(struct.unpack(f">{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))


def fingerprint(title: str, body: str) -> str:
    """A compact near-duplicate sketch of an article: hashed title words plus a bottom-k MinHash of the
    word 3-shingles of title and body. Compare two with :func:`similar`."""
    title_tokens = _tokens(title)
    text_tokens = title_tokens + _tokens(body)
    if len(text_tokens) < _SHINGLE:
        shingles = {" ".join(text_tokens)} if text_tokens else set()
    else:
        shingles = {" ".join(text_tokens[i : i + _SHINGLE]) for i in range(len(text_tokens) - _SHINGLE + 1)}
    sketch = sorted({_hash32(s) for s in shingles})[:_SKETCH_SIZE]
    title_hashes = sorted({_hash32(t) for t in title_tokens})[:_TITLE_TOKENS]
    return f"{_FINGERPRINT_VERSION}:{_encode(title_hashes)}:{_encode(sketch)}"


@dataclass(frozen=True, slots=True)
class _Sketch:
    title: frozenset[int]
    body: frozenset[int]

    @property
    def short(self) -> bool:
        """Fewer shingles than the sketch holds: a teaser, where word overlap says little on its own."""
        return len(self.body) < _SKETCH_SIZE


def _parse(fp: str) -> _Sketch | None:
    parts = fp.split(":")
    if len(parts) != 3 or parts[0] != _FINGERPRINT_VERSION:
        return None
    try:
        return _Sketch(_decode(parts[1]), _decode(parts[2]))
    except ValueError:
        return None


def _jaccard_bottom_k(a: frozenset[int], b: frozenset[int]) -> float:
    """Bottom-k estimate: the share of the union's k smallest hashes that both sketches hold."""
    union = sorted(a | b)[:_SKETCH_SIZE]
    if not union:
        return 0.0
    return sum(1 for value in union if value in a and value in b) / len(union)


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


BODY_THRESHOLD = 0.5
TITLE_THRESHOLD = 0.75
_REPRESENTATIVES = 8  # members of a story a new entry is compared with
_TITLE_BACKUP_BODY = 0.15  # long texts with equal titles still need some shared wording (daily live blogs)


def _similar_sketches(a: _Sketch, b: _Sketch) -> bool:
    body = _jaccard_bottom_k(a.body, b.body)
    if body >= BODY_THRESHOLD:
        return True
    if min(len(a.title), len(b.title)) < 3 or _jaccard(a.title, b.title) < TITLE_THRESHOLD:
        return False
    return a.short or b.short or body >= _TITLE_BACKUP_BODY


def similar(fp_a: str, fp_b: str) -> bool:
    """Whether two fingerprints look like the same story. Malformed or empty fingerprints never match."""
    a, b = _parse(fp_a), _parse(fp_b)
    return a is not None and b is not None and _similar_sketches(a, b)


# --- folding -----------------------------------------------------------------------------------------------


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
        return _one_line(entry.source)
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
    sketches = [_parse(entry.body_fingerprint) for entry in entries]
    clusters: list[list[int]] = []  # positions in entries
    index: dict[tuple[str, int], set[int]] = {}  # index key → clusters holding a member with it
    for position, sketch in enumerate(sketches):
        target = _matching_cluster(sketch, sketches, clusters, index) if sketch is not None else None
        if target is None:
            target = len(clusters)
            clusters.append([])
        clusters[target].append(position)
        if sketch is not None:
            for key in _index_keys(sketch):
                index.setdefault(key, set()).add(target)
    stories = []
    for members in clusters:
        group = tuple(entries[i] for i in members)
        stories.append(Story(lead=max(group, key=_lead_order), members=group))
    return stories


def _matching_cluster(
    sketch: _Sketch,
    sketches: Sequence[_Sketch | None],
    clusters: Sequence[Sequence[int]],
    index: Mapping[tuple[str, int], set[int]],
) -> int | None:
    """The first story (in order of appearance) with a member similar to ``sketch``."""
    candidates: set[int] = set()
    for key in _index_keys(sketch):
        candidates.update(index.get(key, ()))
    for cluster in sorted(candidates):
        members = clusters[cluster]
        # Bounded work for big stories: the first member and the latest few stand for the rest.
        representatives = (
            members if len(members) <= _REPRESENTATIVES else [members[0], *members[1 - _REPRESENTATIVES :]]
        )
        for member in representatives:
            other = sketches[member]
            if other is not None and _similar_sketches(sketch, other):
                return cluster
    return None


def _index_keys(sketch: _Sketch) -> Iterable[tuple[str, int]]:
    """Prefix filtering: two sets that reach a similarity threshold must share a value among their
    smallest few, so only those need indexing. For the bottom-k estimate ≥ 0.5 at most 32 unshared values
    precede the first shared one, for titles at Jaccard ≥ t it is |T| − ⌈t·|T|⌉ values."""
    body = sorted(sketch.body)
    yield from (("b", value) for value in body[: _SKETCH_SIZE - math.ceil(BODY_THRESHOLD * _SKETCH_SIZE) + 1])
    title = sorted(sketch.title)
    yield from (("t", value) for value in title[: len(title) - math.ceil(TITLE_THRESHOLD * len(title)) + 1])


def group_by_query(stories: Iterable[Story]) -> dict[str, list[Story]]:
    """Stories per subscription (the lead entry's query), subscriptions in order of first appearance."""
    grouped: dict[str, list[Story]] = {}
    for story in stories:
        grouped.setdefault(story.lead.query, []).append(story)
    return grouped


# --- rendering ---------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_BULLET_MARK = re.compile(r"^\s*(?:[•·▪‣◦*-]|\u2013|\u2014)\s*")


def _one_line(text: str) -> str:
    """Article text on one line: tags may not span line breaks, and control characters render badly."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACES.sub(" ", cleaned).strip()


def escape(text: str) -> str:
    return html.escape(_one_line(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link (never ``javascript:`` and the like), else None."""
    if not url:
        return None
    candidate = url.strip()
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    return candidate if parts.scheme.lower() in {"http", "https"} and parts.hostname else None


def link(label_html: str, url: str | None) -> str:
    """``label_html`` (already escaped) linked to ``url`` when the URL is safe to link."""
    target = safe_url(url)
    return f'<a href="{html.escape(target, quote=True)}">{label_html}</a>' if target else label_html


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
    stories_by_query: Mapping[str, Sequence[Story]], cap: int, labels: Labels, *, command: str = "/digest"
) -> DigestText:
    """A digest grouped by subscription with at most ``cap`` stories in total.

    Stories beyond the cap are left out (their ids in ``left_over_ids``) and announced with a
    "+N more — send /digest for the rest" line; ``command`` is the platform's spelling of it.
    """
    if cap < 1:
        raise ValueError(f"the digest cap must be at least 1, got {cap}")
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
        lines.extend(["", f"<i>{html.escape(labels.more_line(hidden, command))}</i>"])
    return DigestText(
        html="\n".join(lines),
        included_outbox_ids=tuple(included),
        left_over_ids=tuple(left_over),
        story_count=shown,
        left_over_count=hidden,
    )
