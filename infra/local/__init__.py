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
