"""Near-duplicate sketches of articles: hashed title words plus a bottom-k MinHash of word 3-shingles.

A fingerprint is a short string stored per article and compared with :func:`similar`; the sketch values
also serve as index keys, so folding a large digest never compares every pair.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

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
class Sketch:
    title: frozenset[int]
    body: frozenset[int]

    @property
    def short(self) -> bool:
        """Fewer shingles than the sketch holds: a teaser, where word overlap says little on its own."""
        return len(self.body) < _SKETCH_SIZE


def parse_sketch(fp: str) -> Sketch | None:
    parts = fp.split(":")
    if len(parts) != 3 or parts[0] != _FINGERPRINT_VERSION:
        return None
    try:
        return Sketch(_decode(parts[1]), _decode(parts[2]))
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
_TITLE_BACKUP_BODY = 0.15  # long texts with equal titles still need some shared wording (daily live blogs)


def similar_sketches(a: Sketch, b: Sketch) -> bool:
    body = _jaccard_bottom_k(a.body, b.body)
    if body >= BODY_THRESHOLD:
        return True
    if min(len(a.title), len(b.title)) < 3 or _jaccard(a.title, b.title) < TITLE_THRESHOLD:
        return False
    return a.short or b.short or body >= _TITLE_BACKUP_BODY


def similar(fp_a: str, fp_b: str) -> bool:
    """Whether two fingerprints look like the same story. Malformed or empty fingerprints never match."""
    a, b = parse_sketch(fp_a), parse_sketch(fp_b)
    return a is not None and b is not None and similar_sketches(a, b)


def index_keys(sketch: Sketch) -> Iterable[tuple[str, int]]:
    """Prefix filtering: two sets that reach a similarity threshold must share a value among their
    smallest few, so only those need indexing. For the bottom-k estimate ≥ 0.5 at most 32 unshared values
    precede the first shared one, for titles at Jaccard ≥ t it is |T| − ⌈t·|T|⌉ values."""
    body = sorted(sketch.body)
    yield from (("b", value) for value in body[: _SKETCH_SIZE - math.ceil(BODY_THRESHOLD * _SKETCH_SIZE) + 1])
    title = sorted(sketch.title)
    yield from (("t", value) for value in title[: len(title) - math.ceil(TITLE_THRESHOLD * len(title)) + 1])
