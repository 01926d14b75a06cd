"""The event source mappings AWS would run: DynamoDB stream shards and SQS queues -> handlers.

moto's own event source mappings swallow records (DESIGN §8), so the pump polls the sources with
ordinary API calls and calls each handler with an event in exactly Lambda's shape, honouring
`{"batchItemFailures": [{"itemIdentifier": ...}]}` as Lambda does with ReportBatchItemFailures:

- SQS: succeeded messages are deleted; failed ones are made visible again after `retry_delay`
  seconds (ChangeMessageVisibility, instead of waiting out the queue's visibility timeout), and
  the queue's redrive policy moves a message that keeps failing to its DLQ. moto does that
  itself, faithfully: a receive that finds a message already received maxReceiveCount times moves
  it to the dead-letter queue instead of delivering it.
- Streams: a failed batch is retried from the lowest failed sequence number (the checkpoint),
  after `retry_delay`; a record that still fails after `max_stream_retries` retries is skipped
  (logged and kept in `Pump.failures`, like an on-failure destination). Each shard is read in
  order, one batch at a time; reading starts at TRIM_HORIZON, so no record written after the
  tables were provisioned is missed.
A handler that raises fails its whole batch. Every handler error is kept in `Pump.errors`.

`start()`/`stop()` run one thread per source (the runtime); `drain()` polls in the caller's thread
until nothing is pending (tests, in-process under `mock_aws` too).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from typing import Any, Iterable

from chalicelib import aws, settings
from infra import resources
from infra.local import lambdas
from infra.resources import Function, QueueSource, StreamSource

log = logging.getLogger("infra.local")

SQS_BATCH_LIMIT = 10  # ReceiveMessage / DeleteMessageBatch / ChangeMessageVisibilityBatch


def _json_default(value: Any) -> Any:
    """boto3 gives datetimes and bytes where Lambda's JSON has epoch seconds and base64."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers it."""
    shaped = as_json(record)
    shaped.update(eventSource="aws:dynamodb", eventVersion="1.1", awsRegion=settings.region(),
                  eventSourceARN=stream_arn)
    return shaped


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    return {"stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []), "dataType": value["DataType"]}


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A ReceiveMessage message in the shape Lambda delivers it."""
    record = {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": {k: str(v) for k, v in message.get("Attributes", {}).items()},
        "messageAttributes": {k: _message_attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": settings.region(),
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return as_json(record)


def failed_items(result: Any, identifiers: list[str]) -> set[str]:
    """Which items of a batch failed, read from the handler's response as Lambda reads it: an
    empty or missing list is success; an empty, null or unknown itemIdentifier fails them all."""
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    failed = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not item or item not in identifiers:
            return set(identifiers)
        failed.add(item)
    return failed


@dataclasses.dataclass
class Failure:
    """A stream record skipped after its retries, as an on-failure destination would keep it."""
    function: str
    record: dict[str, Any]
    error: str


class _Source:
    def __init__(self, pump: Pump, function: Function):
        self.pump, self.function = pump, function

    def invoke(self, records: list[dict[str, Any]], identifiers: list[str]) -> set[str]:
        """Call the handler with one batch; return the identifiers that failed."""
        try:
            result = lambdas.call(self.function, {"Records": records})
        except Exception as exc:
            log.warning("%s failed its batch of %d: %s: %s", self.function.name, len(records),
                        type(exc).__name__, exc, exc_info=True)
            self.pump.errors.append((self.function.name, exc))
            return set(identifiers)
        return failed_items(result, identifiers)

    def poll(self) -> bool:
        """Deliver at most one batch; True when there was something to do."""
        raise NotImplementedError

    def pending(self) -> bool:
        """True while something may still be delivered (a retry is due, a message is in flight)."""
        raise NotImplementedError


class _Shard(_Source):
    def __init__(self, pump: Pump, function: Function, source: StreamSource, stream_arn: str, shard_id: str):
        super().__init__(pump, function)
        self.batch_size, self.stream_arn, self.shard_id = source.batch_size, stream_arn, shard_id
        self.iterator: str | None = self._iterator("TRIM_HORIZON")
        self.retry_at = 0.0
        self.failing: tuple[str, int] | None = None  # (sequence number, attempts so far)

    def _iterator(self, kind: str, sequence: str | None = None) -> str | None:
        params = {"SequenceNumber": sequence} if sequence else {}
        return aws.client("dynamodbstreams").get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType=kind, **params)["ShardIterator"]

    def pending(self) -> bool:
        return self.failing is not None

    def poll(self) -> bool:
        if self.iterator is None or time.monotonic() < self.retry_at:
            return False
        page = aws.client("dynamodbstreams").get_records(ShardIterator=self.iterator, Limit=self.batch_size)
        records = [stream_record(r, self.stream_arn) for r in page["Records"]]
        if not records:
            self.iterator = page.get("NextShardIterator")  # None once a closed shard is read
            return False
        sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
        failed = self.invoke(records, sequences)
        if not failed:
            self.iterator, self.failing = page.get("NextShardIterator"), None
            return True
        checkpoint = min(failed, key=int)
        attempts = self.failing[1] + 1 if self.failing and self.failing[0] == checkpoint else 1
        if attempts > self.pump.max_stream_retries:
            record = records[sequences.index(checkpoint)]
            log.error("%s: skipping stream record %s after %d retries", self.function.name, checkpoint,
                      attempts - 1)
            self.pump.failures.append(Failure(self.function.name, record, "retries exhausted"))
            self.iterator, self.failing = self._iterator("AFTER_SEQUENCE_NUMBER", checkpoint), None
        else:
            self.iterator, self.failing = self._iterator("AT_SEQUENCE_NUMBER", checkpoint), (checkpoint, attempts)
            self.retry_at = time.monotonic() + self.pump.retry_delay
        return True


class _Queue(_Source):
    def __init__(self, pump: Pump, function: Function, source: QueueSource):
        super().__init__(pump, function)
        sqs = aws.client("sqs")
        self.batch_size = source.batch_size
        self.url = settings.queue_url(source.queue) or sqs.get_queue_url(
            QueueName=settings.resource_name(source.queue))["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def pending(self) -> bool:
        counts = aws.client("sqs").get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return any(int(n) for n in counts.values())

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.batch_size:
            got = aws.client("sqs").receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=min(SQS_BATCH_LIMIT, self.batch_size - len(messages)),
                AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=0).get("Messages", [])
            if not got:
                break
            messages += got
        return messages

    def poll(self) -> bool:
        messages = self._receive()
        if not messages:
            return False
        records = [sqs_record(m, self.arn) for m in messages]
        failed = self.invoke(records, [r["messageId"] for r in records])
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                if m["MessageId"] not in failed]
        retry = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.pump.retry_delay}
                 for i, m in enumerate(messages) if m["MessageId"] in failed]
        sqs = aws.client("sqs")
        for i in range(0, len(done), SQS_BATCH_LIMIT):
            sqs.delete_message_batch(QueueUrl=self.url, Entries=done[i:i + SQS_BATCH_LIMIT])
        for i in range(0, len(retry), SQS_BATCH_LIMIT):
            sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=retry[i:i + SQS_BATCH_LIMIT])
        return True


class Pump:
    """Delivers the stream records and queue messages of `functions` (default: FUNCTIONS)."""

    def __init__(self, functions: Iterable[Function] | None = None, *, retry_delay: int = 1,
                 max_stream_retries: int = 3, poll_interval: float = 0.2):
        self.functions = tuple(resources.FUNCTIONS if functions is None else functions)
        self.retry_delay, self.max_stream_retries, self.poll_interval = retry_delay, max_stream_retries, poll_interval
        self.failures: list[Failure] = []
        self.errors: list[tuple[str, Exception]] = []
        self._sources: list[_Source] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def sources(self) -> list[_Source]:
        """Found on first use: every shard of every stream and every queue the functions read."""
        if self._sources is None:
            self._sources = [s for f in self.functions for source in f.sources for s in self._open(f, source)]
        return self._sources

    def _open(self, function: Function, source: Any) -> list[_Source]:
        if isinstance(source, QueueSource):
            return [_Queue(self, function, source)]
        table = aws.client("dynamodb").describe_table(TableName=settings.table_name(source.table))["Table"]
        arn = table["LatestStreamArn"]
        streams = aws.client("dynamodbstreams")
        shards, params = [], {}
        while True:
            description = streams.describe_stream(StreamArn=arn, **params)["StreamDescription"]
            shards += [_Shard(self, function, source, arn, s["ShardId"]) for s in description["Shards"]]
            if not description.get("LastEvaluatedShardId"):
                return shards
            params = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}

    def drain(self, timeout: float = 30.0) -> None:
        """Deliver until no source has anything left (retries and handler side effects included)."""
        deadline = time.monotonic() + timeout
        while True:
            worked = [source.poll() for source in self.sources]
            if not any(worked) and not any(source.pending() for source in self.sources):
                return
            if time.monotonic() > deadline:
                busy = sorted({s.function.name for s, w in zip(self.sources, worked) if w or s.pending()})
                raise TimeoutError(f"the pump still had work after {timeout} s: {', '.join(busy)}")
            if not any(worked):
                time.sleep(self.poll_interval)

    def start(self) -> None:
        """One daemon thread per source, until stop()."""
        self._stop.clear()
        for source in self.sources:
            thread = threading.Thread(target=self._run, args=(source,), daemon=True,
                                      name=f"pump-{source.function.name}")
            thread.start()
            self._threads.append(thread)

    def _run(self, source: _Source) -> None:
        while not self._stop.is_set():
            try:
                worked = source.poll()
            except Exception:
                log.exception("pump: polling for %s failed", source.function.name)
                worked = False
            if not worked:
                self._stop.wait(self.poll_interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
