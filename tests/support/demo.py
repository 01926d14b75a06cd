"""The demo data of the component tests, written once per test process and copied in after.

`load("catalog", "customer", pump=pump)` leaves moto as the contexts' demo loaders (in that
order, then `pump.drain()` when a pump is given) would: the first time a test process needs that
set it runs them and takes a snapshot of moto (tests/support/moto_state.py); later tests get a
copy of that snapshot instead (a few milliseconds against half a second of writes and handler
runs). The records the loaders put on the tables' streams, delivered by the drain, are not in the
copy (a new pump reads from after them).

It runs the loaders as before, and takes no snapshot, when the copy could differ from what they
would write now: moto was asked anything since the `aws` fixture restored it (a fixture wrote
first). It runs them, and takes a new snapshot, when the snapshot is more than MAX_AGE_SECONDS old
in real time or in the code's time (tmf.now), or older than nothing in the code's time (the
demo's dates are relative to the code's clock, some of its records to the real one). A test that
sets the code's clock (tests/support/fixtures.py `clock`, the campaign tests' `daytime`) gets a copy
when its clock reads within that window after the snapshot's: until session 17 such a test loaded
the demo every time (campaign, ordering and basket tests: 42 loads, 15 CPU-seconds). Whether the
clock is the real one and the OMNISHOP_* settings are part of the snapshot's key.
"""
from __future__ import annotations

import importlib
import os
import time
from typing import Any

from chalicelib import tmf
from tests.support import moto_state

# A copy's dates lag the loaders' by at most this (demo dates sit hours or days from any boundary a
# test reads: interactions 24-48 h ago, contracts ending in 45+ days). Was 30 s: a worker reloaded
# every set about every half minute.
MAX_AGE_SECONDS = 300.0
CONTEXTS = ("catalog", "customer", "inventory", "rules", "stock", "promotion", "campaign")

_REAL_NOW = tmf.now
# key -> (time.monotonic() and tmf.now() when its loading started, the snapshot)
_snapshots: dict[tuple, tuple[float, Any, moto_state.Snapshot]] = {}


def load(*contexts: str, pump: Any = None) -> None:
    """The demo data of `contexts` (chalicelib.<context>.demo.load, in order), then pump.drain()."""
    unknown = set(contexts) - set(CONTEXTS)
    assert not unknown, f"no demo loader for {sorted(unknown)}: one of {CONTEXTS}"
    key = (contexts, pump is not None, tmf.now is _REAL_NOW,
           tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OMNISHOP_"))))
    copyable = moto_state.untouched()
    taken = _snapshots.get(key)
    if copyable and taken is not None and _recent(*taken[:2]):
        taken[2].restore()
        return
    started, reading = time.monotonic(), tmf.now()
    for context in contexts:
        importlib.import_module(f"chalicelib.{context}.demo").load()
    if pump is not None:
        pump.drain()
    if copyable:
        _snapshots[key] = (started, reading, moto_state.Snapshot(trim_streams=pump is not None))


def _recent(started: float, reading: Any) -> bool:
    """A snapshot whose loading started at `started` (monotonic) and code time `reading` is as
    recent as a copy may be: at most MAX_AGE_SECONDS ago in real time, and between 0 and
    MAX_AGE_SECONDS ago in the code's time (never from its future)."""
    return (time.monotonic() - started <= MAX_AGE_SECONDS
            and 0 <= (tmf.now() - reading).total_seconds() <= MAX_AGE_SECONDS)
