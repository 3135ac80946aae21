"""Sentence splitting for German and English news text.

Text is first cut into blocks (paragraphs, list items, sub-headings), then each block into sentences.
A full stop ends a sentence unless what precedes it is an abbreviation, an initial, an ordinal number
("am 4. September", "vom 10. bis zum 13."), or the next word starts in lower case.
"""

from __future__ import annotations

import re

from bot.core.lang import detect_language
from bot.core.summary.text import normalize, word_set

# Never end a sentence: titles and abbreviations that are followed by a name, a number or more text.
_NEVER_FINAL = word_set(
    """
    abs abt adm allg anm art bd bzgl bzw ca capt chr col dipl dr evtl fa fig fr frl gen geb gest ggf gov
    hl hr hrsg inkl ing jh jhd kap lt mag max med min mr mrs ms mt nr no prof rep rev sen sgt sog st str
    tel univ vgl vol vs zb zzgl ziff approx dept est ft mio mrd tsd bspw usf lit nat phil jur rer
    """
)
# Usually inside a sentence, but may end one ("... in the U.S. The ..."); split only before a typical
# sentence opener.
_MAYBE_FINAL = word_set(
    """
    etc usw inc ltd co corp jr sr bros jan feb mar apr jun jul aug sep sept oct okt nov dec dez
    """
)

_MONTHS = word_set(
    """
    januar jänner februar märz april mai juni juli august september oktober november dezember jan feb
    mär mar apr jun jul aug sep sept okt oct nov dez dec january february march may june july october
    december
    """
)
# Words before a number that make it an ordinal or a date ("am 4.", "vom 10.", "der 2. Weltkrieg").
_ORDINAL_CONTEXT = word_set(
    """
    am vom zum zur bis ab seit dem den der die das des ihr ihre ihrem ihren sein seine seinem seinen im
    beim jeden jede jedem ins dieses diesem dieser heute morgen gestern zwischen und oder bzw nächsten
    letzten
    """
)
# Capitalised words that typically open a sentence (function words), both languages.
_OPENERS = word_set(
    """
    der die das den dem des ein eine einer einem er sie es wir ich ihr man im in am auf auch aber doch
    dann damit dabei dazu zudem nach bei mit für als wie wenn seit laut so nun jetzt bereits diese
    dieser dieses dies zuvor später trotz vor zu zum zur von vom über unter während weil da dort hier
    nicht kein keine the a an he she it they we i you this that these those in on at but and however
    meanwhile there his her its their our after before when while if as for with by from also yet still
    so then mr mrs ms
    """
)
_DOTTED = re.compile(r"^(?:[^\W\d_]{1,4}\.)+[^\W\d_]{1,4}$")
_ROMAN = re.compile(r"^[IVXLC]{2,6}$")
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then white space.
_BOUNDARY = re.compile(r"(?:[.!?]+|…|\.\.\.)[\"'”“’»«›‹)\]]*\s+")
_OPENING = "\"'„“”‚‘»«›‹([–-"
_BULLET = re.compile(r"^(?:[•▪◦●■□►▶➤✓✔*·]|[-–—](?=\s)|\d{1,2}[.)](?=\s))\s*")
_TERMINAL = ".!?…:;\"'”“’»«›‹)]"


def split_blocks(text: str) -> list[str]:
    """Paragraphs, list items and sub-headings, in order; hard-wrapped lines are joined again."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", normalize(text)):
        lines = [line for line in paragraph.split("\n") if line]
        current = ""
        for line in lines:
            if current and _continues(current, line):
                current = f"{current} {line}"
                continue
            if current:
                blocks.append(current)
            current = line
        if current:
            blocks.append(current)
    return blocks


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` continues ``previous`` (a hard wrap) rather than starting a new block."""
    if _BULLET.match(line) or previous.endswith(tuple(".!?…:")):
        return False
    first = line.lstrip(_OPENING)[:1]
    # A long unpunctuated line is a wrapped sentence; a short one is a heading unless the text goes on
    # in lower case.
    return first.islower() or len(previous) >= 60


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """All sentences of ``text`` in order; a line without end punctuation (a sub-heading) is its own unit."""
    lang = lang or detect_language(text)
    return [sentence for block in split_blocks(text) for sentence in split_block(block, lang)]


def split_block(block: str, lang: str) -> list[str]:
    """Sentences of one block (no line breaks inside)."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(block):
        if _is_boundary(block, start, match, lang):
            sentences.append(block[start : match.end()].strip())
            start = match.end()
    rest = block[start:].strip()
    if rest:
        sentences.append(rest)
    return [s for s in sentences if s]


def _is_boundary(block: str, start: int, match: re.Match[str], lang: str) -> bool:
    following = block[match.end() :]
    next_word = _next_word(following)
    if not next_word:
        return False
    first = next_word[0]
    if first.islower():
        return False
    if not (first.isupper() or first.isdigit()):
        return False
    if _inside_brackets(block[start : match.start()], following):
        return False
    punct = match.group(0).rstrip()
    if not punct.startswith(".") or punct.startswith("..."):
        return True
    return _period_ends_sentence(block[start : match.start()], next_word, lang)


def _next_word(text: str) -> str:
    return re.match(r"[^\w]*?(\w[\w.'’-]*)", text).group(1) if re.match(r"[^\w]*?\w", text) else ""


def _inside_brackets(before: str, after: str) -> bool:
    """A full stop inside a parenthesis that closes later in the block does not end the sentence."""
    depth = before.count("(") - before.count(")")
    return depth > 0 and ")" in after


def _period_ends_sentence(before: str, next_word: str, lang: str) -> bool:
    token = re.search(r"(\S*)$", before).group(1).lstrip(_OPENING)
    bare = token.replace(".", "").casefold()
    opener = next_word.casefold() in _OPENERS
    if not token:
        return True
    if len(bare) == 1 and bare.isalpha():
        return False  # initials ("John F. Kirby") and "z. B.", "u. a."
    if _DOTTED.match(token):  # "U.S.", "z.B.", "e.g."
        return opener
    if bare in _NEVER_FINAL:
        return False
    if bare in _MAYBE_FINAL:
        return opener
    if token.isdigit() and len(token) <= 2:
        return _number_ends_sentence(before, next_word, lang, opener)
    if _ROMAN.match(token):  # "Benedikt XVI. sagte"
        return opener
    return True


def _number_ends_sentence(before: str, next_word: str, lang: str, opener: bool) -> bool:
    """'am 4. September' and 'der 2. Weltkrieg' are ordinals; 'verlor 2:1. Dann' and 'age 25. The' are not."""
    if next_word.casefold().rstrip(".") in _MONTHS:
        return False
    previous = re.findall(r"[\w]+", before)
    if len(previous) >= 2 and previous[-2].casefold() in _ORDINAL_CONTEXT:
        return False
    if opener:
        return True
    return lang != "de"
