"""counter/dashboard.py: the figures and the chart's geometry."""

import datetime as dt
import itertools

from counter import dashboard, services
from tests.conftest import ALICE

DAY = dt.date(2026, 11, 23)


def _day(offset: int, views: int, uniques: int) -> services.DayStats:
    return services.DayStats(day=DAY - dt.timedelta(days=offset), views=views, uniques=uniques)


def test_the_busiest_day_fills_the_chart_and_others_scale():
    bars, peak = dashboard.chart_bars([_day(2, 5, 2), _day(1, 10, 4), _day(0, 0, 0)])
    assert peak == 10
    heights = [(bar.views_height, bar.uniques_height) for bar in bars]
    assert heights == [(80.0, 32.0), (160.0, 64.0), (0.0, 0.0)]
    assert all(bar.views_y + bar.views_height == dashboard.CHART_HEIGHT for bar in bars)


def test_bars_sit_side_by_side_inside_the_width():
    bars, _ = dashboard.chart_bars([_day(offset, 1, 1) for offset in range(30, 0, -1)])
    assert all(a.x + a.width < b.x for a, b in itertools.pairwise(bars))
    assert bars[-1].x + bars[-1].width <= dashboard.CHART_WIDTH


def test_no_views_at_all_draws_empty_bars():
    bars, peak = dashboard.chart_bars([_day(1, 0, 0), _day(0, 0, 0)])
    assert peak == 0
    assert {bar.views_height for bar in bars} == {0.0}


def test_figures_match_what_the_counter_recorded(moto_table):
    for _ in range(4):
        services.count_increment(visitor=ALICE)
    figures = dashboard.figures_get(days=7)
    assert figures.total == 4
    assert (figures.today.views, figures.today.uniques) == (4, 1)
    assert len(figures.days) == len(figures.bars) == 7
    assert figures.days[-1] == figures.today
