"""counter/services/uniques.py: a visitor counted once a day through the claim on its marker,
released, deferred to and handed over, against moto."""

import datetime as dt

import boto3
import pytest

from counter.services import days, uniques
from tests.conftest import DAY

A, B = "a" * 32, "b" * 32


def _first_view(digest: str, day=DAY) -> bool:
    """A visitor's view: claimed, then counted with the claim; True if it was a unique one."""
    claim = uniques.day_visitor_claim(digest=digest, day=day)
    days.day_view_add(day=day, unique=claim.token is not None)
    return claim.token is not None


def test_a_visitor_counts_once_a_day(moto_table):
    assert [_first_view(A), _first_view(A), _first_view(B)] == [True, False, True]
    assert _first_view(A, day=DAY + dt.timedelta(days=1)) is True
    stats = days.days_get(days=2, today=DAY + dt.timedelta(days=1))
    assert [(stat.views, stat.uniques) for stat in stats] == [(3, 2), (1, 1)]


def test_a_unique_visitor_is_counted_only_in_the_write_of_its_view(table_scan):
    claim = uniques.day_visitor_claim(digest=A, day=DAY)
    assert claim.token is not None
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {f"visitor#{DAY.isoformat()}#{A}"}  # a claim counts nothing
    days.day_view_add(day=DAY, unique=True)
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {f"day#{DAY.isoformat()}", f"visitor#{DAY.isoformat()}#{A}"}
    assert (
        items[f"day#{DAY.isoformat()}"]["views"],
        items[f"day#{DAY.isoformat()}"]["uniques"],
    ) == (
        {"N": "1"},
        {"N": "1"},
    )
    midnight = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    expires = int(items[f"visitor#{DAY.isoformat()}#{A}"]["expires"]["N"])
    assert expires == int((midnight + dt.timedelta(days=2)).timestamp())


HELD = uniques.VisitorClaim(token=None, held=True)  # refused: its holder may not be counted
SETTLED = uniques.VisitorClaim(token=None, held=False)  # refused: the visitor is settled


def test_a_released_claim_can_be_claimed_again_and_only_by_one(moto_table):
    claim = uniques.day_visitor_claim(digest=A, day=DAY).token
    assert not uniques.day_visitor_release(digest=A, day=DAY, claim="another")  # not the marker's
    assert uniques.day_visitor_claim(digest=A, day=DAY) == HELD
    assert not uniques.day_visitor_release(digest=A, day=DAY, claim=claim)
    again = uniques.day_visitor_claim(digest=A, day=DAY).token
    assert again is not None and again != claim
    assert uniques.day_visitor_claim(digest=A, day=DAY) == HELD
    uniques.day_visitor_release(digest=A, day=DAY, claim=claim)  # an old claim releases nothing
    assert uniques.day_visitor_claim(digest=A, day=DAY) == HELD
    uniques.day_visitor_release(digest=B, day=DAY, claim=claim)  # no marker: none is made
    assert uniques.day_visitor_claim(digest=B, day=DAY).token is not None


def test_a_marker_from_before_claims_counts_as_seen(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=moto_table,
        Item={"pk": {"S": f"visitor#{DAY.isoformat()}#{A}"}, "expires": {"N": "4102444800"}},
    )
    assert uniques.day_visitor_claim(digest=A, day=DAY) == SETTLED


# --- Claims handed over: a holder that was not counted, a counted view refused the claim ------


def _counted_without_claim(digest: str) -> uniques.VisitorClaim:
    """A view of the visitor refused the claim (another view holds it), counted without it."""
    answer = uniques.day_visitor_claim(digest=digest, day=DAY)
    days.day_view_add(day=DAY)
    return answer


def _figures() -> tuple[int, int]:
    (stats,) = days.days_get(days=1, today=DAY)
    return stats.views, stats.uniques


def test_a_holder_not_counted_counts_the_visitor_for_a_view_that_deferred_to_it(moto_table):
    claim = uniques.day_visitor_claim(digest=A, day=DAY).token  # its view is then over a limit
    assert _counted_without_claim(A) == HELD
    assert not uniques.day_visitor_defer(digest=A, day=DAY)  # deferred to the holder
    assert _figures() == (1, 0)
    assert uniques.day_visitor_release(digest=A, day=DAY, claim=claim)  # handed over: counted
    assert _figures() == (1, 1)
    assert uniques.day_visitor_claim(digest=A, day=DAY) == SETTLED  # never claimed again
    assert _counted_without_claim(A) == SETTLED
    assert _figures() == (2, 1)


def test_a_view_that_defers_after_the_holder_released_counts_the_visitor_itself(moto_table):
    claim = uniques.day_visitor_claim(digest=A, day=DAY).token
    assert _counted_without_claim(A) == HELD
    assert not uniques.day_visitor_release(digest=A, day=DAY, claim=claim)  # released
    assert uniques.day_visitor_defer(digest=A, day=DAY)  # the claim was free: counted here
    assert _figures() == (1, 1)
    assert not uniques.day_visitor_defer(digest=A, day=DAY)  # a second one counts nothing
    assert uniques.day_visitor_claim(digest=A, day=DAY) == SETTLED
    assert not uniques.day_visitor_release(digest=A, day=DAY, claim=claim)
    assert _figures() == (1, 1)


def test_a_deferral_to_a_counted_holder_changes_no_figure(moto_table, table_scan):
    assert _first_view(A)
    assert _counted_without_claim(A) == HELD  # it cannot tell the holder was counted
    assert not uniques.day_visitor_defer(digest=A, day=DAY)
    assert _figures() == (2, 1)
    assert _counted_without_claim(A) == SETTLED
    (marker,) = [item for item in table_scan() if item["pk"]["S"].startswith("visitor#")]
    assert set(marker) == {"pk", "claim", "expires", "deferred"}  # no more than before; expires


def test_a_deferral_never_makes_a_marker(moto_table, table_scan):
    days.day_view_add(day=DAY)
    assert not uniques.day_visitor_defer(digest=A, day=DAY)
    assert [item["pk"]["S"] for item in table_scan()] == [f"day#{DAY.isoformat()}"]


def test_a_handed_over_visitor_is_never_counted_above_the_days_views(moto_table):
    """The one write of `uniques` that is not a view's own keeps them within the views."""
    claim = uniques.day_visitor_claim(digest=A, day=DAY).token
    uniques.day_visitor_defer(digest=A, day=DAY)  # as if a view were counted: none was
    with pytest.raises(days.CounterUnavailable):
        uniques.day_visitor_release(digest=A, day=DAY, claim=claim)
    days.day_view_add(day=DAY, unique=True)  # another visitor's view: the day has 1 and 1
    claim = uniques.day_visitor_claim(digest=B, day=DAY).token
    uniques.day_visitor_defer(digest=B, day=DAY)
    with pytest.raises(days.CounterUnavailable):
        uniques.day_visitor_release(digest=B, day=DAY, claim=claim)
    assert _figures() == (1, 1)
