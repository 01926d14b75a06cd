"""Test-only Lambda handlers for tests/runtime: they record what they get and fail on demand."""
from __future__ import annotations

from typing import Any

# What they record lives in one module: a second execution environment of a function (a fresh
# instance of this module, infra.local.lambdas) records into the same place.
from tests.runtime.recorded import attempts, fail_times, received, reset, transactions, waits  # noqa: F401


class TransientError(Exception):
    pass


class PermanentError(Exception):
    pass


def _fails(key: str) -> bool:
    attempts[key] += 1
    return attempts[key] <= fail_times.get(key, 0)


def stream_handler(event: dict, context: Any) -> dict:
    """Fails a record whose key `pk` is in fail_times, that many times."""
    failures = []
    received["stream-batches"].append([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]])
    for record in event["Records"]:
        received["stream"].append(record)
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        if key in waits:
            waits[key].wait(60)
        if key in transactions:
            _transaction(record["eventSourceARN"].split("/")[1], key, transactions[key])
        if _fails(record["dynamodb"]["Keys"]["pk"]["S"]):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    received["stream-context"].append(context)
    return {"batchItemFailures": failures}


def queue_handler(event: dict, context: Any) -> dict:
    """Fails a message whose body is in fail_times; raises (failing the batch) on `boom`."""
    received["queue-batches"].append([r["body"] for r in event["Records"]])
    failures = []
    for record in event["Records"]:
        received["queue"].append(record)
        if record["body"] == "boom" and _fails("boom"):
            raise RuntimeError("boom")
        if record["body"] != "boom" and _fails(record["body"]):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def task_handler(event: dict, context: Any) -> dict:
    """A Step Functions task: raises event["error"] for the first event["failures"] calls."""
    received["task"].append(event)
    key = event["id"]
    fail_times.setdefault(key, event.get("failures", 0))
    if _fails(key):
        raise {"TransientError": TransientError, "PermanentError": PermanentError}[event["error"]](f"{key} failed")
    return {"id": key, "attempts": attempts[key], "function": context.function_name}


def scheduled_handler(event: dict, context: Any) -> dict:
    received["scheduled"].append(event)
    return {"ok": True}


def _transaction(table: str, key: str, kind: str) -> None:
    """A TransactWriteItems that DynamoDB refuses: "cancel" (a condition on an absent item),
    "conflict" (a stale version: another writer got there first) or "invalid" (two operations on
    one item). Each also puts `<key>-written`, which must not survive. Records the error code."""
    import boto3
    from botocore.exceptions import ClientError

    put = {"Put": {"TableName": table, "Item": {"pk": {"S": f"{key}-written"}}}}
    refused = {
        "cancel": {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": f"{key}-absent"}},
                                      "ConditionExpression": "attribute_exists(pk)"}},
        "conflict": {"Update": {"TableName": table, "Key": {"pk": {"S": key}}, "UpdateExpression": "SET version = :next",
                                "ConditionExpression": "version = :seen",
                                "ExpressionAttributeValues": {":seen": {"N": "41"}, ":next": {"N": "42"}}}},
        "invalid": {"Delete": {"TableName": table, "Key": {"pk": {"S": f"{key}-written"}}}},
    }[kind]
    try:
        boto3.client("dynamodb").transact_write_items(TransactItems=[put, refused])
    except ClientError as exc:
        received["transaction-errors"].append(exc.response["Error"]["Code"])
