"""Local runtimes that several test modules share (tests/conftest.py `local_runtime_factory`
starts one per distinct env in each pytest-xdist worker).

A module that asks for a runtime with an env of its own is kept in one worker (its own group,
tests/conftest.py). Modules that ask for the same env mark themselves `shared(ENV)`: one group
for all of them, so one worker starts that runtime once (about 4.5 CPU-seconds a start) instead
of each worker that drew one of them starting its own.
"""
from __future__ import annotations

from collections.abc import Mapping

import pytest

# Simulated stacks that report each milestone after 0.2 s instead of 1 s: orders complete in
# about a second.
FAST_STACKS = {"OMNISHOP_SIMULATED_STACK_DELAY_SECONDS": "0.2"}
# ... and a basket idle after 2 s: the abandoned-basket workflow starts at once.
IDLE_BASKETS = {"OMNISHOP_BASKET_IDLE_SECONDS": "2", **FAST_STACKS}


def shared(env: Mapping[str, str], waits: bool = False) -> pytest.MarkDecorator:
    """The xdist group of every module whose runtime has this env; `waits`: their tests mostly wait
    (every such module is then marked `waits` too: tests/support/scheduling.py)."""
    return pytest.mark.xdist_group(("waits:" if waits else "") + "runtime:"
                                   + ",".join(f"{k}={v}" for k, v in sorted(env.items())))
