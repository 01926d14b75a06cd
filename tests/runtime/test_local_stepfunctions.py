"""Step Functions lambda:invoke tasks reach our handlers; Retry and Catch see the error type."""
from __future__ import annotations

import json
import time

import boto3
import pytest

from chalicelib import settings
from tests.runtime import handlers
from tests.runtime.testbed import run


def test_task_reaches_the_handler(test_env):
    execution = run({"id": "plain"})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"id": "plain", "attempts": 1, "function": "omnishop-local-rt-task"}
    assert handlers.received["task"] == [{"id": "plain"}]


def test_retry_on_the_raised_error_type(test_env):
    execution = run({"id": "flaky", "error": "TransientError", "failures": 1})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["attempts"] == 2


def test_catch_on_the_raised_error_type(test_env):
    execution = run({"id": "broken", "error": "PermanentError", "failures": 99})
    assert execution["status"] == "SUCCEEDED"
    error = json.loads(execution["output"])["error"]
    assert error["Error"] == "PermanentError"
    cause = json.loads(error["Cause"])
    assert cause["errorType"] == "PermanentError" and cause["errorMessage"] == "broken failed"
    assert len(handlers.received["task"]) == 1  # no Retry for this error type


@pytest.mark.expects_failed_workflow
def test_retries_exhausted_fail_the_execution(test_env):
    execution = run({"id": "down", "error": "TransientError", "failures": 99})
    assert execution["status"] == "FAILED" and execution["error"] == "TransientError"
    assert len(handlers.received["task"]) == 3  # the first call and MaxAttempts 2


def test_direct_invoke_reports_a_function_error(test_env):
    lam = boto3.client("lambda")
    ok = lam.invoke(FunctionName="omnishop-local-rt-task", Payload=json.dumps({"id": "direct"}))
    assert "FunctionError" not in ok and json.load(ok["Payload"])["attempts"] == 1
    failed = lam.invoke(FunctionName="omnishop-local-rt-task",
                        Payload=json.dumps({"id": "direct-bad", "error": "PermanentError", "failures": 1}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.load(failed["Payload"])["errorType"] == "PermanentError"


def test_an_execution_can_be_stopped_or_signalled_as_soon_as_it_started(test_env):
    """AWS has no window after StartExecution in which StopExecution or SendTaskSuccess fail;
    moto had one (infra.local.moto_fixes). A bad token is InvalidToken, never a 500."""
    sfn = boto3.client("stepfunctions")
    machine = settings.state_machine_arn("rt-machine")
    for attempt in range(10):
        arn = sfn.start_execution(stateMachineArn=machine, name=f"fresh-{attempt}",
                                  input=json.dumps({"id": f"fresh-{attempt}"}))["executionArn"]
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_success(taskToken="no-such-token", output="{}")
        sfn.stop_execution(executionArn=arn, error="Test", cause="stopped at once")
        deadline = time.monotonic() + 60   # moto's execution thread reflects the stop a moment later
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        # ended: ABORTED (also when the stop lands inside the Task state: infra.local.moto_fixes),
        # or SUCCEEDED when it finished first
        assert sfn.describe_execution(executionArn=arn)["status"] in ("ABORTED", "SUCCEEDED")
