"""Text helpers shared by every format: decoding, cleaning, titles, the minimum-length rule, the dedup hash."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bot.core.models import ArticleDraft


def word_set(*groups: str) -> frozenset[str]:
    return frozenset(word for group in groups for word in group.split())


# Binary formats people upload by mistake, named so the rejection says what the file actually was.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP/Office"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x7fELF", "executable"),
    (b"SQLite format 3\x00", "SQLite database"),
)
_SNIFF_BYTES = 8192
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# Invisible characters that only ever hide or reorder what a reader sees: bidi embeddings, overrides and
# isolates (a title that reads backwards), zero-width and word-joiner characters ("Pu\u200btin" would
# neither match nor look different), soft hyphens, interlinear annotations and Unicode tag characters.
# Joiners (ZWJ/ZWNJ) stay except between Latin letters: emoji and Indic/Persian text need them.
_INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f"
)
_CONTROL = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_INVISIBLE}]|(?<=[A-Za-z\u00c0-\u024f])[\u200c\u200d](?=[A-Za-z\u00c0-\u024f])"
)
_HSPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ODD_CHARS = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_INVISIBLE}\u200c\u200d\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)
_SPACES = re.compile(r"  +")
_BLANK_LINES = re.compile(r"\n{3,}")
_WORD = re.compile(r"\w+")
# http(s), an ASCII host of letters, digits, dots and hyphens (no user, port or IPv6 brackets), then the path,
# query or fragment or nothing: urlsplit would find that scheme and host, so the link is kept as written.
# Spelled out, not IGNORECASE: that would let "ſ" (long s) and the Kelvin sign stand for ASCII letters.
_PLAIN_URL = re.compile(r"[hH][tT][tT][pP][sS]?://[A-Za-z0-9.-]+(?=[/?#]|\Z)")
_NON_WORD = re.compile(r"[\W_]+")

MIN_ARTICLE_CHARS = 40  # below this many characters of words a "text" is a fragment, not an article
TITLE_MAX_CHARS = 120


class NotText(ValueError):
    """The bytes are not a text document (binary, or an encoding we cannot make sense of)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    repair: str = ""  # "decoded as cp1252" when we had to guess the encoding


def binary_kind(head: bytes) -> str | None:
    """A short description when ``head`` (the first bytes of a file) is clearly not text, else None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return f"binary file ({kind})"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text legitimately contains NUL bytes
    if b"\x00" in head[:_SNIFF_BYTES]:
        return "binary file (contains NUL bytes)"
    return None


def decode_bytes(data: bytes) -> Decoded:
    """UTF-8 (with or without BOM) or UTF-16 with BOM as-is; otherwise cp1252, then latin-1, as a repair.

    Raises :class:`NotText` for binary data.
    """
    kind = binary_kind(data[:_SNIFF_BYTES])
    if kind:
        raise NotText(kind)
    decoded = _decode(data)
    if _looks_binary(decoded.text):
        raise NotText("not a text file (undecodable bytes)")
    return decoded


def _decode(data: bytes) -> Decoded:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise NotText("undecodable UTF-16 text") from exc
    try:
        return Decoded(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(data.decode("cp1252"), "decoded as cp1252")
    except UnicodeDecodeError:
        # latin-1 maps every byte, so this cannot fail; the control-character check catches garbage.
        return Decoded(data.decode("latin-1"), "decoded as latin-1")


def _looks_binary(text: str) -> bool:
    # A stray control byte happens in real text; many of them mean the bytes were never text.
    sample = text[:_SNIFF_BYTES]
    controls = len(_BINARY_CONTROLS.findall(sample))
    return controls > max(8, len(sample) // 50)


def clean_text(text: str) -> str:
    """Normalise line breaks and spaces, drop control characters, keep paragraphs (blank-line separated)."""
    # Each pass runs only when its pattern can occur: most corpus texts are already clean, and this
    # function sits on the hot path of bulk ingestion.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _may_hold_odd_chars(text) and _ODD_CHARS.search(text):
        text = _HSPACE.sub(" ", _CONTROL.sub("", text))
    if "  " in text:
        text = _SPACES.sub(" ", text)
    if " \n" in text or "\n " in text:
        # what re.sub(r" *\n *", "\n", text) gives, but for the ends of the text, which strip() removes below:
        # the regex tried a match at every character of a long text (a sixth of parsing a German article)
        text = "\n".join(line.strip(" ") for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _may_hold_odd_chars(text: str) -> bool:
    """False when ``text`` certainly holds no character of ``_ODD_CHARS``: every one of them is unprintable
    and none is a line break (a test checks every code point), so a printable text without its line breaks
    has none. Two passes at C speed instead of the regex's character class over every character."""
    return not text.isprintable() and not text.replace("\n", " ").isprintable()


def clean_line(text: str) -> str:
    """A one-line string (titles): every run of whitespace becomes one space."""
    if not text.isprintable():  # every character _CONTROL removes is unprintable: most titles skip the regex
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def clean_url(url: str | None) -> str | None:
    """An absolute http(s) link with its host in ASCII (``xn--…`` for international names, so a lookalike
    such as Cyrillic "pаypal.com" shows as what it is), or ``None``: ``javascript:``, ``data:``, relative
    and malformed links cannot be opened safely from a chat."""
    if not url:
        return None
    text = url.strip()
    if has_space_or_control(text):
        return None
    if _PLAIN_URL.match(text):
        return text  # what the parse below returns for it, without the parse (most feed links look so)
    return _checked_url(text)


def _checked_url(text: str) -> str | None:
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if host.isascii():
        return text
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def has_space_or_control(text: str) -> bool:
    """Whether ``text`` holds whitespace or a character of Unicode category C (control, format, private,
    unassigned). ``str.isprintable`` is false exactly for categories C and Z except the plain space, and every
    Z character is whitespace, so this is the per-character test at C speed (it ran for every feed link)."""
    return " " in text or not text.isprintable()


def word_chars(text: str) -> int:
    """Length of the text's words joined by single spaces: punctuation and layout do not count."""
    words = _WORD.findall(text)
    return sum(map(len, words)) + max(len(words) - 1, 0)


def is_long_enough(text: str) -> bool:
    if len(text) < MIN_ARTICLE_CHARS:
        return False
    # Most texts pass on a short prefix; growing the window keeps this cheap on big corpora.
    for window in (100, 400):
        part = text[:window]
        if _ascii_word_letters(part) >= MIN_ARTICLE_CHARS or word_chars(part) >= MIN_ARTICLE_CHARS:
            return True
        if len(text) <= window:
            return False
    return word_chars(text) >= MIN_ARTICLE_CHARS


def _ascii_word_letters(text: str) -> int:
    """How many word characters (``\\w``) an ASCII ``text`` holds, counted by a byte table; 0 for other text.
    A lower bound of :func:`word_chars` (which adds the spaces between words), so a text it finds long
    enough is long enough, without building the list of its words (that was a seventh of parsing)."""
    if not text.isascii():
        return 0
    return len(text.encode("ascii").translate(None, _ASCII_NON_WORD_BYTES))


_ASCII_NON_WORD_BYTES = bytes(code for code in range(128) if not (chr(code).isalnum() or chr(code) == "_"))


def hash_key(text: str) -> str:
    """Compatibility-normalised, case-folded words only: trivial edits (quotes, dashes, spacing) vanish."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _ascii_hash_key(text: str) -> bytes:
    """:func:`hash_key` of ASCII text, as bytes: NFKC changes no ASCII character, casefold is lower(), and
    ``[\\W_]`` is "not a letter or digit", so a byte table does the regex's work (most feed items are ASCII)."""
    return b" ".join(text.encode("ascii").lower().translate(_ASCII_WORD_BYTES).split())


_ASCII_WORD_BYTES = bytes(code if chr(code).isalnum() else 0x20 for code in range(128)).ljust(256, b" ")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# ASCII letters and digits kept, every other ASCII byte a space, UTF-8 bytes of other characters kept.
_UTF8_WORD_BYTES = bytes(code if code >= 0x80 or chr(code).isalnum() else 0x20 for code in range(256))
_MAX_REPLACED = 16  # distinct non-ASCII separators replaced one by one (real texts have a handful)


def _unicode_hash_key(text: str) -> bytes:
    """:func:`hash_key` as UTF-8 bytes, without the regex over the whole text (it was an eighth of parsing).
    ``[\\W_]`` matches exactly the characters that are not ``str.isalnum`` (the regex engine's word test is
    that same check plus "_"), so: the few distinct non-ASCII characters that are not letters or digits
    (curly quotes, dashes) become spaces, the ASCII ones through a byte table, and the words are joined
    by single spaces as the regex and ``strip`` leave them. Letters of other scripts stay as they are."""
    # Most texts are NFKC already; the check is several times cheaper than normalising (same result).
    normal = text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
    folded = normal.casefold()
    separators = [char for char in set(_NON_ASCII.findall(folded)) if not char.isalnum()]
    if len(separators) > _MAX_REPLACED:  # one pass per character would be quadratic: the regex is linear
        return _NON_WORD.sub(" ", folded).strip().encode("utf-8")
    for char in separators:
        folded = folded.replace(char, " ")
    return b" ".join(folded.encode("utf-8").translate(_UTF8_WORD_BYTES).split())


def content_hash(draft: ArticleDraft) -> str:
    """SHA-256 (hex) of the normalised title and body, so re-sent copies with trivial edits dedupe."""
    text = f"{draft.title}\n{draft.body}"
    key = _ascii_hash_key(text) if text.isascii() else _unicode_hash_key(text)
    return hashlib.sha256(key).hexdigest()


# --- titles -------------------------------------------------------------------------------------------------

# A full stop after these words does not end a sentence ("Dr. Müller", "z. B. Berlin", "No. 10").
_ABBREVIATIONS = word_set(
    "dr prof mr mrs ms st jr sr sen rep gov gen col lt capt sgt mt no nr vol inc ltd co corp",
    "dept univ est vs etc al approx ca bzw bspw ggf usw vgl evtl inkl exkl abs art hl str tel ing dipl mag min max",
    "jan feb mar apr jun jul aug sep sept oct okt nov dec dez",
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»«)\]]*(?=\s+[\"'„“«»(\[]?[A-ZÀ-ÖØ-Þ0-9])")
_WORD_BEFORE = re.compile(r"(\w+)\W*$")


def first_sentence(text: str) -> str:
    for match in _SENTENCE_END.finditer(text):
        # Only the word just before the full stop matters; a bounded window keeps long lines linear.
        if match.group().startswith(".") and _is_abbreviation(text[max(0, match.start() - 40) : match.start()]):
            continue
        return text[: match.end()].strip()
    return text.strip()


def _is_abbreviation(before: str) -> bool:
    word = _WORD_BEFORE.search(before)
    if word is None:
        return False
    token = word.group(1)
    # Ordinals and dates ("4. September"), initials ("J. R. R."), and known abbreviations.
    return token.isdigit() or len(token) == 1 or token.casefold() in _ABBREVIATIONS


def shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary and marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—(") + "…"


def derive_title(body: str) -> str:
    """The first sentence of the first non-empty line, ≤ 120 characters; "" for an empty body."""
    for line in body.splitlines():
        line = clean_line(line)
        if line:
            sentence = first_sentence(line)
            if sentence.endswith(".") and not sentence.endswith(".."):
                sentence = sentence[:-1].rstrip()  # headlines carry no full stop
            return shorten(sentence)
    return ""
