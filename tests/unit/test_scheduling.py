"""tests/support/scheduling.py: `make test`'s workers run one waiting unit at a time while other
work is left, in the order of the collection; and the marks that make a unit a waiting one."""
from __future__ import annotations

import types

import pytest

from tests.support import runtimes, scheduling


class Worker:
    """What xdist's scheduler needs of a worker: the tests it is sent, by index."""

    def __init__(self, name: str) -> None:
        self.name, self.sent, self.shutting_down = name, [], False
        self.gateway = types.SimpleNamespace(id=name)

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.append(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


COLLECTION = [
    "tests/fuzz/test_tmf_fuzz.py::test_spec[a]@fuzz",
    "tests/a/test_busy.py::test_one",
    "tests/a/test_busy.py::test_two",
    "tests/b/test_wait.py::test_one@waits:tests/b/test_wait.py",
    "tests/c/test_wait.py::test_one@waits:tests/c/test_wait.py",
    "tests/c/test_wait.py::test_two@waits:tests/c/test_wait.py",
    "tests/d/test_busy.py::test_one",
    "tests/d/test_busy.py::test_two",
    "tests/d/test_busy.py::test_three",
    "tests/d/test_busy.py::test_four",
    "tests/e/test_big.py::test_one@big",
    "tests/e/test_big.py::test_two@big",
    "tests/e/test_big.py::test_three@big",
]


def scheduler(workers, collection=COLLECTION):
    config = types.SimpleNamespace(getvalue=lambda name: [f"{len(workers)}*popen"] if name == "tx" else None,
                                   option=types.SimpleNamespace(loadscopereorder=True))
    sched = scheduling.make_scheduler(config, None)
    for worker in workers:
        sched.add_node(worker)
        sched.add_node_collection(worker, collection)
    return sched


def sent_to(worker, batch=-1):
    return [COLLECTION[i].split("@")[0] for i in worker.sent[batch]]


def started():
    """Three workers, the work handed out as xdist starts a run."""
    workers = Worker("a"), Worker("b"), Worker("c")
    sched = scheduler(workers)
    sched.schedule()
    return sched, *workers


def finish(sched, worker, batch=-1):
    for index in worker.sent[batch]:
        sched.mark_test_complete(worker, index)


def test_the_queue_is_the_collections_order_not_largest_group_first():
    _, a, b, c = started()
    assert sent_to(a, 0) == ["tests/fuzz/test_tmf_fuzz.py::test_spec[a]"]
    assert sent_to(b, 0) == ["tests/a/test_busy.py::test_one"]
    assert sent_to(c, 0) == ["tests/a/test_busy.py::test_two"]


def test_a_waiting_unit_waits_for_the_one_running_while_other_work_is_left():
    sched, a, b, c = started()
    # each worker was given a second unit at once (xdist: at most two tests pending): a the first
    # waiting module; b and c skip the second one (a runs one) for the busy tests after it
    assert sent_to(a, 1) == ["tests/b/test_wait.py::test_one"]
    assert sent_to(b, 1) == ["tests/d/test_busy.py::test_one"]
    assert sent_to(c, 1) == ["tests/d/test_busy.py::test_two"]
    finish(sched, b, 0)      # b asks again while a has a waiting unit: the busy test after c's
    assert sent_to(b) == ["tests/d/test_busy.py::test_three"]
    finish(sched, c, 0)
    finish(sched, c, 1)
    assert [sent_to(c, n) for n in (2, 3)] == [["tests/d/test_busy.py::test_four"],
                                                ["tests/e/test_big.py::test_one", "tests/e/test_big.py::test_two",
                                                 "tests/e/test_big.py::test_three"]]
    assert sched.workqueue.keys() == {"waits:tests/c/test_wait.py"}
    finish(sched, a, 0)      # a asks: it runs the waiting unit, so the next one queues behind it
    assert sent_to(a) == ["tests/c/test_wait.py::test_one", "tests/c/test_wait.py::test_two"]


def test_when_only_waiting_units_are_left_they_go_to_whoever_asks():
    collection = [n for n in COLLECTION if "waits:" in n]
    a, b = Worker("a"), Worker("b")
    sched = scheduler([a, b], collection)
    sched.schedule()
    assert [collection[i] for i in a.sent[0]] == [collection[0]]
    assert [collection[i] for i in b.sent[0]] == collection[1:]


class Item:
    def __init__(self, nodeid: str, *marks) -> None:
        self.nodeid, self.marks = nodeid, {m.name: m for m in marks}

    def get_closest_marker(self, name):
        return self.marks.get(name)


def test_a_module_marked_waits_is_one_waiting_group():
    item = Item("tests/x/test_y.py::test_z", pytest.mark.waits.mark)
    assert scheduling.group_of(item, None) == "waits:tests/x/test_y.py"
    assert scheduling.group_of(item, "tests/x/test_y.py") == "waits:tests/x/test_y.py"
    assert scheduling.group_of(Item("tests/x/test_y.py::test_z"), None) is None
    assert scheduling.waiting(scheduling.group_of(item, None))


def test_a_shared_group_marked_waits_must_be_named_so():
    idle = runtimes.shared(runtimes.IDLE_BASKETS)
    with pytest.raises(pytest.UsageError, match="waits=True"):
        scheduling.check_named(Item("tests/x/test_y.py::test_z", pytest.mark.waits.mark, idle.mark), idle.mark)
    named = runtimes.shared(runtimes.IDLE_BASKETS, waits=True)
    scheduling.check_named(Item("tests/x/test_y.py::test_z", pytest.mark.waits.mark, named.mark), named.mark)
    assert scheduling.waiting(named.args[0])


def test_the_longest_groups_then_the_waiting_modules_then_the_rest():
    fuzz = Item("tests/fuzz/test_tmf_fuzz.py::test_spec[a]")
    infra = Item("tests/infra/test_stack_lint.py::test_cfn_lint")
    waits = Item("tests/b/test_wait.py::test_one", pytest.mark.waits.mark)
    rest = Item("tests/a/test_busy.py::test_one")
    assert sorted([rest, waits, infra, fuzz], key=scheduling.work_order) == [fuzz, infra, waits, rest]
