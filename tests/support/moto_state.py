"""Snapshots of the in-process moto's state, so that the `aws` fixture provisions once per test
process and each test starts from a copy of that state (tests/conftest.py), and the demo data
is written once per process and copied in after (tests/support/demo.py).

A snapshot is a deep copy of every moto backend's attributes (every service, account and region
moto holds data for), taken in one copy so that references between them (a stream iterator and
its table's shard) stay references between the copies. `restore` copies a snapshot into the live
backends again (the backend objects stay the same, as moto's own reset keeps them) and resets
every backend the snapshot does not know: nothing a test wrote, created or started survives it.
Locks and conditions in moto's objects (an SQS queue's) are made new, not copied.
"""
from __future__ import annotations

import contextlib
import copy
import threading
from typing import Any, Iterator

from moto.core.base_backend import BackendDict

Key = tuple[str, str, str]   # (service, account, region)

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


def _live() -> dict[Key, Any]:
    return {(bd.service_name, account, region): backend
            for bd in list(BackendDict._instances) for account, region, backend in bd.iter_backends()}


@contextlib.contextmanager
def _fresh_locks() -> Iterator[None]:
    """While copying: a lock or condition comes out as a new one (they cannot be copied)."""
    dispatch = copy._deepcopy_dispatch   # type: ignore[attr-defined]
    added = {_LOCK: lambda lock, memo: threading.Lock(), _RLOCK: lambda lock, memo: threading.RLock(),
             threading.Condition: lambda condition, memo: threading.Condition(),
             threading.Event: lambda event, memo: threading.Event()}
    saved = {kind: dispatch.get(kind) for kind in added}
    dispatch.update(added)
    try:
        yield
    finally:
        for kind, copier in saved.items():
            if copier is None:
                dispatch.pop(kind, None)
            else:
                dispatch[kind] = copier


class Snapshot:
    """Moto's state at one moment (see the module's docstring). A `base` snapshot is a starting
    point: moto is `untouched()` from when it is taken or restored until moto answers a request."""

    def __init__(self, base: bool = False, trim_streams: bool = False) -> None:
        """`trim_streams`: the copy leaves out the records already in the tables' streams (the
        live moto keeps them, for the readers that read them)."""
        self.base = base
        live = _live()
        self._ids = {key: id(backend) for key, backend in live.items()}
        self._dicts = {bd.service_name: bd for bd in BackendDict._instances}
        with _fresh_locks():
            # The backends themselves are not copied, only what they hold.
            self._state = copy.deepcopy({key: backend.__dict__ for key, backend in live.items()},
                                        {id(backend): backend for backend in live.values()})
        if trim_streams:
            _trim_streams(self._state)
        self._backends = live    # keeps the ids above from being reused
        _mark(self)

    def restore(self) -> None:
        """Moto as it was when the snapshot was taken, and nothing else."""
        live = _live()
        # moto's reset (mock_aws's stop) drops the backends: they are made again on first use.
        targets = {key: live.get(key) or self._dicts[key[0]][key[1]][key[2]] for key in self._state}
        memo = {self._ids[key]: backend for key, backend in targets.items()}
        with _fresh_locks():
            state = copy.deepcopy(self._state, memo)
        for key, backend in live.items():
            if key not in state:
                backend.reset()
        for key, attributes in state.items():
            targets[key].__dict__ = attributes
        _mark(self)


def _trim_streams(state: dict[Key, dict[str, Any]]) -> None:
    """Forget the records already in every table's stream of `state` (a reader starting at
    TRIM_HORIZON starts after them); sequence numbers go on from where they were."""
    for key, attributes in state.items():
        if key[0] != "dynamodb":
            continue
        for table in attributes.get("tables", {}).values():
            shard = getattr(table, "stream_shard", None)
            if shard is not None and shard.items:
                shard.starting_sequence_number += len(shard.items)
                shard.items = []


_answered = 0
_last: tuple[bool, int] = (False, -1)   # (the last snapshot taken or restored was a base one, _answered then)


def _mark(snapshot: Snapshot) -> None:
    global _last
    _last = (snapshot.base, _answered)


def untouched() -> bool:
    """Whether moto is as a base snapshot left it: nothing asked it anything since."""
    return _last == (True, _answered)


def answered() -> int:
    """How many requests the in-process moto answered in this process so far (compare two
    readings to tell whether anything asked it something in between)."""
    return _answered


def _count_requests() -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def counted(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        global _answered
        if stubber.enabled:
            _answered += 1
        return original(stubber, event_name, request, **kwargs)

    BotocoreStubber.__call__ = counted   # type: ignore[method-assign]


_count_requests()
