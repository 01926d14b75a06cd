"""tests/support/runtimes.py: modules whose runtimes have the same env are one xdist group (one
runtime start), whatever order they write it in; a different env is another group."""
from tests.support import runtimes


def group(env):
    (name,) = runtimes.shared(env).args
    return name


def test_the_same_env_is_one_group_in_any_order():
    assert group({"A": "1", "B": "2"}) == group({"B": "2", "A": "1"})
    assert group(runtimes.IDLE_BASKETS) == group({"OMNISHOP_SIMULATED_STACK_DELAY_SECONDS": "0.2",
                                                   "OMNISHOP_BASKET_IDLE_SECONDS": "2"})


def test_another_env_is_another_group():
    assert group(runtimes.FAST_STACKS) != group(runtimes.IDLE_BASKETS)
    assert group({"A": "1"}) != group({"A": "2"}) != group({"B": "1"})
