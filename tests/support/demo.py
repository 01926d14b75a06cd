"""The demo data of the component tests, written once per test process and copied in after.

`load("catalog", "customer", pump=pump)` leaves moto as the contexts' demo loaders (in that
order, then `pump.drain()` when a pump is given) would: the first time a test process needs that
set it runs them and takes a snapshot of moto (tests/support/moto_state.py); later tests get a
copy of that snapshot instead (a few milliseconds against half a second of writes and handler
runs). The records the loaders put on the tables' streams, delivered by the drain, are not in the
copy (a new pump reads from after them).

It runs the loaders as before, and takes no snapshot, when the copy could differ from what they
would write now: moto was asked anything since the `aws` fixture restored it (a fixture wrote
first), the code's clock is not the real one (a test set tmf.now), or the snapshot is more than
MAX_AGE_SECONDS old (the demo's dates are relative to now). OMNISHOP_* settings are part of the
snapshot's key.
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
_snapshots: dict[tuple, tuple[float, moto_state.Snapshot]] = {}


def load(*contexts: str, pump: Any = None) -> None:
    """The demo data of `contexts` (chalicelib.<context>.demo.load, in order), then pump.drain()."""
    unknown = set(contexts) - set(CONTEXTS)
    assert not unknown, f"no demo loader for {sorted(unknown)}: one of {CONTEXTS}"
    key = (contexts, pump is not None,
           tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OMNISHOP_"))))
    copyable = moto_state.untouched() and tmf.now is _REAL_NOW
    taken = _snapshots.get(key)
    if copyable and taken is not None and time.monotonic() - taken[0] <= MAX_AGE_SECONDS:
        taken[1].restore()
        return
    started = time.monotonic()
    for context in contexts:
        importlib.import_module(f"chalicelib.{context}.demo").load()
    if pump is not None:
        pump.drain()
    if copyable:
        _snapshots[key] = (started, moto_state.Snapshot(trim_streams=pump is not None))
