"""DynamoDB stream records reach their handler in Lambda's shape, with checkpointed retries."""
from __future__ import annotations

import base64
import time

import boto3
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import settings
from infra.local.pump import Pump
from tests.runtime import handlers
from tests.runtime.testbed import FUNCTIONS


def put(*keys: str, **extra) -> None:
    ddb = boto3.client("dynamodb")
    for key in keys:
        ddb.put_item(TableName=settings.table_name("rt-stream"), Item={"pk": {"S": key}, **extra})


def wait_until(condition, timeout: float = 60.0) -> None:
    """Until condition() holds (the test's assertions say what was missing), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def delivered_keys() -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in handlers.received["stream"]]


def test_stream_record_arrives_in_lambda_shape(test_env):
    put("a", blob={"B": b"\x00\x01binary"})  # written before the pump exists: TRIM_HORIZON
    Pump(FUNCTIONS).drain()
    [record] = handlers.received["stream"]
    stream_arn = boto3.client("dynamodb").describe_table(
        TableName=settings.table_name("rt-stream"))["Table"]["LatestStreamArn"]
    assert record["eventSourceARN"] == stream_arn
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert record["awsRegion"] == "eu-west-1" and record["eventVersion"]
    stamp = record["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(stamp, int) and abs(stamp - time.time()) < 120
    assert record["dynamodb"]["NewImage"]["blob"]["B"] == base64.b64encode(b"\x00\x01binary").decode()
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert DynamoDBRecord(record).dynamodb.keys == {"pk": "a"}  # Powertools reads it
    [context] = handlers.received["stream-context"]
    assert context.function_name == "omnishop-local-rt-stream"
    assert context.invoked_function_arn.endswith(":function:omnishop-local-rt-stream")
    assert context.aws_request_id and context.memory_limit_in_mb == 512
    assert 0 < context.get_remaining_time_in_millis() <= 30_000


def test_failed_record_is_retried_from_its_checkpoint(test_pump):
    handlers.fail_times["b"] = 1
    put("a", "b", "c")
    test_pump.drain()
    assert delivered_keys() == ["a", "b", "c", "b", "c"]
    assert not test_pump.failures


def test_record_that_keeps_failing_is_skipped_after_bounded_retries(test_pump):
    handlers.fail_times["x"] = 99
    put("x", "y")
    test_pump.drain()
    assert delivered_keys() == ["x", "y"] * (1 + test_pump.max_stream_retries) + ["y"]
    [failure] = test_pump.failures
    assert failure.function == "rt-stream" and failure.record["dynamodb"]["Keys"]["pk"]["S"] == "x"


def test_later_writes_are_delivered_in_order(test_pump):
    put("1", "2")
    test_pump.drain()
    put("3")
    test_pump.drain()
    assert delivered_keys() == ["1", "2", "3"]


def test_background_threads_deliver(test_pump):
    test_pump.start()
    try:
        put("bg")
        wait_until(lambda: handlers.received["stream"])
    finally:
        test_pump.stop()
    assert delivered_keys() == ["bg"]


def test_idle_threads_wait_on_moto_instead_of_polling(test_pump):
    """Started and idle, the pump's threads sleep until moto (in this process) appends a stream
    record or queues a message: over a 2 s rest its two sources (a shard reader and a queue; the
    lane makes no AWS call) make a handful of calls, where polling every 0.2 s made about 20.
    Counted calls only; a slower machine makes fewer, never more. Then a write is still
    delivered, and a queued message too."""
    import threading

    from bench.harness import Calls

    test_pump.start()
    try:
        put("first")
        wait_until(lambda: handlers.received["stream"])
        calls = Calls()
        with calls.counting():
            threading.Event().wait(2.0)   # the rest counted (not a timing assertion: an upper bound)
        # a queue look a second (QUEUE_IDLE_SECONDS), a shard look at most every 5 s, a refresh
        assert calls.total() <= 8, calls.summary()
        put("second")
        queue_url = boto3.client("sqs").get_queue_url(QueueName=settings.resource_name("rt-queue"))["QueueUrl"]
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="hello")
        wait_until(lambda: delivered_keys() == ["first", "second"] and handlers.received["queue"])
    finally:
        test_pump.stop()
    assert delivered_keys() == ["first", "second"]
    assert [r["body"] for r in handlers.received["queue"]] == ["hello"]


def test_a_pump_given_the_streams_opens_the_same_sources_without_describing(pump):
    """The `pump` fixture's pump is given the streams as they were read when its moto was
    provisioned (tests/conftest.py): it opens the same sources as a pump that describes every
    table and stream, without a DescribeTable or DescribeStream."""
    from bench.harness import Calls

    def opened(a_pump: Pump) -> list[tuple]:
        return [(s.name, type(s).__name__, getattr(s, "stream_arn", None), getattr(s, "partition_key", None))
                for s in a_pump.sources]

    assert pump.described, "the pump fixture was given no streams"
    given, describing = Calls(), Calls()
    with given.counting():
        sources = opened(pump)
    with describing.counting():
        assert sources == opened(Pump(retry_delay=0)) and len(sources) > 20
    described = {"dynamodb:DescribeTable", "dynamodbstreams:DescribeStream"}
    assert not described & set(given.counts), given.summary()
    assert described <= set(describing.counts), describing.summary()


def test_a_shard_with_no_record_is_not_asked_until_one_is_written(test_pump):
    """In a moto of this process a shard that holds no record is not asked anything (no iterator,
    no GetRecords); once a record is written the pump takes its iterator at TRIM_HORIZON and
    delivers from the first record, as a reader started earlier would."""
    from bench.harness import Calls

    idle, written = Calls(), Calls()
    with idle.counting():
        test_pump.drain()
        test_pump.drain()
    assert not {"dynamodbstreams:GetShardIterator", "dynamodbstreams:GetRecords"} & set(idle.counts), idle.summary()
    put("a", "b")
    with written.counting():
        test_pump.drain()
    assert delivered_keys() == ["a", "b"]
    assert written.counts["dynamodbstreams:GetShardIterator"] == 1, written.summary()


def test_started_threads_deliver_a_stream_first_written_after_they_rest(test_pump):
    """The same with the pump's threads (as the local runtime runs it): every shard empty when they
    start, so none has an iterator; a write wakes the reader, which takes it and delivers, and
    twenty writers at once lose no record."""
    import threading

    test_pump.start()
    try:
        threading.Event().wait(0.3)   # the threads have polled and rest (a slower machine: still delivered)
        keys = [f"k{n:02d}" for n in range(20)]
        writers = [threading.Thread(target=put, args=(key,)) for key in keys]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        wait_until(lambda: len(delivered_keys()) == len(keys))
    finally:
        test_pump.stop()
    assert sorted(delivered_keys()) == keys
    assert not test_pump.failures and not test_pump.errors
