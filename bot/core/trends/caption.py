"""The chart's caption (safe HTML): per query the total, the busiest day, the change against the previous
period and the entities most often named alongside; and the sentence for an empty result."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.core.i18n import Translator
from bot.core.trends.periods import Period
from bot.core.trends.series import TrendSeries

MAX_CO_MENTIONS = 5


def heading(period: Period, t: Translator) -> str:
    return t.plural(
        "<b>Articles of the last day</b> (up to {end})",
        "<b>Articles of the last {n} days</b> (up to {end})",
        period.days,
        end=t.date(period.end),
    )


def series_line(series: TrendSeries, t: Translator) -> str:
    parts = [
        f"<b>{html.escape(series.label)}</b>: "
        + t.plural("{n} article", "{n} articles", series.total)
    ]
    busiest = series.busiest
    if busiest is not None:
        parts.append(t("busiest day {day} ({count})", day=t.date(busiest[0]), count=t.number(busiest[1])))
    parts.append(change_text(series, t))
    return " · ".join(parts)


def change_text(series: TrendSeries, t: Translator) -> str:
    days = series.period.days
    change = series.change
    if change is None:
        return t.plural("none in the previous day", "none in the previous {n} days", days)
    from babel.numbers import format_percent

    shown = format_percent(change, locale=t.lang)
    shown = "+" + shown if change > 0 else shown.replace("-", "−")
    return t.plural(
        "{change} against the previous day", "{change} against the previous {n} days", days, change=shown
    )


def co_mention_line(series: TrendSeries, t: Translator) -> str | None:
    if not series.co_mentions:
        return None
    names = ", ".join(f"{html.escape(name)} {t.number(n)}" for name, n in series.co_mentions[:MAX_CO_MENTIONS])
    return t("Most named with {query}: {names}", query=html.escape(series.label), names=names)


def caption(series: Sequence[TrendSeries], t: Translator, pending: int = 0) -> str:
    lines = [heading(series[0].period, t)]
    for one in series:
        lines.append(series_line(one, t))
        extra = co_mention_line(one, t)
        if extra:
            lines.append(extra)
    if pending:
        lines.append(t.plural(
            "<i>Still reading {n} older article; the chart may be incomplete.</i>",
            "<i>Still reading {n} older articles; the chart may be incomplete.</i>",
            pending,
        ))
    return "\n".join(lines)


def empty_text(series: Sequence[TrendSeries], t: Translator) -> str:
    queries = ", ".join(f"<b>{html.escape(s.label)}</b>" for s in series)
    return t.plural(
        "No article of the last day matches {queries}.",
        "No article of the last {n} days matches {queries}.",
        series[0].period.days,
        queries=queries,
    )
