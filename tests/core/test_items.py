"""core/items.py: the item calls the services share, against moto."""

import pytest
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path

from core import items
from core.failures import condition_failed
from counter.services import items as counter_items


def test_item_get_answers_none_for_a_missing_item(moto_table):
    assert items.item_get(counter_items.TotalItem, "total") is None
    counter_items.TotalItem("total", before=3).save()
    assert items.item_get(counter_items.TotalItem, "total").before == 3


def test_items_get_raw_answers_the_stored_items_by_key_in_batches(moto_table):
    keys = [f"day#{index}" for index in range(items.BATCH_KEYS + 5)]  # two batches
    for key in keys[::2]:
        counter_items.DayItem(key, views=1).save()
    found = items.items_get_raw(keys)
    assert sorted(found) == sorted(keys[::2])  # the missing keys are absent
    assert found["day#0"]["views"] == {"N": "1"}


def test_item_update_raw_returns_undeclared_attributes_and_raises_update_error(moto_table):
    bucket = counter_items.RateBucket
    answer = items.item_update_raw(
        bucket, "rate#x", actions=[Path(["visitor:a"]).add(2)], return_values="UPDATED_NEW"
    )
    assert answer["Attributes"]["visitor:a"] == {"N": "2"}
    with pytest.raises(UpdateError) as failure:
        items.item_update_raw(
            bucket,
            "rate#x",
            actions=[Path(["visitor:a"]).add(1)],
            condition=Path(["visitor:a"]) < 2,
        )
    assert condition_failed(failure.value)
