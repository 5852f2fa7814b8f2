"""counter/dashboard.py: the figures and the chart's geometry."""

import datetime as dt

from counter import dashboard, services
from counter.services import days
from tests.conftest import ALICE
from tests.conftest import DAY as TODAY

DAY = dt.date(2026, 11, 23)


def _day(offset: int, views: int, uniques: int) -> services.DayStats:
    return services.DayStats(day=DAY - dt.timedelta(days=offset), views=views, uniques=uniques)


def test_the_busiest_day_fills_the_chart_and_others_scale():
    bars, peak = dashboard.chart_bars([_day(2, 5, 2), _day(1, 10, 4), _day(0, 0, 0)])
    assert peak == 10
    heights = [(bar.views_height, bar.uniques_height) for bar in bars]
    assert heights == [(80.0, 32.0), (160.0, 64.0), (0.0, 0.0)]
    assert all(bar.views_y + bar.views_height == dashboard.CHART_HEIGHT for bar in bars)


def test_each_days_bars_sit_side_by_side_inside_its_own_slot():
    for count in (1, 7, 30):
        bars, _ = dashboard.chart_bars([_day(offset, 3, 1) for offset in range(count, 0, -1)])
        for bar in bars:  # the uniques' bar right of the views' bar, never over it
            assert 0 < bar.x < bar.x + bar.width < bar.uniques_x
            assert bar.uniques_x + bar.width < dashboard.SLOT_WIDTH
            # centred in the slot, so the day's date, centred in its column, is under the pair
            assert bar.x == dashboard.SLOT_WIDTH - (bar.uniques_x + bar.width)
        assert len({(bar.x, bar.uniques_x, bar.width) for bar in bars}) == 1  # one width a day


def test_no_views_at_all_draws_empty_bars():
    bars, peak = dashboard.chart_bars([_day(1, 0, 0), _day(0, 0, 0)])
    assert peak == 0
    assert {bar.views_height for bar in bars} == {0.0}


def test_figures_match_what_the_counter_recorded(moto_table, at_second_20):
    for _ in range(4):
        services.view_count(visitor=ALICE)
    figures = dashboard.figures_get(period="7d")
    assert figures.total == 4
    assert (figures.views, figures.uniques) == (4, 1)
    assert (figures.today.views, figures.today.uniques) == (4, 1)
    assert len(figures.days) == len(figures.bars) == 7
    assert figures.days[-1] == figures.today
    assert figures.sources == [dashboard.Row("not recorded", 4, 100.0)]  # no labels given
    assert not figures.single_day


def test_today_is_a_single_day(moto_table, at_second_20):
    services.view_count(visitor=ALICE)
    figures = dashboard.figures_get(period="today")
    assert figures.single_day
    assert figures.days == [figures.today]
    assert [bar.tick for bar in figures.bars] == [True]


def test_an_unknown_period_is_thirty_days():
    assert dashboard.period_days("nonsense") == dashboard.period_days("30d") == 30
    assert dashboard.period_days("today") == 1


def test_rows_are_sorted_by_views_with_shares_and_other_last():
    rows = dashboard.ranked({"other": 9, "github.com": 3, "linkedin.com": 6}, views=20)
    assert rows == [
        dashboard.Row("linkedin.com", 6, 30.0),
        dashboard.Row("github.com", 3, 15.0),
        dashboard.Row("other", 9, 45.0),
        dashboard.Row("not recorded", 2, 10.0),
    ]
    assert dashboard.ranked({}, views=0) == []
    assert dashboard.ranked({"a": 1, "b": 1}, views=2, rest="no tag") == [
        dashboard.Row("a", 1, 50.0),
        dashboard.Row("b", 1, 50.0),
    ]


LINKS = ["email", "phone", "website", "profile:github", "profile:linkedin", "pdf", "pdf-letter"]


def test_the_csv_has_one_row_per_day_of_the_period_oldest_first(moto_table, at_second_20):
    services.view_count(visitor=ALICE)
    lines = dashboard.figures_csv(period="7d").splitlines()
    assert lines[0] == "date,views,unique_visitors," + ",".join(f"clicks:{x}" for x in LINKS)
    assert len(lines) == 8
    assert lines[-1].endswith(",1,1" + ",0" * len(LINKS))
    assert lines[1] < lines[-1]


def test_the_csv_has_each_days_clicks_per_link_and_any_label_no_longer_on_the_page(
    moto_table, at_second_20
):
    services.view_count(visitor=ALICE)
    days.day_click_add(day=TODAY, link="pdf")
    days.day_click_add(day=TODAY, link="pdf")
    days.day_click_add(day=TODAY, link="profile:github")
    days.day_click_add(day=TODAY - dt.timedelta(days=1), link="profile:mastodon")  # removed since
    lines = dashboard.figures_csv(period="7d").splitlines()
    assert lines[0].split(",")[3:] == [f"clicks:{x}" for x in [*LINKS, "profile:mastodon"]]
    assert lines[-2].split(",")[3:] == ["0"] * len(LINKS) + ["1"]
    assert lines[-1].split(",")[1:] == ["1", "1", "0", "0", "0", "1", "0", "2", "0", "0"]


def test_every_link_is_listed_by_clicks_with_its_share_of_the_views(moto_table, at_second_20):
    for _ in range(4):
        services.view_count(visitor=ALICE)
    for link in ("pdf", "profile:github", "pdf", "pdf-letter", "email", "pdf"):
        days.day_click_add(day=TODAY, link=link)
    figures = dashboard.figures_get(period="today")
    assert [(row.label, row.name, row.clicks, row.share) for row in figures.links] == [
        ("pdf", "PDF, A4", 3, 75.0),
        ("email", "E-mail", 1, 25.0),  # ties in the page's order
        ("profile:github", "GitHub", 1, 25.0),
        ("pdf-letter", "PDF, US Letter", 1, 25.0),
        ("phone", "Phone", 0, 0.0),
        ("website", "Website", 0, 0.0),
        ("profile:linkedin", "LinkedIn", 0, 0.0),
    ]
    assert figures.downloads == 4


def test_a_period_without_views_lists_every_link_at_zero():
    rows = dashboard.links_ranked({"profile:mastodon": 2}, views=0)
    assert [(row.label, row.name, row.clicks, row.share) for row in rows][:2] == [
        ("profile:mastodon", "profile:mastodon", 2, 0.0),  # no longer on the page: its label
        ("email", "E-mail", 0, 0.0),
    ]
    assert len(rows) == 1 + len(LINKS)
