"""Snapshots of the in-process moto's state, so that the `aws` fixture provisions once per test
process and each test starts from a copy of that state (tests/conftest.py), and the demo data
is written once per process and copied in after (tests/support/demo.py).

A snapshot is a copy of every moto backend's attributes (every service, account and region moto
holds data for), taken in one copy so that references between them (a stream iterator and its
table's shard) stay references between the copies. `restore` copies a snapshot into the live
backends again (the backend objects stay the same, as moto's own reset keeps them) and resets
every backend the snapshot does not know: nothing a test wrote, created or started survives it.
Locks and conditions in moto's objects (an SQS queue's) are made new, not copied.

The copy is a pickle, and `restore` unpickles it (until session 17 both were copy.deepcopy: some
1,800 restores a run, and deepcopy walked every dict and value of moto's state in Python, 8 ms
for the provisioned state and 20 ms with the demo data, where the unpickler builds the same
objects in C). The pickle keeps deepcopy's meaning (`_Pickler`): the live backends are referred
to, not copied; what deepcopy keeps as it is (functions, classes, weak references, moto's
MISSING) is kept as it is; locks come out new, one for each lock shared; a WeakValueDictionary
comes out holding the restored values (a deep copy held the snapshot's); moto's size-checked
attribute dicts are rebuilt without checking each item again (as moto's own Item.__deepcopy__).
"""
from __future__ import annotations

import io
import pickle
import sys
import threading
import types
import weakref
from typing import Any

from moto.core.base_backend import BackendDict
from moto.core.constants import MISSING
from moto.dynamodb.models.dynamo_type import LimitedSizeDict

Key = tuple[str, str, str]   # (service, account, region)

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


def _live() -> dict[Key, Any]:
    return {(bd.service_name, account, region): backend
            for bd in list(BackendDict._instances) for account, region, backend in bd.iter_backends()}


class Snapshot:
    """Moto's state at one moment (see the module's docstring). A `base` snapshot is a starting
    point: moto is `untouched()` from when it is taken or restored until moto answers a request."""

    def __init__(self, base: bool = False, trim_streams: bool = False) -> None:
        """`trim_streams`: the copy leaves out the records already in the tables' streams (the
        live moto keeps them, for the readers that read them)."""
        self.base = base
        live = _live()
        self._dicts = {bd.service_name: bd for bd in BackendDict._instances}
        self._keys = list(live)
        # The backends themselves are not copied, only what they hold.
        self._backends = {id(backend): key for key, backend in live.items()}
        self._held = live    # keeps those ids from being reused while the snapshot lives
        self._pickle({key: backend.__dict__ for key, backend in live.items()})
        if trim_streams:
            state = self._copy(live)
            _trim_streams(state)
            self._pickle(state)
        _mark(self)

    def _pickle(self, state: dict[Key, dict[str, Any]]) -> None:
        self._kept: list[Any] = []   # what the pickle refers to (_Pickler.persistent_id)
        blob = io.BytesIO()
        _Pickler(blob, self._backends, self._kept).dump(state)
        self._blob = blob.getvalue()

    def _copy(self, targets: dict[Key, Any]) -> dict[Key, dict[str, Any]]:
        """A new copy of the state, referring to `targets` where it refers to a backend."""
        return _Unpickler(io.BytesIO(self._blob), targets, self._kept).load()

    def restore(self) -> None:
        """Moto as it was when the snapshot was taken, and nothing else."""
        live = _live()
        # moto's reset (mock_aws's stop) drops the backends: they are made again on first use.
        targets = {key: live.get(key) or self._dicts[key[0]][key[1]][key[2]] for key in self._keys}
        state = self._copy(targets)
        for key, backend in live.items():
            if key not in state:
                backend.reset()
        for key, attributes in state.items():
            targets[key].__dict__ = attributes
        _mark(self)


# What deepcopy keeps as it is (copy._deepcopy_atomic); pickle writes most of them by name.
_AS_IS = (types.FunctionType, types.BuiltinFunctionType, types.CodeType, weakref.ref, property, types.ModuleType)
_NEW = {_LOCK: threading.Lock, _RLOCK: threading.RLock, threading.Condition: threading.Condition,
        threading.Event: threading.Event}


def _named(obj: Any) -> bool:
    """Whether pickle can write `obj` (a class or function) by its module and name."""
    found: Any = sys.modules.get(getattr(obj, "__module__", None) or "")
    for part in (getattr(obj, "__qualname__", None) or "<>").split("."):
        found = getattr(found, part, None)
    return found is obj


class _Pickler(pickle.Pickler):
    """Pickles a copy of moto's state with deepcopy's meaning (see the module's docstring)."""

    def __init__(self, file: io.BytesIO, backends: dict[int, Key], kept: list[Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._backends, self._kept = backends, kept
        # id -> its persistent id (None: pickled as usual). Only backends and kept objects get one,
        # and both live through the dump (Snapshot._held, kept): no other object can have their id.
        self._pids: dict[int, Any] = {}

    def persistent_id(self, obj: Any) -> Any:
        if id(obj) in self._pids:
            return self._pids[id(obj)]
        pid = None
        if id(obj) in self._backends:
            pid = ("backend", self._backends[id(obj)])
        elif obj is MISSING or (isinstance(obj, (type, *_AS_IS)) and not _named(obj)):
            self._kept.append(obj)
            pid = ("kept", len(self._kept) - 1)
        self._pids[id(obj)] = pid
        return pid

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _NEW:   # a new one; one for every reference to the same one, as deepcopy's memo
            return _NEW[kind], ()
        if kind is weakref.WeakValueDictionary:
            return _weak_values, (dict(obj.items()),)
        if kind is LimitedSizeDict:
            return _limited_size_dict, (dict(obj),)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, targets: dict[Key, Any], kept: list[Any]) -> None:
        super().__init__(file)
        self._targets, self._kept = targets, kept

    def persistent_load(self, pid: Any) -> Any:
        tag, value = pid
        return self._targets[value] if tag == "backend" else self._kept[value]


def _weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary:
    return weakref.WeakValueDictionary(items)


def _limited_size_dict(items: dict[str, Any]) -> LimitedSizeDict:
    made = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(made, items)
    return made


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
