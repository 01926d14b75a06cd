"""Test-only resources for the runtime tests (not in infra/resources.py), and how to run them."""
from __future__ import annotations

import json
import pathlib
import time

import boto3

from chalicelib import settings
from infra.resources import Function, Queue, QueueSource, Schedule, StateMachine, StreamSource, Table

HERE = pathlib.Path(__file__).resolve().parent
STREAM_TABLE = Table("rt-stream", key_schema=(("pk", "S", "HASH"),), stream=True)
QUEUE = Queue("rt-queue", max_receive_count=2, visibility_timeout=30)
FUNCTIONS = (
    Function("rt-stream", "tests.runtime.handlers.stream_handler", sources=(StreamSource("rt-stream", batch_size=10),)),
    Function("rt-queue", "tests.runtime.handlers.queue_handler", sources=(QueueSource("rt-queue", batch_size=10),)),
    Function("rt-task", "tests.runtime.handlers.task_handler", timeout=10, memory=256),
    Function("rt-scheduled", "tests.runtime.handlers.scheduled_handler"),
)
# StateMachine.definition() joins the file to infra/statemachines/; an absolute path wins.
MACHINE = StateMachine("rt-machine", str(HERE / "task_machine.asl.json"), functions={"TaskFunctionArn": "rt-task"})
SCHEDULE = Schedule("rt-tick", "rate(1 minute)", "rt-scheduled", payload={"job": "tick"})


def provision_testbed() -> dict[str, str]:
    """Provision these resources (beside whatever exists) and route their Lambda invocations."""
    from infra.local import lambdas
    from infra.local.provision import provision

    lambdas.install(FUNCTIONS)
    return provision(tables=[STREAM_TABLE], queues=[QUEUE], functions=FUNCTIONS, state_machines=[MACHINE],
                     schedules=[SCHEDULE], topics=[], email_sender=None)


def run(execution_input: dict, timeout: float = 30, name: str | None = None) -> dict:
    """Start an execution of the test state machine (named `name`, else as moto names it) and wait
    for its end."""
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=settings.state_machine_arn("rt-machine"),
                              input=json.dumps(execution_input), **({"name": name} if name else {}))["executionArn"]
    deadline = time.monotonic() + timeout
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING" or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)
