"""Test-only Lambda handlers for tests/runtime: they record what they get and fail on demand."""
from __future__ import annotations

import collections
from typing import Any

received: dict[str, list[Any]] = collections.defaultdict(list)  # handler name -> events/records
attempts: collections.Counter = collections.Counter()             # key -> deliveries seen
fail_times: dict[str, int] = {}                                    # key -> deliveries to fail


class TransientError(Exception):
    pass


class PermanentError(Exception):
    pass


def reset() -> None:
    received.clear()
    attempts.clear()
    fail_times.clear()


def _fails(key: str) -> bool:
    attempts[key] += 1
    return attempts[key] <= fail_times.get(key, 0)


def stream_handler(event: dict, context: Any) -> dict:
    """Fails a record whose key `pk` is in fail_times, that many times."""
    failures = []
    for record in event["Records"]:
        received["stream"].append(record)
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
