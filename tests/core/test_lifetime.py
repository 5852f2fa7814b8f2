"""core/lifetime.py: what a process keeps is made with the collector off, and frozen once."""

import gc
import subprocess
import sys

import pytest

from core import lifetime


@pytest.fixture
def collector():
    """The collector as a test leaves it: on, nothing frozen by the test kept frozen."""
    frozen = set(lifetime._frozen)
    yield
    lifetime._frozen.clear()
    lifetime._frozen.update(frozen)
    gc.unfreeze()
    gc.enable()


def test_the_block_runs_with_the_collector_off_and_then_it_is_on_again(collector):
    seen = []
    with lifetime.kept_for_life("a test's thing"):
        seen.append(gc.isenabled())
    assert seen == [False]
    assert gc.isenabled()


def test_what_exists_after_the_first_block_is_frozen_once(collector):
    gc.unfreeze()
    with lifetime.kept_for_life("a test's thing"):
        kept = [object() for _ in range(100)]
    frozen = gc.get_freeze_count()
    assert frozen > len(kept)
    gc.unfreeze()
    with lifetime.kept_for_life("a test's thing"):  # made again: not frozen again
        kept.append(object())
    assert gc.get_freeze_count() == 0


def test_the_collector_is_on_again_when_the_block_raises(collector):
    with pytest.raises(RuntimeError), lifetime.kept_for_life("a failing thing"):
        raise RuntimeError("set-up failed")
    assert gc.isenabled()
    assert "a failing thing" in lifetime._frozen


def test_a_collector_that_was_off_stays_off(collector):
    gc.disable()
    with lifetime.kept_for_life("a test's thing"):
        pass
    assert not gc.isenabled()


def test_what_was_frozen_is_finalized_when_the_process_exits():
    """An object kept in a cycle and frozen is finalized at a normal exit, as it would be
    without the freeze (a file object's buffer, for one, is written then)."""
    script = (
        "import os\n"
        "from core.lifetime import kept_for_life\n"
        "class Kept:\n"
        "    def __del__(self):\n"
        "        os.write(1, b'finalized')\n"
        "kept = Kept()\n"
        "kept.cycle = kept\n"
        "with kept_for_life('a thing'):\n"
        "    pass\n"
        "del kept\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == "finalized"
