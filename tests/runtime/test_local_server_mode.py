"""The same plumbing against a moto server (the local runtime's mode), not in-process moto."""
from __future__ import annotations

import boto3

from chalicelib import settings
from infra.local.pump import Pump
from tests.runtime import handlers
from tests.runtime.testbed import FUNCTIONS, QUEUE, run


def test_state_machine_routes_to_the_handler_through_the_server(moto_server):
    execution = run({"id": "server", "error": "TransientError", "failures": 1})
    assert execution["status"] == "SUCCEEDED", execution
    assert [e["id"] for e in handlers.received["task"]] == ["server", "server"]


def test_pump_delivers_from_the_server(moto_server):
    boto3.client("dynamodb").put_item(TableName=settings.table_name("rt-stream"), Item={"pk": {"S": "s1"}})
    boto3.client("sqs").send_message(QueueUrl=settings.queue_url(QUEUE.name), MessageBody="m1")
    Pump(FUNCTIONS, retry_delay=0).drain()
    [record] = handlers.received["stream"]
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:eu-west-1:123456789012:table/omnishop-local-rt-stream/stream/")
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert [r["body"] for r in handlers.received["queue"]] == ["m1"]
