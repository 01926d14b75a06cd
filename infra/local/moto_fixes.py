"""Where moto (5.2.5) differs from AWS in a way the local runtime hits, and the smallest patch
that makes it behave like AWS. Installed and removed together with the Lambda routing
(`infra.local.lambdas.install` / `uninstall`), which every runtime and test fixture calls.

- StopExecution right after StartExecution. moto builds an execution's evaluation environment on
  the execution's own thread, so a stop that arrives before that thread has run raised
  AttributeError ('NoneType' object has no attribute 'set_stop') and answered HTTP 500. AWS stops
  the execution. The patch waits (up to 5 s) for the thread to have built its environment, then
  stops it as moto would.
"""
from __future__ import annotations

import time
from typing import Any, Callable

_originals: dict[str, Callable[..., Any]] = {}
_START_WAIT_SECONDS = 5.0


def _stop_once_started(worker: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
    deadline = time.monotonic() + _START_WAIT_SECONDS
    while worker.env is None and time.monotonic() < deadline:
        time.sleep(0.005)
    _originals["ExecutionWorker.stop"](worker, stop_date=stop_date, error=error, cause=cause)


def install() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if "ExecutionWorker.stop" not in _originals:
        _originals["ExecutionWorker.stop"] = ExecutionWorker.stop
        ExecutionWorker.stop = _stop_once_started  # type: ignore[method-assign]


def uninstall() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = _originals.pop("ExecutionWorker.stop", None)
    if original is not None:
        ExecutionWorker.stop = original  # type: ignore[method-assign]
