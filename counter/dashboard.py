"""The owner's figures, shaped for the admin index: a period's totals, a server-rendered SVG
chart of its days, where its views came from, the links its visitors followed, and its daily
figures as CSV."""

import csv
import io
from dataclasses import dataclass

from counter import clicks, services, visits

# Each day's own coordinate system: every day is an SVG of its own, one column of the chart's
# grid, stretched by CSS to the column's width and the chart's height; its date is HTML in the
# same column, under its bars, and keeps its size on any screen (static/css/admin-dashboard.css).
SLOT_WIDTH = 100
CHART_HEIGHT = 160
MIN_BAR_HEIGHT = 2.0  # a day with any views stays visible next to a much busier one
TICK_EVERY_DAYS = 7  # the axis names today's date and every 7th day before it
DATED_DAYS = 7  # a chart of this many days or fewer dates every day
# A day's two bars side by side, never over each other, with a margin each side of the pair.
BAR_SHARE = 0.36  # of the slot, each bar
PAIR_GAP_SHARE = 0.04  # of the slot, between a day's two bars; the rest is between days
# The periods the dashboard offers: the query's value, the days it covers, its name.
PERIODS = {"today": (1, "Today"), "7d": (7, "Last 7 days"), "30d": (30, "Last 30 days")}
DEFAULT_PERIOD = "30d"
NOT_RECORDED = "not recorded"  # views counted before their labels were (or without them)
NO_TAG = "no tag"


@dataclass(frozen=True)
class Bar:
    """One day's pair of bars, in its own slot (SLOT_WIDTH by CHART_HEIGHT)."""

    stats: services.DayStats
    x: float  # the views' bar; the uniques' bar starts at uniques_x
    uniques_x: float
    width: float
    views_y: float
    views_height: float
    uniques_y: float
    uniques_height: float
    tick: bool  # the x axis shows this day's date


@dataclass(frozen=True)
class Row:
    name: str
    views: int
    share: float  # of the period's views, 0-100


@dataclass(frozen=True)
class LinkRow:
    label: str  # as stored: "email", "profile:github", "pdf"
    name: str  # as the dashboard shows it: "E-mail", "GitHub", "PDF, A4"
    clicks: int
    share: float  # clicks over the period's views, 0-100 (above 100 if people click twice)


@dataclass(frozen=True)
class Figures:
    total: int
    period: str
    period_name: str
    today: services.DayStats
    days: list[services.DayStats]
    views: int  # in the period
    uniques: int  # in the period: each day's unique visitors, summed
    bars: list[Bar]
    peak: int
    sources: list[Row]
    campaigns: list[Row]
    countries: list[Row]
    devices: list[Row]
    links: list[LinkRow]
    downloads: int  # the PDF's downloads in the period, every paper
    slot_width: int = SLOT_WIDTH
    height: int = CHART_HEIGHT

    @property
    def single_day(self) -> bool:
        """A period of one day (today) is shown as that day, not as a period of one."""
        return len(self.days) == 1


def _height(value: int, peak: int) -> float:
    if not value or not peak:
        return 0.0
    return max(CHART_HEIGHT * value / peak, MIN_BAR_HEIGHT)


def chart_bars(days: list[services.DayStats]) -> tuple[list[Bar], int]:
    """One pair of bars per day, side by side in the day's slot, scaled so the busiest day
    fills the chart; and that peak. Today and every TICK_EVERY_DAYS-th day before it carry a
    date on the axis; every day does on a chart of DATED_DAYS or fewer."""
    peak = max((day.views for day in days), default=0)
    width = round(SLOT_WIDTH * BAR_SHARE, 2)
    left = round(SLOT_WIDTH * (1 - 2 * BAR_SHARE - PAIR_GAP_SHARE) / 2, 2)
    uniques_x = round(left + SLOT_WIDTH * (BAR_SHARE + PAIR_GAP_SHARE), 2)
    every = 1 if len(days) <= DATED_DAYS else TICK_EVERY_DAYS
    bars = []
    for index, day in enumerate(days):
        views_height = _height(day.views, peak)
        uniques_height = _height(day.uniques, peak)
        bars.append(
            Bar(
                stats=day,
                x=left,
                uniques_x=uniques_x,
                width=width,
                views_y=round(CHART_HEIGHT - views_height, 2),
                views_height=round(views_height, 2),
                uniques_y=round(CHART_HEIGHT - uniques_height, 2),
                uniques_height=round(uniques_height, 2),
                tick=(len(days) - 1 - index) % every == 0,
            )
        )
    return bars, peak


def ranked(counts: dict[str, int], *, views: int, rest: str = NOT_RECORDED) -> list[Row]:
    """The labels by views, most first (then by name), each with its share of the period's
    views; views without a label (before labels were counted, or no campaign tag) as `rest`.
    "other" always comes last among the labels."""
    rows = sorted(counts.items(), key=lambda item: (item[0] == visits.OTHER, -item[1], item[0]))
    missing = views - sum(counts.values())
    if missing > 0:
        rows.append((rest, missing))
    return [
        Row(name=name, views=count, share=round(100 * count / views, 1) if views else 0.0)
        for name, count in rows
        if count
    ]


def links_ranked(counts: dict[str, int], *, views: int) -> list[LinkRow]:
    """Every link of the page, and any other label the period holds (a profile since removed
    from the resume), by clicks, most first, then in the page's order; each with its clicks
    over the period's views."""
    links = clicks.links_get()
    order = {label: index for index, label in enumerate(links)}
    labels = sorted(
        {*links, *counts}, key=lambda label: (-counts.get(label, 0), order.get(label, len(order)))
    )
    return [
        LinkRow(
            label=label,
            name=links.get(label, label),
            clicks=counts.get(label, 0),
            share=round(100 * counts.get(label, 0) / views, 1) if views else 0.0,
        )
        for label in labels
    ]


def _pdf(label: str) -> bool:
    return label == "pdf" or label.startswith("pdf-")


def period_days(period: str) -> int:
    """The days a period covers; an unknown period is the default one."""
    return PERIODS.get(period, PERIODS[DEFAULT_PERIOD])[0]


def figures_get(*, period: str = DEFAULT_PERIOD) -> Figures:
    """Total views and the period's figures; raises services.CounterUnavailable."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    days, name = PERIODS[period]
    total = services.total_get()
    history = services.days_get(days=days)
    bars, peak = chart_bars(history)
    views = sum(day.views for day in history)
    followed = services.labels_sum(history, "clicks")
    return Figures(
        total=total,
        period=period,
        period_name=name,
        today=history[-1],
        days=history,
        views=views,
        uniques=sum(day.uniques for day in history),
        bars=bars,
        peak=peak,
        sources=ranked(services.labels_sum(history, "sources"), views=views),
        campaigns=ranked(services.labels_sum(history, "campaigns"), views=views, rest=NO_TAG),
        countries=ranked(services.labels_sum(history, "countries"), views=views),
        devices=ranked(services.labels_sum(history, "devices"), views=views),
        links=links_ranked(followed, views=views),
        downloads=sum(count for label, count in followed.items() if _pdf(label)),
    )


def figures_csv(*, period: str = DEFAULT_PERIOD) -> str:
    """The period's daily figures as CSV, oldest day first: date, views, unique visitors, then
    one column of clicks per link (`clicks:email`, `clicks:profile:github`, ...: the page's
    links in its order, then any other label the period holds)."""
    history = services.days_get(days=period_days(period))
    stored = services.labels_sum(history, "clicks")
    labels = [*clicks.links_get(), *sorted(set(stored) - set(clicks.links_get()))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["date", "views", "unique_visitors", *(f"clicks:{label}" for label in labels)])
    for day in history:
        counts = [day.clicks.get(label, 0) for label in labels]
        writer.writerow([day.day.isoformat(), day.views, day.uniques, *counts])
    return out.getvalue()
