"""The owner's figures, shaped for the admin index: totals and a server-rendered SVG chart."""

from dataclasses import dataclass

from counter import services

CHART_WIDTH = 600
CHART_HEIGHT = 160


@dataclass(frozen=True)
class Bar:
    stats: services.DayStats
    x: float
    width: float
    views_y: float
    views_height: float
    uniques_y: float
    uniques_height: float


@dataclass(frozen=True)
class Figures:
    total: int
    today: services.DayStats
    days: list[services.DayStats]
    bars: list[Bar]
    peak: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def chart_bars(days: list[services.DayStats]) -> tuple[list[Bar], int]:
    """One bar pair per day, scaled so the busiest day fills the chart; and that peak."""
    peak = max((day.views for day in days), default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        views_height = CHART_HEIGHT * day.views / peak if peak else 0.0
        uniques_height = CHART_HEIGHT * day.uniques / peak if peak else 0.0
        bars.append(
            Bar(
                stats=day,
                x=round(index * slot + slot * 0.1, 2),
                width=round(slot * 0.8, 2),
                views_y=round(CHART_HEIGHT - views_height, 2),
                views_height=round(views_height, 2),
                uniques_y=round(CHART_HEIGHT - uniques_height, 2),
                uniques_height=round(uniques_height, 2),
            )
        )
    return bars, peak


def figures_get(*, days: int = 30) -> Figures:
    """Total views and the last `days` days; raises services.CounterUnavailable."""
    total = services.count_get()
    history = services.days_stats(days=days)
    bars, peak = chart_bars(history)
    return Figures(total=total, today=history[-1], days=history, bars=bars, peak=peak)
