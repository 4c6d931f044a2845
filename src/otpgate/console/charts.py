"""Conversion by day as SVG geometry, drawn on the server: the page needs no script for it."""

from __future__ import annotations

from dataclasses import dataclass

from otpgate.service.analytics import SummaryRow

WIDTH = 720
HEIGHT = 240
LEFT = 44  # room for the counts' axis labels
RIGHT = 44  # room for the conversion axis labels
TOP = 12
BOTTOM = 28  # room for the day labels


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    started_y: float
    started_height: float
    approved_y: float
    approved_height: float
    label: str  # the tooltip: day, counts and conversion


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    text: str


@dataclass(frozen=True)
class ConversionChart:
    width: int
    height: int
    left: int
    right: float
    baseline: float
    bars: list[Bar]
    line: str  # polyline points of the conversion rate, days with verifications only
    points: list[Point]  # the same points, marked: a single day is a dot, not a line
    count_ticks: list[Tick]
    rate_ticks: list[Tick]
    day_labels: list[DayLabel]
    summary: str  # the chart in words, for screen readers


def axis_top(peak: int) -> int:
    """The counts' axis ends at 2, 4 or 10 times a power of ten: its middle is a whole number."""
    scale = 1
    while True:
        for top in (2 * scale, 4 * scale, 10 * scale):
            if top >= peak:
                return top
        scale *= 10


def conversion_chart(days: list[SummaryRow]) -> ConversionChart:
    """Bars: verifications a day, the approved part darker; the line: the conversion rate."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    peak = axis_top(max([day.verifications for day in days] + [0]))
    step = plot_width / max(len(days), 1)
    bars: list[Bar] = []
    points: list[Point] = []
    for index, day in enumerate(days):
        x = LEFT + index * step
        started = plot_height * day.verifications / peak
        approved = plot_height * day.approved / peak
        rate = day.conversion_rate
        label = f"{day.key}: {day.verifications} started, {day.approved} approved"
        if rate is not None:
            label += f", {rate * 100:.1f}% conversion"
            points.append(Point(round(x + step / 2, 1), round(baseline - plot_height * rate, 1)))
        bars.append(
            Bar(
                x=round(x + step * 0.15, 1),
                width=round(step * 0.7, 1),
                started_y=round(baseline - started, 1),
                started_height=round(started, 1),
                approved_y=round(baseline - approved, 1),
                approved_height=round(approved, 1),
                label=label,
            )
        )
    every = max(1, len(days) // 6)
    total = sum(day.verifications for day in days)
    approved_total = sum(day.approved for day in days)
    return ConversionChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        baseline=baseline,
        bars=bars,
        line=" ".join(f"{point.x},{point.y}" for point in points),
        points=points,
        count_ticks=[
            Tick(round(baseline - plot_height * share, 1), str(int(peak * share)))
            for share in (0, 0.5, 1)
        ],
        rate_ticks=[
            Tick(round(baseline - plot_height * share, 1), f"{share * 100:.0f}%")
            for share in (0, 0.5, 1)
        ],
        day_labels=[
            DayLabel(round(LEFT + index * step + step / 2, 1), day.key[5:])
            for index, day in enumerate(days)
            if index % every == 0
        ],
        summary=(
            f"{len(days)} days from {days[0].key if days else '—'}: {total} verifications, "
            f"{approved_total} approved"
        ),
    )
