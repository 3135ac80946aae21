"""The trend chart as a PNG: matplotlib's object API on the Agg canvas (no display, no pyplot state, so it
is safe in a worker thread), 1200×675 px, the Okabe–Ito colour-blind-safe palette, dates in the chat's
language and never overlapping."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from bot.core.i18n import Translator
from bot.core.trends.series import TrendSeries

WIDTH, HEIGHT, DPI = 1200, 675, 100
# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency; styles differ too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D")
MAX_DATE_TICKS = 9  # about 120 px per label at 1200 px: dates never overlap
LEGEND_HEADROOM = 1.35  # y range above the peak: room for three legend rows


def render_png(series: Sequence[TrendSeries], t: Translator) -> bytes:
    """One line per query over the same period, with a legend, a title and gridlines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    # fixed margins (room for 5-digit counts and the last date): a constrained layout costs a third more CPU
    figure.subplots_adjust(left=0.075, right=0.96, top=0.9, bottom=0.15)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    period = series[0].period
    points = [one.points() for one in series]
    xs = list(range(len(points[0])))
    many = len(xs) > 45  # markers on a dense line are clutter
    for i, (one, pts) in enumerate(zip(series, points, strict=True)):
        axes.plot(
            xs, [n for _, n in pts], color=PALETTE[i % len(PALETTE)], linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            marker=None if many else MARKERS[i % len(MARKERS)], markersize=5, linewidth=2.2,
            label=f"{one.label} ({t.number(one.total)})",
        )
    dates = [d for d, _ in points[0]]
    ticks = _tick_positions(len(dates))
    axes.set_xticks(ticks, _tick_labels([dates[i] for i in ticks], t))
    axes.set_xlim(-0.5, len(xs) - 0.5)
    peak = max((n for pts in points for _, n in pts), default=0)
    axes.set_ylim(0, max(1, peak) * LEGEND_HEADROOM)  # the legend sits above the highest point, never on a line
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(True, color="#d0d0d0", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=12)
    axes.set_ylabel(t("Articles per week") if period.weekly else t("Articles per day"), fontsize=13)
    axes.set_xlabel(
        t("Week starting (Monday)") if period.weekly else t("Publication date"), fontsize=13
    )
    title = t("How often the archive names {queries}", queries=", ".join(s.label for s in series))
    axes.set_title(title, fontsize=17, loc="left", pad=14)
    figure.text(
        0.995, 0.005, f"{t.date(period.start)} – {t.date(period.end)}",
        ha="right", va="bottom", fontsize=10, color="#555555",
    )
    axes.legend(fontsize=12, frameon=False, loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _tick_positions(count: int) -> list[int]:
    """Evenly spaced, always including the last point (today / this week)."""
    step = max(1, -(-count // MAX_DATE_TICKS))
    positions = list(range(count - 1, -1, -step))
    return sorted(positions)


def _tick_labels(days: list[date], t: Translator) -> list[str]:
    """"3 Jun" / "3. Juni"; the year under the first label and wherever it changes."""
    labels = []
    for i, day in enumerate(days):
        label = t.date(day, "d MMM")
        if i == 0 or days[i - 1].year != day.year:
            label += f"\n{day.year}"
        labels.append(label)
    return labels
