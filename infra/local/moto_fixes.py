"""Where moto (5.2.5) differs from AWS in a way the local runtime hits, and the smallest patch
that makes it behave like AWS. Installed and removed together with the Lambda routing
(`infra.local.lambdas.install` / `uninstall`), which every runtime and test fixture calls.

- An execution is not usable until its own thread has run. moto's StartExecution returns once it
  has started the execution's thread, and that thread builds the execution's evaluation
  environment; until it has, StopExecution raised AttributeError ('NoneType' object has no
  attribute 'set_stop') and SendTaskSuccess/Failure/Heartbeat ('... no attribute
  callback_pool_manager', for *any* running execution, not only the token's), each as HTTP 500.
  AWS has no such window. The patch makes StartExecution return only once the environment exists
  (waiting at most 5 s, a few milliseconds in practice).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

log = logging.getLogger("infra.local")

_originals: dict[str, Callable[..., Any]] = {}
_START_WAIT_SECONDS = 5.0


def _start_and_wait_for_environment(worker: Any) -> None:
    _originals["ExecutionWorker.start"](worker)
    deadline = time.monotonic() + _START_WAIT_SECONDS
    while worker.env is None and time.monotonic() < deadline:
        time.sleep(0.002)
    if worker.env is None:
        log.warning("a Step Functions execution did not start within %.0f s (its thread failed?)", _START_WAIT_SECONDS)


def install() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if "ExecutionWorker.start" not in _originals:
        _originals["ExecutionWorker.start"] = ExecutionWorker.start
        ExecutionWorker.start = _start_and_wait_for_environment  # type: ignore[method-assign]


def uninstall() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = _originals.pop("ExecutionWorker.start", None)
    if original is not None:
        ExecutionWorker.start = original  # type: ignore[method-assign]
