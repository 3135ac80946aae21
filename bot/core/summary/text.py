"""Text primitives shared by the summariser: normalisation, word tokens, stop words, language guess."""

from __future__ import annotations

import re
import unicodedata

# Invisible characters that extraction leaves behind and that would split or glue words.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u202f]+")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

def word_set(text: str) -> frozenset[str]:
    """A word list written as white-space separated text (easier to read and edit than quoted items)."""
    return frozenset(text.split())


STOPWORDS_DE = word_set(
    """
    aber als also am an auch auf aus bei beim bereits bis bisher da dabei dadurch dafür daher damit dann
    darauf darin darüber das dass dem den denen denn der deren des dessen dies diese diesem diesen
    dieser dieses doch dort durch ebenfalls ein eine einem einen einer eines er es etwa für gegen
    gewesen hab habe haben hat hatte hatten hier hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im
    in indem ins ist jedoch jetzt kann kein keine können konnte laut man mehr mit muss nach nachdem
    neben nicht noch nun nur ob oder ohne seien sein seine seinem seinen seiner seit sei sich sie sind
    so soll sollen sollte sowie über um und uns unter vom von vor wann war waren warum was weil weiter
    welche welcher wenn wer werde werden wie wieder will wir wird wo wollen wurde wurden zu zum zur zwar
    zwischen
    """
)
STOPWORDS_EN = word_set(
    """
    a about after again against all also an and any are as at be because been before being between both
    but by can could did do does during each few for from further had has have having he her here hers
    him his how i if in into is it its itself just me more most mr mrs ms my no nor not now of off on
    once only or other our out over own said same says she should so some such than that the their them
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your
    """
)
STOPWORDS = STOPWORDS_DE | STOPWORDS_EN


def normalize(text: str) -> str:
    """NFC, unified line ends, no invisible characters, single spaces inside lines."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def words(text: str) -> list[str]:
    """Word tokens as written (letters and digits, inner hyphens and apostrophes kept)."""
    return _WORD.findall(text)


def stems(text: str) -> list[str]:
    """Content-word stems for similarity: lower-cased, stop words dropped, cut to a 6-letter prefix.

    A prefix is a crude but language-neutral stem: it joins "Waffen"/"Waffendeal" and "adopt"/"adoptieren"
    without a dictionary, which is what sentence similarity inside one article needs.
    """
    result = []
    for word in words(text):
        lower = word.casefold()
        if lower in STOPWORDS or (len(lower) < 3 and not lower.isdigit()):
            continue
        result.append(lower[:6])
    return result
