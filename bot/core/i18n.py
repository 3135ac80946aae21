"""One translator for every user-facing text, backed by gettext catalogs.

English text stays at the call site — ``t("Subscribed: <b>{query}</b>", query=...)`` — so searching for a
reply lands on the code that sends it. German (and any further language) lives in
``config/locales/<lang>/LC_MESSAGES/newsalert.po``; the catalogs are compiled in memory by Babel the first
time a translator is asked for, so there is no build step to forget.

Placeholders use ``str.format`` names. ``{p}`` is always available: the command prefix of the platform the
text goes to (``/`` on Telegram and the console, ``!`` on Matrix), so ``"Send {p}help"`` reads right
everywhere. Literal braces in a message are doubled (``{{``).

Extraction keywords (Babel): ``t`` and ``N_`` for one message, ``plural:1,2`` for singular/plural pairs.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

# The one list of supported languages: code → its own name. Adding a language is a .po file plus a line here.
LANGUAGES: Mapping[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LANG = "en"
DOMAIN = "newsalert"
LOCALES_DIR = Path(__file__).resolve().parents[2] / "config" / "locales"

DEFAULT_PREFIX = "/"
# Languages that write small whole numbers in plain ASCII digits, as Python does (checked by a test)
_PLAIN_DIGITS = frozenset({"en", "de"})


def N_(message: str) -> str:  # the gettext convention: mark now, translate where shown
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


class Refusal(Exception):
    """A request that changes nothing, with the reason for the user: ``message`` is English text marked with
    ``N_`` (translated where it is shown), ``values`` fill its placeholders."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


def supported(lang: str | None) -> str:
    """The supported language a hint such as ``de-AT`` or ``en_GB`` stands for, else the default."""
    if not lang:
        return DEFAULT_LANG
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANG


@functools.cache
def _catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of one language (cached: catalogs are read-only shipped data)."""
    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT_LANG or not po.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True, slots=True)
class Translator:
    """Translates and fills one message for one language and one platform's command prefix."""

    lang: str = DEFAULT_LANG
    prefix: str = DEFAULT_PREFIX

    def __call__(self, message: str, /, **values: Any) -> str:
        return self._fill(_catalog(self.lang).gettext(message), values)

    def plural(self, singular: str, plural: str, count: int, /, **values: Any) -> str:
        """``count`` chooses the form (by the language's plural rule) and fills ``{n}``."""
        text = _catalog(self.lang).ngettext(singular, plural, count)
        return self._fill(text, {"n": self.number(count), **values})

    def with_prefix(self, prefix: str) -> Translator:
        return Translator(self.lang, prefix)

    def number(self, value: float) -> str:
        if type(value) is int and 0 <= value < 1000 and self.lang in _PLAIN_DIGITS:
            return str(value)  # what Babel writes for these (no grouping yet), without loading its locale data
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.lang)

    def date(self, value: date | datetime, fmt: str = "medium") -> str:
        from babel.dates import format_date

        return format_date(value, format=fmt, locale=self.lang)

    def _fill(self, text: str, values: Mapping[str, Any]) -> str:
        return text.format_map({"p": self.prefix, **values})


def translator(lang: str | None, prefix: str = DEFAULT_PREFIX) -> Translator:
    return Translator(supported(lang), prefix)
