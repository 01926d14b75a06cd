"""What one test leaves behind must not reach the next: a Step Functions execution still running
when its test ends, and PynamoDB connections made against another endpoint (session 6's CI run
failed six tests of one worker after a workflow thread outlived its test)."""
from __future__ import annotations

import json
import os
import time

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from tests.conftest import _end_workflows

LONG_WAIT = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}


def test_the_aws_fixture_ends_the_workflows_a_test_left_running(aws):
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from chalicelib import aws as aws_clients

    sfn = aws_clients.client("stepfunctions")
    machine = sfn.create_state_machine(name="left-running", definition=json.dumps(LONG_WAIT),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 30
    while not any(thread.is_alive() for thread in TMP_THREADS) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(thread.is_alive() for thread in TMP_THREADS)

    _end_workflows()   # what the fixture does when the test ends

    assert not any(thread.is_alive() for thread in TMP_THREADS)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"


class _Probe(Model):
    class Meta:
        table_name = "probe"
        region = "eu-west-1"

    key = UnicodeAttribute(hash_key=True)


def test_reset_forgets_the_connection_each_model_made_against_an_old_endpoint(monkeypatch):
    from chalicelib import aws as aws_clients

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    old = _Probe._get_connection()
    assert old.connection.client.meta.endpoint_url == "http://127.0.0.1:9"

    aws_clients.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:10")

    new = _Probe._get_connection()
    assert new is not old
    assert new.connection.client.meta.endpoint_url == os.environ["AWS_ENDPOINT_URL"]


TOKEN_WAIT = {"StartAt": "Wait for the stack", "States": {"Wait for the stack": {
    "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "TimeoutSeconds": 3600,
    "Parameters": {"QueueUrl": "QUEUE", "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}


def test_a_stopped_workflow_waiting_for_a_task_token_ends_too(aws):
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from chalicelib import aws as aws_clients

    queue = aws_clients.client("sqs").create_queue(QueueName="token-wait")["QueueUrl"]
    definition = json.dumps(TOKEN_WAIT).replace("QUEUE", queue)
    sfn = aws_clients.client("stepfunctions")
    machine = sfn.create_state_machine(name="waits-for-a-token", definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 30
    while not aws_clients.client("sqs").receive_message(QueueUrl=queue).get("Messages"):
        assert time.monotonic() < deadline, "the workflow never sent its task token"

    _end_workflows()

    assert not any(thread.is_alive() for thread in TMP_THREADS)
    # moto reports the woken wait's failure rather than AWS's ABORTED; what matters is that it ended
    assert sfn.describe_execution(executionArn=execution)["status"] in ("ABORTED", "FAILED")
