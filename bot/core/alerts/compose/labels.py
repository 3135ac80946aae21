"""The few words an alert or digest needs, through the one translator (``bot.core.i18n``).

English text stays here at the call site; German lives in the gettext catalog. ``{p}`` in a text is the
command prefix of the platform the alert goes to, so the digest hint reads ``/digest`` or ``!digest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.i18n import DEFAULT_PREFIX, Translator, translator


@dataclass(frozen=True, slots=True)
class Labels:
    """Alert and digest wording for one chat language and one platform's command prefix."""

    t: Translator

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def prefix(self) -> str:
        return self.t.prefix

    @property
    def matched(self) -> str:
        return self.t("matched")

    @property
    def untitled(self) -> str:
        return self.t("(untitled)")

    @property
    def more_button(self) -> str:
        """The button under a capped digest that fetches the rest."""
        return self.t("Show the rest")

    def sources(self, n: int) -> str:
        return self.t.plural("{n} source", "{n} sources", n)

    def heading(self, n: int) -> str:
        return self.t.plural("Your news digest: {n} story", "Your news digest: {n} stories", n)

    def more_line(self, n: int) -> str:
        return self.t.plural("+{n} more — send {p}digest for the rest", "+{n} more — send {p}digest for the rest", n)

    def format_date(self, value: date) -> str:
        # A CLDR date pattern, translated like a message: "12 Mar 2026" in English, "12.03.2026" in German.
        return self.t.date(value, self.t("d MMM y"))

    def with_prefix(self, prefix: str) -> Labels:
        return Labels(self.t.with_prefix(prefix))


def labels_for(lang: str | None, prefix: str = DEFAULT_PREFIX) -> Labels:
    """Labels for a chat language such as ``"de"`` or ``"de-AT"``; English for anything unknown."""
    return Labels(translator((lang or "").strip() or None, prefix))
