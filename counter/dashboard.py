"""The owner's figures, shaped for the admin index: totals and a server-rendered SVG chart."""

from dataclasses import dataclass

from counter import services

# The bars' own coordinate system: the SVG stretches it to the box CSS gives the chart, so the
# labels (dates, the maximum) are HTML around it and keep their size on any screen.
CHART_WIDTH = 600
CHART_HEIGHT = 160
MIN_BAR_HEIGHT = 2.0  # a day with any views stays visible next to a much busier one
TICK_EVERY_DAYS = 7  # the axis names today's date and every 7th day before it


@dataclass(frozen=True)
class Bar:
    stats: services.DayStats
    x: float
    width: float
    views_y: float
    views_height: float
    uniques_y: float
    uniques_height: float
    tick: bool  # the x axis shows this day's date


@dataclass(frozen=True)
class Figures:
    total: int
    today: services.DayStats
    days: list[services.DayStats]
    bars: list[Bar]
    peak: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def _height(value: int, peak: int) -> float:
    if not value or not peak:
        return 0.0
    return max(CHART_HEIGHT * value / peak, MIN_BAR_HEIGHT)


def chart_bars(days: list[services.DayStats]) -> tuple[list[Bar], int]:
    """One bar pair per day, scaled so the busiest day fills the chart; and that peak.

    Today and every TICK_EVERY_DAYS-th day before it carry a date on the axis.
    """
    peak = max((day.views for day in days), default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        views_height = _height(day.views, peak)
        uniques_height = _height(day.uniques, peak)
        bars.append(
            Bar(
                stats=day,
                x=round(index * slot + slot * 0.1, 2),
                width=round(slot * 0.8, 2),
                views_y=round(CHART_HEIGHT - views_height, 2),
                views_height=round(views_height, 2),
                uniques_y=round(CHART_HEIGHT - uniques_height, 2),
                uniques_height=round(uniques_height, 2),
                tick=(len(days) - 1 - index) % TICK_EVERY_DAYS == 0,
            )
        )
    return bars, peak


def figures_get(*, days: int = 30) -> Figures:
    """Total views and the last `days` days; raises services.CounterUnavailable."""
    total = services.count_get()
    history = services.days_stats(days=days)
    bars, peak = chart_bars(history)
    return Figures(total=total, today=history[-1], days=history, bars=bars, peak=peak)
