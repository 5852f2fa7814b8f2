"""The day's unique visitors, each counted once: a visitor's first view of the day is claimed
on its marker before it is written, and counted with the visitor in the same UpdateItem as the
view (counter/services/days.py, `day_view_add(unique=True)`), or for a view counted before, so a
day never has more unique visitors than views. The claim is released if that view was certainly
not counted; a counted view refused the claim while another view held it defers to that holder,
which counts the visitor for it if the holder is not counted (docs/architecture.md, Data model,
"Unique visitors"). The order of these calls is counter/services/counting.py's.
"""

import datetime as dt
import secrets
from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from core.failures import condition_failed, condition_failed_item, failures_raise
from core.items import item_update_raw
from counter.services.days import views_key
from counter.services.items import (
    DAY_ITEM_LIFETIME,
    CounterUnavailable,
    DayItem,
    VisitorMarker,
    day_start,
)


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
        marker = condition_failed_item(error)
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
        marker = condition_failed_item(error)
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
        views_key(day),
        actions=[DayItem.uniques.add(1)],
        condition=DayItem.views.exists()
        & (DayItem.uniques.does_not_exist() | (DayItem.uniques < DayItem.views)),
    )
