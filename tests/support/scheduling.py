"""How `make test` hands the suite's work to its pytest-xdist workers (tests/conftest.py).

`make test` runs three workers on two cores: the suite is CPU-bound, and a third worker fills a core
while another's test waits (an idle timer, a workflow in moto's threads, another process). Two
tests that mostly wait, running at once in two workers, leave a core idle. Modules marked
`@pytest.mark.waits` are such tests: each is one work unit (a group "waits:..."), and
`WaitingOneAtATime` gives one to a worker only while no other worker runs one, as long as there
is other work to give; the other two workers keep both cores busy meanwhile. When only waiting
units are left they go to whoever asks.

The work queue's order (`work_order`; xdist's reordering by group size is off): the longest groups
first (LONGEST_FIRST), then the waiting units (so a worker takes one as soon as none runs), then
every other module in an order fixed by a hash of its path, a module's tests together and in the
order written. Alphabetical order put modules of one kind one after the other (every tests/runtime
and tests/security module near the end, several of them waiting).
"""
from __future__ import annotations

import zlib
from typing import Any

import pytest

WAITS = "waits"   # the marker; and the prefix of a waiting unit's group name ("waits:...")
# The longest groups, longest first (`make test` prints the slowest tests): each half of the fuzz
# 60-90 s of a worker, the CDK synthesis and the infra tests 30-45 s, the README walk 60 s, the races
# 30-50 s.
LONGEST_FIRST = ("tests/fuzz/test_tmf_fuzz.py", "tests/infra/", "tests/readme/test_readme.py",
                 "tests/runtime/test_runtime_races.py")


def waiting(scope: str) -> bool:
    """Whether an xdist work unit (its scope: a group name or a node id) is a waiting one."""
    return scope.startswith(WAITS + ":")


def group_of(item: Any, group: str | None) -> str | None:
    """The xdist group of `item`: `group` (None: no group), or its waiting name if the item is
    marked `waits` (a module marked waits without a group is one group)."""
    if item.get_closest_marker(WAITS) is None:
        return group
    name = group or item.nodeid.split("::", 1)[0]
    return name if waiting(name) else f"{WAITS}:{name}"


def check_named(item: Any, marked: Any) -> None:
    """A test that names its own xdist group and is marked `waits` names a waiting group (xdist
    joins every group name an item is marked with, so one cannot be renamed here)."""
    name = marked.args[0] if marked.args else marked.kwargs.get("name", "default")
    if item.get_closest_marker(WAITS) is not None and not waiting(str(name)):
        raise pytest.UsageError(f"{item.nodeid} is marked {WAITS} in the xdist group {name!r}: name it "
                                f"'{WAITS}:...' (tests/support/runtimes.py shared(env, waits=True))")


def work_order(item: Any) -> tuple[int, int, int]:
    """The sort key of `item` in the collection, which is the order of xdist's work queue."""
    module = item.nodeid.split("::", 1)[0]
    first = next((n for n, m in enumerate(LONGEST_FIRST) if module.startswith(m)), None)
    if first is not None:
        return 0, first, 0
    if item.get_closest_marker(WAITS) is not None:
        return 1, 0, zlib.crc32(module.encode())
    return 2, 0, zlib.crc32(module.encode())


def make_scheduler(config: Any, log: Any) -> Any:
    """xdist's loadgroup scheduling with the queue in collection order and one waiting unit at a time."""
    from xdist.scheduler import LoadGroupScheduling

    class WaitingOneAtATime(LoadGroupScheduling):   # type: ignore[misc]
        def __init__(self, config: Any, log: Any = None) -> None:
            super().__init__(config, log)
            # The queue in collection order (work_order), not xdist's largest group first.
            config.option.loadscopereorder = False

        def _waiting_elsewhere(self, node: Any) -> bool:
            return any(waiting(scope) and not all(unit.values())
                       for other, work in self.assigned_work.items() if other is not node
                       for scope, unit in work.items())

        def _assign_work_unit(self, node: Any) -> None:
            # xdist 3.8's LoadScopeScheduling._assign_work_unit, with the unit chosen here
            assert self.workqueue
            held = self._waiting_elsewhere(node)
            scope = next((s for s in self.workqueue if not (held and waiting(s))), next(iter(self.workqueue)))
            work_unit = self.workqueue.pop(scope)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            collection = self.registered_collections[node]
            node.send_runtest_some([collection.index(nodeid) for nodeid, done in work_unit.items() if not done])

    return WaitingOneAtATime(config, log)
