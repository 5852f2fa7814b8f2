"""The day's figures: views, where they came from (source, campaign, country, device), unique
visitors, and the clicks on the page's links; the day's views also carry the total
(counter/services/totals.py), so a view's ADD returns them and a closed day takes no more.

A unique visitor is counted in the same UpdateItem as its view (`day_view_add(unique=True)`),
once its first view of the day was claimed (counter/services/uniques.py).

A view's labels are counted in the same `UpdateItem` as the day's views, so they cost no request
of their own, and they stay bounded whatever visitors send: at most SOURCES_LIMIT named sources
and CAMPAIGNS_LIMIT campaigns a day, the rest counted as "other" (docs/architecture.md, Data
model).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from core.failures import condition_failed_item, failures_raise
from core.items import item_get, item_update_raw, items_get_raw
from counter import visits
from counter.services import visitors
from counter.services.items import CounterUnavailable, DayClicks, DayItem

SOURCES_LIMIT = 50  # named sources a day; the next ones count as "other"
CAMPAIGNS_LIMIT = 50  # campaign tags a day; the same
# The day item's attributes: `views`, one count per label and value (`source:linkedin.com`,
# `campaign:acme`, `country:DE`, `device:phone`), and the string sets of the named sources and
# campaigns that bound them. The day's clicks item has one count per link (`link:email`).
SOURCE, CAMPAIGN, COUNTRY, DEVICE, LINK = "source", "campaign", "country", "device", "link"
SOURCES_SET = "sources"
CAMPAIGNS_SET = "campaigns"
CLOSED = "closed"  # set once the day's views are summed into the total (counter/services/totals.py)


# This process's copy of the named sources and campaigns of a day whose set was found full
# (they only grow during a day): a new name is then "other" without a failing write first, so a
# flood of new names costs each process one extra request, not one per view. Today's only.
_full: dict[tuple[dt.date, str], frozenset[str]] = {}


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    views: int
    uniques: int
    # label -> views, for the views of the day that were counted with their labels
    sources: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    # link label -> clicks that day (its `clicks#` item)
    clicks: dict[str, int] = field(default_factory=dict)


def views_key(day: dt.date) -> str:
    """The key of the day's views item (DayItem), which its unique visitors are on too."""
    return f"day#{day.isoformat()}"


def _uniques_key(day: dt.date) -> str:
    return f"uniques#{day.isoformat()}"


def _clicks_key(day: dt.date) -> str:
    return f"clicks#{day.isoformat()}"


def _bounded(name: str, set_name: str, limit: int) -> Condition:
    """The set has room for `name`, or holds it already."""
    named = Path([set_name])
    return named.does_not_exist() | named.contains(name) | (size(named) < limit)


def _day_update(
    *, day: dt.date, visit: visits.Visit | None, source: str, campaign: str, unique: bool
) -> int:
    """One UpdateItem: the view and its labels, and with `unique` one more unique visitor,
    unless the day is closed or a named set is full; returns the day's views after it."""
    actions: list[Action] = [Path(["views"]).add(1)]
    if unique:
        actions.append(Path(["uniques"]).add(1))
    condition: Condition = Path([CLOSED]).does_not_exist()
    if visit is not None:
        labels = {SOURCE: source, COUNTRY: visit.country, DEVICE: visit.device}
        if campaign:
            labels[CAMPAIGN] = campaign
        actions += [Path([_counted(label, value)]).add(1) for label, value in labels.items()]
        if source not in (visits.DIRECT, visits.OTHER):
            actions.append(Path([SOURCES_SET]).add({source}))
            condition &= _bounded(source, SOURCES_SET, SOURCES_LIMIT)
        if campaign not in ("", visits.OTHER):
            actions.append(Path([CAMPAIGNS_SET]).add({campaign}))
            condition &= _bounded(campaign, CAMPAIGNS_SET, CAMPAIGNS_LIMIT)
    answer = item_update_raw(
        DayItem,
        views_key(day),
        actions=actions,
        condition=condition,
        return_values="UPDATED_NEW",
        # A failed condition answers with the item as it was, so the next send knows which
        # label to count as "other" (or that the day is closed) without reading it first.
        return_values_on_condition_failure="ALL_OLD",
    )
    return _number(answer.get("Attributes", {}).get("views", {}))


def _kept(name: str, item: dict[str, Any], set_name: str, limit: int, day: dt.date) -> str:
    names = item.get(set_name, {}).get("SS", [])
    if len(names) >= limit:
        if not any(key[0] == day for key in _full):
            _full.clear()  # a new day: forget the last one's
        _full[day, set_name] = frozenset(names)
    return name if name in names or len(names) < limit else visits.OTHER


def _known(name: str, set_name: str, day: dt.date) -> str:
    """The name, or "other" if this process already saw the day's set full without it."""
    full = _full.get((day, set_name))
    return visits.OTHER if full is not None and name not in full else name


class DayClosed(Exception):
    """The day is closed: its views are in the total already, so no view may be added to it."""


@failures_raise(CounterUnavailable)
def day_view_add(*, day: dt.date, visit: visits.Visit | None = None, unique: bool = False) -> int:
    """Count a view in the day's views and, with a visit, under its labels, and with `unique`
    (its visitor's claimed first view of the day, `day_visitor_claim`) among the day's unique
    visitors: one UpdateItem; return the day's views after it. Raises DayClosed, writing
    nothing, if the day is closed.

    When the day already has SOURCES_LIMIT named sources (or CAMPAIGNS_LIMIT campaigns) and this
    one is not among them, the condition fails, nothing is written, and the view is sent again
    with that label as "other" (at most twice more; the last send names neither, so its only
    condition is that the day is open). The process then remembers the day's full set, and sends
    later new names as "other" at once.
    """
    source = visit.source if visit else visits.DIRECT
    campaign = visit.campaign if visit else ""
    if source not in (visits.DIRECT, visits.OTHER):
        source = _known(source, SOURCES_SET, day)
    if campaign not in ("", visits.OTHER):
        campaign = _known(campaign, CAMPAIGNS_SET, day)
    for attempt in range(3):
        if attempt == 2:
            source = visits.OTHER if source != visits.DIRECT else source
            campaign = visits.OTHER if campaign else campaign
        try:
            return _day_update(
                day=day, visit=visit, source=source, campaign=campaign, unique=unique
            )
        except UpdateError as error:
            item = condition_failed_item(error)
            if item is None:
                raise
            if CLOSED in item:
                raise DayClosed(day.isoformat()) from error
            if source not in (visits.DIRECT, visits.OTHER):
                source = _kept(source, item, SOURCES_SET, SOURCES_LIMIT, day)
            if campaign not in ("", visits.OTHER):
                campaign = _kept(campaign, item, CAMPAIGNS_SET, CAMPAIGNS_LIMIT, day)
    raise DayClosed(day.isoformat())  # the last send's only condition is the day's being open


@failures_raise(CounterUnavailable)
def day_close(*, day: dt.date) -> int:
    """Close the day: from now on no view is added to it (a late one counts on the next day).
    Returns its views, which can no longer change. One UpdateItem; closing twice is harmless."""
    item = DayItem(views_key(day))
    item.update(actions=[DayItem.closed.set(True)])
    return int(item.views)


@failures_raise(CounterUnavailable)
def day_views_get(*, day: dt.date) -> int:
    """The day's views so far (strongly consistent; 0 for a day without any)."""
    item = item_get(DayItem, views_key(day))
    return int(item.views) if item is not None else 0


@failures_raise(CounterUnavailable)
def days_views_sum(*, first: dt.date, last: dt.date) -> int:
    """The views of the days from `first` to `last`, both included (0 if `first` is after
    `last`); BatchGetItem in groups of 100 keys."""
    count = (last - first).days + 1
    keys = [views_key(first + dt.timedelta(days=offset)) for offset in range(max(count, 0))]
    return sum(_number(item.get("views", {})) for item in items_get_raw(keys).values())


@failures_raise(CounterUnavailable)
def day_click_add(*, day: dt.date, link: str) -> int:
    """Count one click on the page's link `link` (a label the caller checked against the page's
    links, counter/clicks.py) in the day's clicks: one UpdateItem, `ADD link:<label> 1` on
    `clicks#<day>`, with no condition (clicks are not in the total, so a closed day takes them
    too). Returns the link's clicks that day."""
    name = _counted(LINK, link)
    answer = item_update_raw(
        DayClicks, _clicks_key(day), actions=[Path([name]).add(1)], return_values="UPDATED_NEW"
    )
    return _number(answer.get("Attributes", {}).get(name, {}))


def _number(attribute: dict[str, str]) -> int:
    return int(attribute.get("N", "0"))


def _counted(label: str, value: str) -> str:
    """The attribute that counts `value` of `label`: `source:linkedin.com`, `link:email`."""
    return f"{label}:{value}"


def _labels(item: dict[str, Any], label: str) -> dict[str, int]:
    prefix = _counted(label, "")
    return {
        name.removeprefix(prefix): _number(value)
        for name, value in item.items()
        if name.startswith(prefix)
    }


def _stats(
    day: dt.date, views: dict[str, Any], uniques: dict[str, Any], clicks: dict[str, Any]
) -> DayStats:
    """A day's figures from its `day#` item, its `uniques#` item (which only days counted
    before the uniques moved to `day#` have) and its `clicks#` item."""
    return DayStats(
        day=day,
        views=_number(views.get("views", {})),
        uniques=_number(views.get("uniques", {})) + _number(uniques.get("uniques", {})),
        sources=_labels(views, SOURCE),
        campaigns=_labels(views, CAMPAIGN),
        countries=_labels(views, COUNTRY),
        devices=_labels(views, DEVICE),
        clicks=_labels(clicks, LINK),
    )


@failures_raise(CounterUnavailable)
def days_get(*, days: int = 30, today: dt.date | None = None) -> list[DayStats]:
    """The figures of the last `days` days, oldest first, zeros for quiet days.

    One BatchGetItem for the three items of every day, its views, its uniques from before and
    its clicks (in groups of 100 keys: 30 days are 90)."""
    last = today or visitors.today()
    wanted = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    keys = [views_key, _uniques_key, _clicks_key]
    found = items_get_raw([key(day) for day in wanted for key in keys])
    return [_stats(day, *(found.get(key(day), {}) for key in keys)) for day in wanted]


def labels_sum(stats: Iterable[DayStats], label: str) -> dict[str, int]:
    """The views of each value of `label` ("sources", "campaigns", ...) summed over days."""
    totals: dict[str, int] = {}
    for day in stats:
        for name, views in getattr(day, label).items():
            totals[name] = totals.get(name, 0) + views
    return totals
