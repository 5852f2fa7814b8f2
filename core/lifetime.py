"""What a process makes once and keeps to its end, made with the cyclic garbage collector off.

Django's set-up (resume_site/wsgi.py) and the DynamoDB client (core/dynamodb.py) each allocate
tens of thousands of objects that live as long as the process: modules, settings, URL patterns,
botocore's service model. The collector, which runs whenever enough objects were allocated,
would scan them again and again while they are made and after, and find nothing to free: work
a Lambda cold start pays for nothing (docs/performance.md, "What was changed"; the instructions
of a cold start before and after, bench/README.md). So each is made with the collector off, and
then `gc.freeze()` moves everything made so far into the permanent generation, which
collections never scan.

Frozen objects are never collected, so each kind of thing is frozen once per process: a
client made again (a test changing the table's settings, PynamoDB replacing one whose
credentials expired) is made with the collector off but not frozen, and is freed as usual when
it goes. Nor would they be finalized when the process exits normally (a file object kept in a
cycle would not be flushed), so they are unfrozen at exit (`atexit`) and the exit's last
collection sees them all; Lambda ends its processes without one. Standard library only:
resume_site/wsgi.py imports it before Django.
"""

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

_frozen: set[str] = set()


@contextmanager
def kept_for_life(what: str) -> Iterator[None]:
    """Run the block with the collector off; freeze what exists after it the first time this
    process makes `what`; then turn the collector back on if it was on, even if the block
    raised."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if what not in _frozen:
            if not _frozen:
                atexit.register(gc.unfreeze)
            _frozen.add(what)
            gc.freeze()
        if was_enabled:
            gc.enable()
