"""The local runtime: every resource of infra/resources.py in a moto server, and the event
plumbing AWS would run around it (DESIGN §4).

- `provision`: creates the resources (tables, queues, topics, functions, state machines, ...).
- `lambdas`: calls a Function spec's handler the way Lambda does, and routes Step Functions
  `lambda:invoke` tasks to it.
- `pump`: DynamoDB stream shards and SQS queues -> handlers, with partial batch failures.
- `schedules`: EventBridge Scheduler expressions -> handlers.
- `runtime`: `python -m infra.local` (`make run`): moto server + all of the above + the API.
- `process`: the runtime as a subprocess (tests, benchmarks).

Nothing here is imported by the deployed code.
"""
from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

# What every local process (runtime, tests) runs with: fake credentials, one region, and the
# account-id endpoint mode moto's DynamoDB streams need in-process.
LOCAL_ENV = {
    "OMNISHOP_LOCAL": "1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}

# moto's configuration for the local runtime: Lambda without Docker (we run the handlers
# ourselves), and Step Functions that really execute.
MOTO_CONFIG: DefaultConfig = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}


def apply_local_env() -> None:
    """Put LOCAL_ENV into os.environ; real credentials are never used locally."""
    os.environ.update(LOCAL_ENV)


# CPython's cyclic garbage collector, for a local process that hosts moto, botocore's models and the
# app (the runtime, a test worker: some 400,000 long-lived objects) and allocates millions of
# short-lived ones. At the default thresholds (700, 10, 10) a collection of the oldest generation,
# which walks that whole heap, came every 70,000 allocations or so: 13 % of a test process's CPU
# (component tests, 356 of them: 4.6 of 32 CPU-s, 22 collections of about 200 ms). With the young
# generation collected every 10,000 allocations instead: 1.6 CPU-s (docs/decisions.md, session 17).
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc(started: bool = False) -> None:
    """GC_THRESHOLDS; `started`: the process has built what it keeps (imports, moto's resources, the
    demo data): those objects are moved out of the collector's sight (gc.freeze), so no collection
    walks them again."""
    gc.set_threshold(*GC_THRESHOLDS)
    if started:
        gc.collect()
        gc.freeze()
