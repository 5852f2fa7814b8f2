"""counter/dashboard.py: the chart's date ticks and its smallest bars."""

import datetime as dt

from counter import dashboard, services

TODAY = dt.date(2026, 11, 23)


def _days(views_by_offset: dict[int, int], count: int = 30) -> list[services.DayStats]:
    """`count` days ending today, oldest first; views (and as many uniques) on the given days."""
    return [
        services.DayStats(
            day=TODAY - dt.timedelta(days=offset),
            views=views_by_offset.get(offset, 0),
            uniques=views_by_offset.get(offset, 0),
        )
        for offset in range(count - 1, -1, -1)
    ]


def test_the_axis_dates_today_and_every_seventh_day_before_it():
    bars, _ = dashboard.chart_bars(_days({}))
    ticked = [(TODAY - bar.stats.day).days for bar in bars if bar.tick]
    assert ticked == [28, 21, 14, 7, 0]


def test_one_day_of_data_fills_the_chart_under_a_dated_axis():
    bars, peak = dashboard.chart_bars(_days({0: 3}))
    assert peak == 3
    assert bars[-1].views_height == dashboard.CHART_HEIGHT
    assert bars[-1].tick
    assert [bar.views_height for bar in bars[:-1]] == [0.0] * 29


def test_a_quiet_day_stays_visible_next_to_a_busy_one():
    bars, _ = dashboard.chart_bars(_days({0: 5000, 1: 1}))
    assert bars[-2].views_height == dashboard.MIN_BAR_HEIGHT
    assert bars[-2].views_y == dashboard.CHART_HEIGHT - dashboard.MIN_BAR_HEIGHT


def test_a_single_day_chart_has_its_one_tick():
    bars, _ = dashboard.chart_bars(_days({0: 1}, count=1))
    assert [bar.tick for bar in bars] == [True]


def test_a_week_dates_every_day():
    bars, _ = dashboard.chart_bars(_days({}, count=7))
    assert all(bar.tick for bar in bars)
