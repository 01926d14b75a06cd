"""Starting and stopping Step Functions executions: the one way every context does it.

Executions are named after what they are for (an order, a basket's recovery session, a
message), so the name is the idempotency key: `start_once` starts at most one execution per name
however often a stream record or a task is delivered. AWS answers a StartExecution that repeats
the name *and the input* of a running execution as if it had started it; so each call adds a fresh
`startToken` to the input, every repeat of a name is refused with ExecutionAlreadyExists, and
`start_once` says exactly whether this call started the execution.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Mapping

from chalicelib import aws, settings


def execution_arn(machine: str, name: str) -> str:
    """The ARN of the execution `name` of the logical state machine `machine`."""
    return settings.state_machine_arn(machine).replace(":stateMachine:", ":execution:", 1) + f":{name}"


def start_once(machine: str, name: str, payload: Mapping[str, Any]) -> bool:
    """Start execution `name` of `machine` with `payload` (plus `startToken`); False when an
    execution of that name exists already (running or finished), which then stays as it is."""
    sfn = aws.client("stepfunctions")
    try:
        sfn.start_execution(stateMachineArn=settings.state_machine_arn(machine), name=name,
                            input=json.dumps({**payload, "startToken": uuid.uuid4().hex}))
    except sfn.exceptions.ExecutionAlreadyExists:
        return False
    return True


def stop(machine: str, name: str, error: str, cause: str) -> bool:
    """StopExecution if it runs; an execution already finished (or never started) is left as it is,
    so a repeated stop is harmless. True when this call stopped it."""
    sfn = aws.client("stepfunctions")
    arn = execution_arn(machine, name)
    try:
        if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            return False
        sfn.stop_execution(executionArn=arn, error=error, cause=cause[:200])
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True
