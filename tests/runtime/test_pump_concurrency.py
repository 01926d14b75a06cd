"""The pump under concurrency: every function's handler runs in its own execution environments
(one invocation at a time each: no BatchProcessor shared between threads), poison messages reach
their dead-letter queues while their siblings are processed once, and a stream shard's records
are processed in parallel lanes, one partition key's records in order."""
from __future__ import annotations

import collections
import dataclasses
import inspect
import json
import threading
import time

import boto3

from chalicelib import settings
from infra import resources
from infra.local import lambdas
from infra.local.listener import Listener
from infra.local.pump import Pump
from tests.runtime import handlers
from tests.runtime.testbed import FUNCTIONS as TESTBED

SIBLINGS = 9
WAIT = 180.0  # a bound for a loaded machine; the tests wait on their condition, not on the clock


def wait_for(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def _queue_url(name: str) -> str:
    return boto3.client("sqs").get_queue_url(QueueName=settings.resource_name(name))["QueueUrl"]


def _bodies(name: str) -> list[str]:
    sqs, url, bodies = boto3.client("sqs"), _queue_url(name), []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]


def _sibling(queue: str, i: int, listener: Listener) -> str:
    if queue == "hub-delivery":
        return json.dumps({"deliveryId": f"d-{i}", "callback": listener.url,
                           "event": {"eventType": "TestEvent", "eventId": f"e-{i}"}})
    if queue.startswith("stack-"):
        return json.dumps({"action": "create", "orderId": f"{queue}-child-{i}", "stack": queue[len("stack-"):]})
    return json.dumps({"campaignId": f"no-such-campaign-{i}", "customers": []})  # campaign-send: nothing to do


def test_poison_reaches_its_dlq_and_siblings_are_processed_once(pump, monkeypatch):
    queues = [s.queue for f in resources.FUNCTIONS for s in f.sources if isinstance(s, resources.QueueSource)]
    assert {"hub-delivery", "campaign-send", *(f"stack-{s}" for s in resources.STACKS)} <= set(queues)
    handled: collections.Counter = collections.Counter()

    def handle(stack: str, action: str, order_id: str) -> None:
        time.sleep(0.05)  # a stack's API takes a while: the three adapters' batches overlap
        handled.update([order_id])

    monkeypatch.setattr("chalicelib.stacks.adapters.handle", handle)
    deliveries: collections.Counter = collections.Counter()
    call = lambdas.call

    def counting(function, event):
        deliveries.update(r.get("body") for r in event.get("Records") or [])
        return call(function, event)

    monkeypatch.setattr(lambdas, "call", counting)
    sqs = boto3.client("sqs")
    with Listener() as listener:
        siblings = {q: [_sibling(q, i, listener) for i in range(SIBLINGS)] for q in queues}
        poison = {q: f"poison of {q}: {{not json" for q in queues}
        for q in queues:  # the poison in the middle of its siblings, in one batch
            bodies = siblings[q][:4] + [poison[q]] + siblings[q][4:]
            for i in range(0, len(bodies), 10):
                sqs.send_message_batch(QueueUrl=_queue_url(q), Entries=[
                    {"Id": str(n), "MessageBody": b} for n, b in enumerate(bodies[i:i + 10])])
        pump.start()  # one thread per queue: the adapters of three stacks at the same time
        try:
            wait_for(lambda: all(_dlq_has(q, poison[q]) for q in queues), "every poison in its DLQ")
            wait_for(lambda: len(listener.events) >= SIBLINGS, "every hub delivery")
        finally:
            pump.stop()
        assert sorted(e["eventId"] for e in listener.events) == sorted(f"e-{i}" for i in range(SIBLINGS))
    for q in queues:
        assert _bodies(f"{q}-dlq") == [poison[q]], q
        assert _bodies(q) == [], q
        assert [deliveries[b] for b in siblings[q]] == [1] * SIBLINGS, q
        max_receives = next(x for x in resources.QUEUES if x.name == q).max_receive_count
        assert deliveries[poison[q]] == max_receives, q
    assert handled == collections.Counter(
        f"stack-{s}-child-{i}" for s in resources.STACKS for i in range(SIBLINGS))


def _dlq_has(queue: str, body: str) -> bool:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=_queue_url(f"{queue}-dlq"), AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) >= 1


def _put(key: str, **attributes: str) -> None:
    boto3.client("dynamodb").put_item(TableName=settings.table_name("rt-stream"), Item={
        "pk": {"S": key}, **{k: {"S": v} for k, v in attributes.items()}})


def _lane_of(pump: Pump, key: str) -> int:
    shard = pump.sources[0]
    return shard._lane({"dynamodb": {"Keys": {"pk": {"S": key}}}}).index


def test_lanes_keep_each_key_in_order(test_env):
    function = dataclasses.replace(TESTBED[0], parallelization=4)
    pump = Pump([function], retry_delay=0)
    keys = [f"k{i}" for i in range(12)]
    for version in "123":
        for key in keys:
            _put(key, v=version)
    handlers.fail_times["k5"] = 1  # a retry in one lane holds back only that lane's keys
    pump.drain()
    seen: dict[str, list[str]] = collections.defaultdict(list)
    for record in handlers.received["stream"]:
        seen[record["dynamodb"]["Keys"]["pk"]["S"]].append(record["dynamodb"]["NewImage"]["v"]["S"])
    retried = {k for k in keys if _lane_of(pump, k) == _lane_of(pump, "k5")}
    assert {k: seen[k] for k in keys if k not in retried} == {k: ["1", "2", "3"] for k in keys if k not in retried}
    assert seen["k5"] == ["1", "2", "3", "1", "2", "3"]  # its batch failed at v1: again from there
    for key in retried - {"k5"}:  # the rest of the lane's batch was delivered again, in order
        assert seen[key][-1] == "3" and sorted(set(seen[key])) == ["1", "2", "3"], seen[key]
    lanes = {_lane_of(pump, k) for k in keys}
    assert len(lanes) > 1
    for batch in handlers.received["stream-batches"]:
        assert len({_lane_of(pump, k) for k in batch}) == 1, batch  # a batch is one lane's


def test_lanes_of_one_shard_run_at_the_same_time(test_env):
    """While one key's batch is still in its handler, another lane's key is delivered (each lane
    in its own execution environment); with one lane it would wait."""
    function = dataclasses.replace(TESTBED[0], parallelization=2)
    pump = Pump([function], retry_delay=0)
    slow = "slow"
    fast = next(k for k in (f"fast-{i}" for i in range(100)) if _lane_of(pump, k) != _lane_of(pump, slow))
    handlers.waits[slow] = threading.Event()
    pump.start()
    try:
        _put(slow)
        wait_for(lambda: handlers.received["stream-batches"][:1] == [[slow]], "the slow key's batch started")
        _put(fast)
        wait_for(lambda: [fast] in handlers.received["stream-batches"], "the other lane's key delivered", 60)
        handlers.waits[slow].set()
    finally:
        handlers.waits[slow].set()
        pump.stop()
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in handlers.received["stream"]] == [slow, fast]


def test_each_function_has_its_own_environments():
    """The three stack adapters share a module, not a BatchProcessor; a call made while another
    runs gets an environment of its own."""
    stacks = [resources.function(f"stack-{s}") for s in resources.STACKS]
    try:
        environments = [lambdas._acquire(f) for f in stacks]
        busy = lambdas._acquire(stacks[0])  # while the first is still taken
        processors = [inspect.unwrap(e.handler).__globals__["processor"] for e in (*environments, busy)]
        assert len({id(p) for p in processors}) == 4
        for environment in (*environments, busy):
            environment.lock.release()
        assert lambdas._acquire(stacks[0]) is environments[0]  # free again: reused
        environments[0].lock.release()
    finally:
        lambdas.uninstall()


def test_invocations_in_one_process_add_and_flush_metrics_in_turn(capsys):
    """Powertools' metric set is one per process: a flush (end of one handler) while another
    handler adds a metric raised "dictionary changed size during iteration" and failed that
    invocation. After lambdas.install they take turns, and every metric added is flushed once."""
    import sys

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    lambdas.install([])   # what the local runtime and the test fixtures do
    lambdas.uninstall()   # (the metrics' turns stay: a lock changes no answer)
    metrics, adds, errors = Metrics(namespace="Test", service="turns"), 3000, []
    metrics.clear_metrics()
    writing = threading.Event()

    def add() -> None:
        try:
            for n in range(adds):
                metrics.add_metric(name=f"m{n % 40}", unit=MetricUnit.Count, value=1)
                writing.set()
        except Exception as exc:
            errors.append(exc)

    def flush() -> None:
        writing.wait()
        try:
            while writer.is_alive():
                metrics.flush_metrics(raise_on_empty_metrics=False)
        except Exception as exc:
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)   # switch threads as often as the interpreter can: the race, every time
    try:
        writer, flusher = threading.Thread(target=add), threading.Thread(target=flush)
        writer.start(), flusher.start()
        writer.join(), flusher.join()
    finally:
        sys.setswitchinterval(interval)
    metrics.flush_metrics(raise_on_empty_metrics=False)
    assert errors == []
    flushed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert sum(len(values) if isinstance(values, list) else 1 for emf in flushed
               for name, values in emf.items() if name.startswith("m")) == adds
