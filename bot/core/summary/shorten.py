"""Shortening a sentence to the bullet budget at a clause boundary, marked with "…", never mid-word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from bot.core.summary.text import word_set

ELLIPSIS = "…"
# Where a clause may end: before ", ; : – (" or before a subordinating/coordinating word.
# Where a clause may end: at ", ; : – (" or before a conjunction; punctuation is the better place, since
# a conjunction may just join two words ("hochgiftig und explosiv").
_PUNCTUATION_CLAUSE = r"[,;:](?=\s)|\s[–—-](?=\s)|\s(?=\()"
_CONJUNCTION_CLAUSE = (
    r"\s(?=(?:und|oder|aber|sondern|denn|weil|dass|während|nachdem|obwohl|wobei|wie|als|so dass|sodass|sowie"
    r"|einschließlich|and|or|but|while|which|who|because|although|after|as|when|where|whereas|as well as"
    r"|including)\s)"
)
_CLAUSE = re.compile(rf"(?P<punct>{_PUNCTUATION_CLAUSE})|{_CONJUNCTION_CLAUSE}")
_CONJUNCTION_COST = 0.15  # share of the budget a punctuation boundary is worth over a conjunction
_DANGLING = word_set(
    """
    und oder aber sondern denn weil dass der die das den dem des ein eine einer einem eines zu zum zur
    von vom mit für auf an in im am bei nach über unter vor wie als sowie so the a an and or but of to
    in on at by for with from as that which who whose
    """
)
_BRACKETS = re.compile(r"\s*\([^()]{1,60}\)")
# A closing attribution adds a source, not a fact: ", schrieb die Zeitung am Montag.", ", say officials."
_ATTRIBUTION = re.compile(
    r"(?:,|(?<=[\"”“’»«]))\s+(?:sagte|sagten|sagt|schrieb|schreibt|berichtete|berichtet|erklärte|teilte|meldete"
    r"|so|hieß es|said|says|say|told|wrote|reported|added|according to)\b[^,;:]{0,90}?(?P<end>[.!?]?)$"
)
_TRAILING = " ,;:–—-(/\"'„“‚‘»«"
_MIN_SHARE = 0.45  # a clause cut that would keep less than this share of the budget loses too much


def shorten(sentence: str, max_chars: int, keep: Callable[[str], bool] | None = None) -> str:
    """``sentence`` if it fits, else a shorter form: first without bracketed asides, then without a
    closing attribution, and only then its longest clause-bounded (or word-bounded) prefix plus "…".

    With ``keep``, the first of these forms that still passes ``keep`` wins (a bullet must not lose the
    name the reader follows); if none does, the plain result is returned.
    """
    forms = list(_forms(sentence.strip(), max_chars))
    if keep is not None:
        for form in forms:
            if keep(form):
                return form
    return forms[0]


def _forms(sentence: str, max_chars: int) -> Iterator[str]:
    """Fitting forms of ``sentence``, most preferred first."""
    lighter = [sentence, _without_brackets(sentence)]
    lighter.append(_without_attribution(lighter[-1]))
    lighter.append(_without_attribution(sentence))
    for form in lighter:
        if len(form) <= max_chars:
            yield form
    for form in (lighter[2], lighter[1], lighter[3], sentence):
        yield _cut(form, max_chars)
    bridged = _bridged(lighter[1], max_chars)
    if bridged:
        yield bridged


def _bridged(sentence: str, max_chars: int) -> str | None:
    """Opening clauses, "…", and the last clause: for a name that only the closing clause carries
    ("…, so ein Sprecher von Wladimir Putin.")."""
    ends = [m.end() for m in _CLAUSE.finditer(sentence)]
    if not ends:
        return None
    tail = sentence[ends[-1] :].strip()
    room = max_chars - len(tail) - len(ELLIPSIS) - 2
    if room < max_chars * _MIN_SHARE:
        return None
    head = _tidy(_clause_cut(sentence, room) or _word_cut(sentence, room))
    return f"{head} {ELLIPSIS} {tail}" if head else None


def _cut(sentence: str, max_chars: int) -> str:
    limit = max_chars - len(ELLIPSIS)
    if limit <= 0:
        return ELLIPSIS[:max_chars]
    cut = _clause_cut(sentence, limit) or _word_cut(sentence, limit)
    return _tidy(cut) + ELLIPSIS


def _without_brackets(sentence: str) -> str:
    """Asides in brackets (abbreviations, dates, explanations) go first when space is short."""
    return _BRACKETS.sub("", sentence)


def _without_attribution(sentence: str) -> str:
    match = _ATTRIBUTION.search(sentence)
    if not match or match.start() < len(sentence) // 2:
        return sentence
    return sentence[: match.start()].rstrip() + (match.group("end") or "")


def _clause_cut(sentence: str, limit: int) -> str | None:
    best, best_value = None, float("-inf")
    for match in _CLAUSE.finditer(sentence, 0, limit + 1):
        end = match.start()
        if end < limit * _MIN_SHARE:
            continue
        value = end - (0 if match.group("punct") else _CONJUNCTION_COST * limit)
        if value > best_value:
            best, best_value = end, value
    return sentence[:best] if best is not None else None


def _word_cut(sentence: str, limit: int) -> str:
    head = sentence[: limit + 1]
    space = head.rfind(" ")
    # A single word longer than the budget cannot be kept whole; cut it (the only mid-word cut possible).
    return head[:space] if space > 0 else sentence[:limit]


def _tidy(cut: str) -> str:
    """Drop trailing punctuation and dangling function words; do not leave a bracket open."""
    while True:
        cut = cut.rstrip(_TRAILING)
        last_space = cut.rfind(" ")
        if last_space > 0 and cut[last_space + 1 :].casefold() in _DANGLING:
            cut = cut[:last_space]
            continue
        break
    opened = cut.rfind("(")
    if opened > cut.rfind(")") and opened > len(cut) * _MIN_SHARE:
        return _tidy(cut[:opened])
    return cut
