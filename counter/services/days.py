"""The day's figures: views, where they came from (source, campaign, country, device), unique
visitors counted once per visitor and day, and the clicks on the page's links; the day's views
also carry the total (counter/services/totals.py), so a view's ADD returns them and a closed
day takes no more.

A unique visitor is counted in the same UpdateItem as its view, or for a view counted before,
so a day never has more unique visitors than views: the visitor's first view of the day is
claimed on its marker first, and the claim is released if that view was certainly not counted;
a counted view refused the claim while another view held it defers to that holder, which counts
the visitor for it if the holder is not counted (docs/architecture.md, Data model, "Unique
visitors").

A view's labels are counted in the same `UpdateItem` as the day's views, so they cost no request
of their own, and they stay bounded whatever visitors send: at most SOURCES_LIMIT named sources
and CAMPAIGNS_LIMIT campaigns a day, the rest counted as "other" (docs/architecture.md, Data
model).
"""

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import UpdateError, VerboseClientError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from core.dynamodb import (
    condition_failed,
    failures_raise,
    item_get,
    item_update_raw,
    items_get_raw,
)
from counter import visits
from counter.services import visitors
from counter.services.items import (
    DAY_ITEM_LIFETIME,
    CounterUnavailable,
    DayClicks,
    DayItem,
    VisitorMarker,
    day_start,
)

SOURCES_LIMIT = 50  # named sources a day; the next ones count as "other"
CAMPAIGNS_LIMIT = 50  # campaign tags a day; the same
# The day item's attributes: `views`, one count per label (`source:linkedin.com`,
# `campaign:acme`, `country:DE`, `device:phone`), and the string sets of the named sources and
# campaigns that bound them.
LABELS = ("source", "campaign", "country", "device")
SOURCES_SET = "sources"
CAMPAIGNS_SET = "campaigns"
CLOSED = "closed"  # set once the day's views are summed into the total (counter/services/totals.py)
LINK_PREFIX = "link:"  # a link's clicks on the day's `clicks#` item: `link:email`


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


def _views_key(day: dt.date) -> str:
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
        labels = {"source": source, "country": visit.country, "device": visit.device}
        if campaign:
            labels["campaign"] = campaign
        actions += [Path([f"{label}:{value}"]).add(1) for label, value in labels.items()]
        if source not in (visits.DIRECT, visits.OTHER):
            actions.append(Path([SOURCES_SET]).add({source}))
            condition &= _bounded(source, SOURCES_SET, SOURCES_LIMIT)
        if campaign not in ("", visits.OTHER):
            actions.append(Path([CAMPAIGNS_SET]).add({campaign}))
            condition &= _bounded(campaign, CAMPAIGNS_SET, CAMPAIGNS_LIMIT)
    answer = item_update_raw(
        DayItem,
        _views_key(day),
        actions=actions,
        condition=condition,
        return_values="UPDATED_NEW",
        # A failed condition answers with the item as it was, so the next send knows which
        # label to count as "other" (or that the day is closed) without reading it first.
        return_values_on_condition_failure="ALL_OLD",
    )
    return _number(answer.get("Attributes", {}).get("views", {}))


def _condition_failed_item(error: UpdateError) -> dict[str, Any] | None:
    """The item as it was when the condition failed, {} if the engine did not return it; None
    if the update failed for another reason."""
    if not condition_failed(error):
        return None
    # PynamoDB raises botocore's error again as a VerboseClientError that keeps only its `Error`;
    # the item is on botocore's own error, chained as that one's cause.
    cause = error.cause
    if isinstance(cause, VerboseClientError):
        cause = cause.__cause__
    response = getattr(cause, "response", None)
    item = response.get("Item") if isinstance(response, dict) else None
    return item if isinstance(item, dict) else {}


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
            item = _condition_failed_item(error)
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
    item = DayItem(_views_key(day))
    item.update(actions=[DayItem.closed.set(True)])
    return int(item.views)


@failures_raise(CounterUnavailable)
def day_views_get(*, day: dt.date) -> int:
    """The day's views so far (strongly consistent; 0 for a day without any)."""
    item = item_get(DayItem, _views_key(day))
    return int(item.views) if item is not None else 0


@failures_raise(CounterUnavailable)
def days_views_sum(*, first: dt.date, last: dt.date) -> int:
    """The views of the days from `first` to `last`, both included (0 if `first` is after
    `last`); BatchGetItem in groups of 100 keys."""
    count = (last - first).days + 1
    keys = [_views_key(first + dt.timedelta(days=offset)) for offset in range(max(count, 0))]
    return sum(_number(item.get("views", {})) for item in items_get_raw(keys).values())


@failures_raise(CounterUnavailable)
def day_click_add(*, day: dt.date, link: str) -> int:
    """Count one click on the page's link `link` (a label the caller checked against the page's
    links, counter/clicks.py) in the day's clicks: one UpdateItem, `ADD link:<label> 1` on
    `clicks#<day>`, with no condition (clicks are not in the total, so a closed day takes them
    too). Returns the link's clicks that day."""
    name = f"{LINK_PREFIX}{link}"
    answer = item_update_raw(
        DayClicks, _clicks_key(day), actions=[Path([name]).add(1)], return_values="UPDATED_NEW"
    )
    return _number(answer.get("Attributes", {}).get(name, {}))


def _marker_key(day: dt.date, digest: str) -> str:
    return f"visitor#{day.isoformat()}#{digest}"


@dataclass(frozen=True)
class VisitorClaim:
    """The answer to a claim of a visitor's first view of the day (`day_visitor_claim`)."""

    token: str | None  # granted: the claim's, for day_view_add(unique=True), day_visitor_release
    # Refused while another view holds the claim and no counted view has deferred to it yet:
    # that view may not be counted, so a view of the visitor counted on the day without the
    # visitor calls `day_visitor_defer`. False when granted, or when the visitor is settled.
    held: bool = False


@failures_raise(CounterUnavailable)
def day_visitor_claim(*, digest: str, day: dt.date) -> VisitorClaim:
    """Claim the visitor's (by the day's hash) first view of the day: one conditional
    UpdateItem on its marker, which succeeds only if the visitor has no marker that day, or one
    whose claim was released. Its token is for `day_view_add(unique=True)` and
    `day_visitor_release`. Refused (nothing is written), the answer says from the marker as it
    was, returned by the same request, whether the visitor is settled: a counted view deferred
    to the holder (`day_visitor_defer`), or the marker predates claims and counts as seen; or
    whether the claim is `held` by a view that may not be counted."""
    claim = secrets.token_hex(16)
    try:
        item_update_raw(
            VisitorMarker,
            _marker_key(day, digest),
            actions=[
                VisitorMarker.expires.set(day_start(day) + DAY_ITEM_LIFETIME),
                VisitorMarker.claim.set(claim),
                VisitorMarker.released.remove(),
            ],
            condition=VisitorMarker.pk.does_not_exist() | VisitorMarker.released.exists(),
            return_values_on_condition_failure="ALL_OLD",
        )
    except UpdateError as error:
        marker = _condition_failed_item(error)
        if marker is None:
            raise
        # Without the marker (an engine that does not return it) the claim counts as held.
        # A marker without a claim and not released predates claims, or a deferral took it.
        held = not marker or ("claim" in marker and "deferred" not in marker)
        return VisitorClaim(token=None, held=held)
    return VisitorClaim(token=claim)


@failures_raise(CounterUnavailable)
def day_visitor_release(*, digest: str, day: dt.date, claim: str) -> bool:
    """The view the claim was granted to was certainly not counted on the day: give the claim
    up. One conditional UpdateItem releases it (`SET released`, and the token removed, so the
    claim is never given up twice), so the visitor's next view counts it, if the marker still
    holds this claim and no counted view deferred to it. If one did (`day_visitor_defer` came
    first), the visitor is counted for that view instead: the day's unique visitors one more
    (`_uniques_add`, a second request), and the marker stays held, so nobody claims it again.
    A claim that is not the marker's (released already) is left as it is. Returns True if the
    visitor was counted."""
    try:
        item_update_raw(
            VisitorMarker,
            _marker_key(day, digest),
            actions=[VisitorMarker.released.set(True), VisitorMarker.claim.remove()],
            condition=(VisitorMarker.claim == claim) & VisitorMarker.deferred.does_not_exist(),
            return_values_on_condition_failure="ALL_OLD",
        )
    except UpdateError as error:
        marker = _condition_failed_item(error)
        if marker is None:
            raise
        if marker.get("claim", {}).get("S") == claim and "deferred" in marker:
            _uniques_add(day)
            return True
    return False


@failures_raise(CounterUnavailable)
def day_visitor_defer(*, digest: str, day: dt.date) -> bool:
    """A view of the visitor was counted on the day without the visitor, its claim refused
    while another view held it (`VisitorClaim.held`): make sure the visitor is counted once.
    One UpdateItem on the marker, `SET deferred` and `REMOVE released`, returning the marker as
    it was: if the holder had released its claim (it was not counted), this view takes the
    marker and counts the visitor itself (`_uniques_add`, a second request); otherwise the
    holder either was counted with the visitor, or will find `deferred` when it gives its claim
    up, and count the visitor then (`day_visitor_release`). The marker changes in one write,
    so exactly one of the two counts the visitor. Returns True if this call counted it."""
    try:
        answer = item_update_raw(
            VisitorMarker,
            _marker_key(day, digest),
            actions=[VisitorMarker.deferred.set(True), VisitorMarker.released.remove()],
            condition=VisitorMarker.pk.exists(),  # never makes a marker (it would not expire)
            return_values="ALL_OLD",
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    if "released" in answer.get("Attributes", {}):
        _uniques_add(day)
        return True
    return False


def _uniques_add(day: dt.date) -> None:
    """One more unique visitor on the day, for a view of it counted there without it (its
    claim was handed over, `day_visitor_defer`): the one write of `uniques` that is not a
    view's own, so its condition keeps them within the day's views. The day may be closed: its
    views, and so the total, do not change."""
    item_update_raw(
        DayItem,
        _views_key(day),
        actions=[DayItem.uniques.add(1)],
        condition=DayItem.views.exists()
        & (DayItem.uniques.does_not_exist() | (DayItem.uniques < DayItem.views)),
    )


def _number(attribute: dict[str, str]) -> int:
    return int(attribute.get("N", "0"))


def _labels(item: dict[str, Any], label: str) -> dict[str, int]:
    prefix = f"{label}:"
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
        sources=_labels(views, "source"),
        campaigns=_labels(views, "campaign"),
        countries=_labels(views, "country"),
        devices=_labels(views, "device"),
        clicks=_labels(clicks, "link"),
    )


@failures_raise(CounterUnavailable)
def days_get(*, days: int = 30, today: dt.date | None = None) -> list[DayStats]:
    """The figures of the last `days` days, oldest first, zeros for quiet days.

    One BatchGetItem for the three items of every day, its views, its uniques from before and
    its clicks (in groups of 100 keys: 30 days are 90)."""
    last = today or visitors.today()
    wanted = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    keys = [_views_key, _uniques_key, _clicks_key]
    found = items_get_raw([key(day) for day in wanted for key in keys])
    return [_stats(day, *(found.get(key(day), {}) for key in keys)) for day in wanted]


def labels_sum(stats: Iterable[DayStats], label: str) -> dict[str, int]:
    """The views of each value of `label` ("sources", "campaigns", ...) summed over days."""
    totals: dict[str, int] = {}
    for day in stats:
        for name, views in getattr(day, label).items():
            totals[name] = totals.get(name, 0) + views
    return totals
