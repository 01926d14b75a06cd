"""The event source mappings AWS would run: DynamoDB stream shards and SQS queues -> handlers.

moto's own event source mappings swallow records (DESIGN §8), so the pump polls the sources with
ordinary API calls and calls each handler with an event in exactly Lambda's shape, honouring
`{"batchItemFailures": [{"itemIdentifier": ...}]}` as Lambda does with ReportBatchItemFailures:

- SQS: succeeded messages are deleted; failed ones are made visible again after `retry_delay`
  seconds (ChangeMessageVisibility, instead of waiting out the queue's visibility timeout), and
  the queue's redrive policy moves a message that keeps failing to its DLQ. moto does that
  itself, faithfully: a receive that finds a message already received maxReceiveCount times moves
  it to the dead-letter queue instead of delivering it.
- Streams: each shard is read in order from TRIM_HORIZON (no record written after the tables
  were provisioned is missed) and its records go to the function's `parallelization` lanes
  (Lambda's ParallelizationFactor): a record's lane is chosen by its partition key, so one key's
  records stay in order while other keys' are processed at the same time. A failed batch is
  retried from the lowest failed sequence number of its lane (the checkpoint), after
  `retry_delay`; a record that still fails after `max_stream_retries` retries is skipped (logged
  and kept in `Pump.failures`, like an on-failure destination).
- A shard's reader re-describes its stream when idle (every `refresh_interval` seconds, and
  before `drain()` returns): a shard that vanished is logged and no longer read, a new one is
  read, and a shard replaced under the reader (its record at the reader's checkpoint is no longer
  the one delivered: moto once restored a new shard object after a cancelled transaction) is
  logged and read again from the checkpoint.
A handler that raises fails its whole batch. Every handler error is kept in `Pump.errors`.
Handlers are called through `lambdas.call`, which never runs one handler object in two threads at
once (concurrent calls get separate execution environments, as in Lambda).

`start()`/`stop()` run one thread per shard reader, lane and queue (the runtime); `drain()` polls
in the caller's thread until nothing is pending (tests, in-process under `mock_aws` too), waiting
as long as the work takes, up to a generous bound for a loaded machine (`DRAIN_TIMEOUT`).

Idle, the threads wait instead of polling (near-zero CPU) without delaying work. When moto runs
in this process (the local runtime's server thread, or mock_aws), hooks on its StreamShard.add
and Queue.add_message wake them (`watch_moto`): a shard reader sleeps until a stream record is
appended to its table or IDLE_SECONDS pass, a queue's thread until a message is put on it or
QUEUE_IDLE_SECONDS pass (a message made visible again, or whose delay ends, queues nothing); a
lane sleeps until its reader hands it records or its retry falls due. Against a moto elsewhere,
a queue's thread long-polls (ReceiveMessage WaitTimeSeconds) and a shard reader polls every
`poll_interval`, as before. `drain()` (in-process moto) uses the same hooks: a shard reader whose
last read found nothing reads again only once moto appended to its table or its refresh is due
(a drain round otherwise asked every shard of every stream, each time, for nothing). Likewise a
queue that mock_aws's moto (in this process) holds no message on is not asked at all.
"""
from __future__ import annotations

import base64
import collections
import dataclasses
import datetime as dt
import json
import logging
import sys
import threading
import time
import urllib.parse
import zlib
from typing import Any, Callable, Iterable, Mapping

from botocore.exceptions import ClientError

from chalicelib import aws, settings
from infra import resources
from infra.local import lambdas
from infra.resources import Function, QueueSource, StreamSource

# A table's stream as the pump reads it: (stream ARN, partition key attribute, shard ids).
StreamLayout = tuple[str, str, tuple[str, ...]]

log = logging.getLogger("infra.local")

SQS_BATCH_LIMIT = 10  # ReceiveMessage / DeleteMessageBatch / ChangeMessageVisibilityBatch
LONG_POLL_SECONDS = 2     # an idle queue thread's ReceiveMessage wait on a moto elsewhere
IDLE_SECONDS = 5.0        # the longest an idle shard reader or lane sleeps without being woken
QUEUE_IDLE_SECONDS = 1.0  # ... and a queue's (a message made visible again wakes nothing)
WAKE_GAP_SECONDS = 0.05   # woken, a reader waits this long so a burst is read in one call (was: 0-0.2 s polls)
# How long drain() waits for the work to end: what a loaded 2-core machine needs, not a quiet one.
DRAIN_TIMEOUT = 180.0


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


class Wake:
    """Something to sleep on until it happens (`notify`) or a timeout: `seen` is the generation
    read before looking for work, so a notify between the look and the wait is never missed."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0

    def notify(self) -> None:
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen, max(0.0, timeout))


def moto_here() -> bool:
    """Whether moto's backends live in this process (the local runtime's server thread, or
    mock_aws): only then does a hook on them see the writes the pump reads."""
    return "moto.dynamodb.models.table" in sys.modules


# One Wake per table ("table:<name>") and queue ("queue:<name>"), notified whenever moto, in this
# process, appends a stream record to that table or puts a message on that queue (watch_moto);
# `_watching` says the hooks are in.
_wakes: dict[str, Wake] = {}
# Stream shards moto (in this process) has made: a new stream, or a shard object replacing one. While
# it has made none since a reader's last refresh, the refresh would find its stream as it was.
_shards_made = [0]
_wakes_lock = threading.Lock()
_watching = False


def wake_for(name: str) -> Wake:
    with _wakes_lock:
        return _wakes.setdefault(name, Wake())


def watch_moto() -> None:
    """Wake the readers of a table or queue when moto (in this process) appends a stream record to
    it or puts a message on it (hooks on StreamShard.add and Queue.add_message)."""
    global _watching
    from moto.dynamodb.models.table import StreamShard
    from moto.sqs.models import Queue

    def hooked(original: Any, wake: Callable[[Any], Wake]) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(self, *args, **kwargs)
            finally:
                wake(self).notify()
        return method

    with _wakes_lock:
        if _watching:
            return
        StreamShard.add = hooked(StreamShard.add, lambda shard: wake_for(f"table:{shard.table.name}"))  # type: ignore[method-assign]
        made = StreamShard.__init__

        def counted(self: Any, *args: Any, **kwargs: Any) -> None:
            made(self, *args, **kwargs)
            _shards_made[0] += 1
        StreamShard.__init__ = counted  # type: ignore[method-assign]

        def restored(self: Any, state: dict[str, Any]) -> None:   # a copy (moto's transaction rollback) or unpickling
            self.__dict__.update(state)
            _shards_made[0] += 1
        StreamShard.__setstate__ = restored  # type: ignore[attr-defined]
        Queue.add_message = hooked(Queue.add_message, lambda queue: wake_for(f"queue:{queue.name}"))  # type: ignore[method-assign]
        _watching = True


def _aws_endpoint(client: Any) -> bool:
    return (urllib.parse.urlsplit(client.meta.endpoint_url).hostname or "").endswith(".amazonaws.com")


def _answered_here(pump: Pump, aws_endpoint: bool) -> bool:
    """Whether the moto of this process answers the requests of a client to AWS's own endpoint
    (`aws_endpoint`) or not: mock_aws, now (a request to AWS's endpoint never leaves the process),
    or the local runtime's server thread (`Pump(own_moto=True)`). Then what the pump would ask it
    can be read from its backends."""
    if pump.own_moto:
        return True
    stubber = getattr(sys.modules.get("moto.core.models"), "botocore_stubber", None)
    return aws_endpoint and stubber is not None and bool(stubber.enabled)


class _Source:
    def __init__(self, pump: Pump, function: Function):
        self.pump, self.function = pump, function
        self.wake = Wake()   # notified by whatever hands this source work (and by stop())

    def generation(self) -> int:
        """What rest() compares against: read before polling."""
        return self.wake.generation

    def rest(self, seen: int) -> None:
        """Idle after a poll that found nothing (started threads only): wait for work."""
        self.wake.wait(seen, self.pump.poll_interval)

    @property
    def name(self) -> str:
        return self.function.name

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

    def busy(self) -> str:
        """What is still to do, for the drain timeout's message."""
        return self.name


class _Lane(_Source):
    """One of a shard's `parallelization` concurrent batches: the records of some partition keys,
    in shard order, delivered and retried from its own checkpoint."""

    def __init__(self, shard: _Shard, index: int):
        super().__init__(shard.pump, shard.function)
        self.shard, self.index = shard, index
        self.records: collections.deque[dict[str, Any]] = collections.deque()  # the reader appends
        self.retry_at = 0.0
        self.failing: tuple[str, int] | None = None  # (sequence number, attempts so far)

    @property
    def name(self) -> str:
        return f"{self.function.name}[{self.shard.shard_id[-8:]}#{self.index}]"

    def pending(self) -> bool:
        return bool(self.records) or self.failing is not None

    def rest(self, seen: int) -> None:
        """Until the reader hands over records, or the retry of a failed batch falls due."""
        due = self.retry_at - time.monotonic() if self.records else IDLE_SECONDS
        self.wake.wait(seen, min(IDLE_SECONDS, due))

    def busy(self) -> str:
        retry = f", retrying {self.failing[0]} (attempt {self.failing[1]})" if self.failing else ""
        return f"{self.name}: {len(self.records)} records{retry}"

    def poll(self) -> bool:
        if not self.records or time.monotonic() < self.retry_at:
            return False
        records = [self.records[i] for i in range(min(self.shard.batch_size, len(self.records)))]
        sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
        failed = self.invoke(records, sequences)
        if not failed:
            self._done(len(records))
            self.failing = None
            return True
        checkpoint = min(failed, key=int)
        at = sequences.index(checkpoint)
        self._done(at)
        attempts = self.failing[1] + 1 if self.failing and self.failing[0] == checkpoint else 1
        if attempts > self.pump.max_stream_retries:
            log.error("%s: skipping stream record %s after %d retries", self.function.name, checkpoint,
                      attempts - 1)
            self.pump.failures.append(Failure(self.function.name, records[at], "retries exhausted"))
            self._done(1)
            self.failing = None
        else:
            self.failing = (checkpoint, attempts)
            self.retry_at = time.monotonic() + self.pump.retry_delay
        return True

    def _done(self, count: int) -> None:
        for _ in range(count):
            self.records.popleft()


class _Shard(_Source):
    """Reads one stream shard in order and hands each record to the lane of its partition key."""

    def __init__(self, pump: Pump, function: Function, source: StreamSource, stream_arn: str, shard_id: str,
                 partition_key: str):
        super().__init__(pump, function)
        self.batch_size, self.stream_arn, self.shard_id = source.batch_size, stream_arn, shard_id
        self.partition_key = partition_key
        self.written = wake_for(f"table:{settings.table_name(source.table)}")
        self.lanes = [_Lane(self, i) for i in range(function.parallelization)]
        # Taken on the first read (`poll`), at TRIM_HORIZON: while the shard holds no record (in a
        # moto of this process, `_empty_here`) there is nothing to read, and an iterator taken later
        # starts at the same oldest record. After the first read None means a closed shard read to its end.
        self.started = False
        self.iterator: str | None = None
        self._aws_endpoint = _aws_endpoint(aws.client("dynamodbstreams"))
        self.last: tuple[str, str] | None = None  # (sequence number, eventID) of the last record read
        self.refresh_at = time.monotonic() + pump.refresh_interval
        self.quiet: int | None = None   # the table's generation before a read that found nothing (drain())
        self.refreshed: int | None = None   # _shards_made at the last refresh (moto in this process)

    @property
    def name(self) -> str:
        return f"{self.function.name}[{self.shard_id[-8:]}]"

    def _iterator(self, kind: str, sequence: str | None = None) -> str | None:
        params = {"SequenceNumber": sequence} if sequence else {}
        return aws.client("dynamodbstreams").get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType=kind, **params)["ShardIterator"]

    def pending(self) -> bool:
        return False  # what it read is its lanes' (they are sources too)

    def _empty_here(self) -> bool:
        """Whether the moto of this process holds the shard's table with no record in its stream:
        GetShardIterator and GetRecords would find nothing (two calls per shard in each component
        test's first drain, for every table the test did not write). A moto elsewhere is asked."""
        if not _answered_here(self.pump, self._aws_endpoint):
            return False
        from moto.dynamodb.models import dynamodb_backends

        _, _, _, region, account, resource = self.stream_arn.split(":", 5)
        backend = dict.get(dict.get(dynamodb_backends, account) or {}, region)   # never creates one
        table = getattr(backend, "tables", {}).get(resource.split("/")[1])
        items = getattr(getattr(table, "stream_shard", None), "items", None)
        return isinstance(items, list) and not items

    def generation(self) -> int:
        return self.written.generation if _watching else self.wake.generation

    def rest(self, seen: int) -> None:
        """Until moto appends a stream record to the table (when it runs in this process), or
        IDLE_SECONDS."""
        if _watching:
            self.written.wait(seen, IDLE_SECONDS)
            self.pump._stop.wait(WAKE_GAP_SECONDS)   # a burst of writes: read it in one call
        else:
            super().rest(seen)

    def _lane(self, record: dict[str, Any]) -> _Lane:
        key = json.dumps(record["dynamodb"]["Keys"].get(self.partition_key), sort_keys=True)
        return self.lanes[zlib.crc32(key.encode()) % len(self.lanes)]

    def poll(self) -> bool:
        if not self.started:
            if self._empty_here():
                return False
            self.iterator, self.started = self._iterator("TRIM_HORIZON"), True
        if self.iterator is None:
            return False
        if sum(len(lane.records) for lane in self.lanes) >= 4 * self.batch_size * len(self.lanes):
            return False  # the lanes are behind: read on when they catch up
        seen = self.generation()
        if self.quiet == seen and _watching and time.monotonic() < self.refresh_at:
            return False  # moto appended nothing to the table since a read found nothing
        self.quiet = None
        try:
            page = aws.client("dynamodbstreams").get_records(ShardIterator=self.iterator,
                                                             Limit=self.batch_size * len(self.lanes))
        except ClientError as exc:  # ExpiredIteratorException: the reader was held up for 15 minutes
            log.warning("%s: %s; reading on after the last record read", self.name, exc)
            self.iterator = self._iterator("AFTER_SEQUENCE_NUMBER", self.last[0]) if self.last \
                else self._iterator("TRIM_HORIZON")
            return False
        if not page["Records"]:
            self.iterator = page.get("NextShardIterator")  # None once a closed shard is read
            if time.monotonic() >= self.refresh_at and self.refresh():
                return True
            self.quiet = seen   # (after a refresh too: an idle reader read twice per refresh interval)
            return False
        self._take(page)
        return True

    def _take(self, page: dict[str, Any]) -> None:
        fed = set()
        for raw in page["Records"]:
            record = stream_record(raw, self.stream_arn)
            lane = self._lane(record)
            lane.records.append(record)
            fed.add(lane.index)
            self.last = (record["dynamodb"]["SequenceNumber"], record["eventID"])
        self.iterator = page.get("NextShardIterator")
        for index in fed:
            self.lanes[index].wake.notify()

    def refresh(self) -> bool:
        """Re-describe the stream: is this shard still there, and is it still the shard read?
        True when it found records to deliver (read again from the checkpoint)."""
        self.refresh_at = time.monotonic() + self.pump.refresh_interval
        if _watching and self.refreshed == _shards_made[0]:
            return False
        self.refreshed = _shards_made[0] if _watching else None
        shards = self.pump.describe(self.stream_arn)
        self.pump.discover(self.function, self.stream_arn, shards)
        if self.shard_id not in shards:
            if self.iterator is not None or not self.started:
                log.warning("%s: stream shard %s of %s vanished: no longer read", self.function.name,
                            self.shard_id, self.stream_arn)
            self.iterator, self.started = None, True
            return False
        if not self.started:
            return False   # nothing read yet: the first read takes the shard as it is then
        streams = aws.client("dynamodbstreams")
        if self.last is None:  # nothing read yet: does a new iterator see records the reader's does not?
            fresh = streams.get_records(ShardIterator=self._iterator("TRIM_HORIZON"),
                                        Limit=self.batch_size * len(self.lanes))
            replaced = bool(fresh["Records"]) and (self.iterator is None or not streams.get_records(
                ShardIterator=self.iterator, Limit=1)["Records"])  # read after: it would see them too
            if fresh["Records"] and not replaced:
                return False  # records written meanwhile: the reader reads them next
        else:
            sequence, event_id = self.last
            fresh = streams.get_records(ShardIterator=self._iterator("AT_SEQUENCE_NUMBER", sequence), Limit=1)
            replaced = not fresh["Records"] or fresh["Records"][0]["eventID"] != event_id
            if not replaced:
                self.iterator = fresh.get("NextShardIterator")
                return False
            fresh = {"Records": [], "NextShardIterator": self._iterator("AT_SEQUENCE_NUMBER", sequence)}
        if not replaced:
            return False
        log.warning("%s: stream shard %s of %s was replaced under its reader (the record at its "
                    "checkpoint %s is not the one delivered): reading it again from there", self.function.name,
                    self.shard_id, self.stream_arn, self.last[0] if self.last else "TRIM_HORIZON")
        self.pump.replaced.append(self.name)
        self.last = None
        self._take(fresh)
        return True


class _Queue(_Source):
    def __init__(self, pump: Pump, function: Function, source: QueueSource):
        super().__init__(pump, function)
        sqs = aws.client("sqs")
        self.batch_size = source.batch_size
        self.url = settings.queue_url(source.queue) or sqs.get_queue_url(
            QueueName=settings.resource_name(source.queue))["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queued = wake_for(f"queue:{self.url.rsplit('/', 1)[-1]}")
        self._account: str = self.url.rsplit("/", 2)[-2]
        self._name: str = self.url.rsplit("/", 1)[-1]
        self._region = sqs.meta.region_name
        self._aws_endpoint = _aws_endpoint(sqs)

    def _empty_here(self) -> bool:
        """Whether the moto of this process answers this queue's requests (mock_aws: a request to
        AWS's own endpoint never leaves the process; the local runtime: `Pump(own_moto=True)`, its
        server thread) and holds no message on the queue at all, visible, in flight or delayed.
        Then ReceiveMessage finds nothing and every count is 0, asked through the API or not: a
        drain round no longer asks each empty queue twice (two of every three SQS calls of a
        component test), nor an idle queue thread once a second. A moto elsewhere is asked."""
        if not _answered_here(self.pump, self._aws_endpoint):
            return False
        from moto.sqs.models import sqs_backends

        backend = dict.get(dict.get(sqs_backends, self._account) or {}, self._region)   # never creates one
        messages = getattr(getattr(backend, "queues", {}).get(self._name), "_messages", None)
        return isinstance(messages, list) and not messages

    def pending(self) -> bool:
        if self._empty_here():
            return False
        counts = aws.client("sqs").get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return any(int(n) for n in counts.values())

    def busy(self) -> str:
        return f"{self.name}: messages in {self.url.rsplit('/', 1)[-1]}"

    def _receive(self, wait: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.batch_size:
            got = aws.client("sqs").receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=min(SQS_BATCH_LIMIT, self.batch_size - len(messages)),
                AttributeNames=["All"], MessageAttributeNames=["All"],
                WaitTimeSeconds=0 if messages else wait).get("Messages", [])
            if not got:
                break
            messages += got
        return messages

    def generation(self) -> int:
        return self.queued.generation if _watching else self.wake.generation

    def rest(self, seen: int) -> None:
        """Until moto queues a message on the queue (when it runs in this process), or a second
        (messages that become visible again or whose delay ends queue nothing); against a moto
        elsewhere the poll long-polled already."""
        if _watching:
            self.queued.wait(seen, QUEUE_IDLE_SECONDS)
            self.pump._stop.wait(WAKE_GAP_SECONDS)   # a burst of messages: receive it in one batch
        elif not self.pump._running:
            super().rest(seen)

    def poll(self) -> bool:
        # A thread long-polls a moto elsewhere (it answers as soon as a message arrives); drain()
        # and a thread woken by the hook in this process do not wait.
        if self._empty_here():
            return False
        messages = self._receive(LONG_POLL_SECONDS if self.pump._running and not _watching else 0)
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
                 max_stream_retries: int = 3, poll_interval: float = 0.2, refresh_interval: float = 10.0,
                 own_moto: bool = False, described: Mapping[str, StreamLayout] | None = None):
        """`own_moto`: the moto the sources are read from is a server thread of this process (the
        local runtime's), so its queues can be looked at directly (_Queue._empty_here).
        `described`: {table name: its stream as `stream_layout` read it} for a moto known to hold
        those tables as they were then (the tests keep it per provisioned moto, which each test
        starts from): the sources of those tables are opened without describing them again."""
        self.own_moto = own_moto
        self.described = dict(described or {})
        self.functions = tuple(resources.FUNCTIONS if functions is None else functions)
        self.retry_delay, self.max_stream_retries, self.poll_interval = retry_delay, max_stream_retries, poll_interval
        self.refresh_interval = refresh_interval
        self.failures: list[Failure] = []
        self.errors: list[tuple[str, Exception]] = []
        self.replaced: list[str] = []  # shards read again after they were replaced under their reader
        self._sources: list[_Source] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running = False

    @property
    def sources(self) -> list[_Source]:
        """Found on first use: every shard (and its lanes) of every stream and every queue the
        functions read; shards found later by a reader's refresh are added."""
        with self._lock:
            if self._sources is None:
                self._sources = [s for f in self.functions for source in f.sources for s in self._open(f, source)]
            return list(self._sources)

    def _open(self, function: Function, source: Any) -> list[_Source]:
        if isinstance(source, QueueSource):
            return [_Queue(self, function, source)]
        name = settings.table_name(source.table)
        arn, key, shard_ids = self.described.get(name) or self.stream_layout(name)
        return [s for shard_id in shard_ids
                for shard in [_Shard(self, function, source, arn, shard_id, key)] for s in (shard, *shard.lanes)]

    def stream_layout(self, table_name: str) -> StreamLayout:
        """The table's stream as the pump reads it: (stream ARN, partition key, shard ids), from
        DescribeTable and DescribeStream."""
        table = aws.client("dynamodb").describe_table(TableName=table_name)["Table"]
        arn = table["LatestStreamArn"]
        key = next(k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH")
        return arn, key, tuple(self.describe(arn))

    def layouts(self) -> dict[str, StreamLayout]:
        """`stream_layout` of every table a function of this pump reads the stream of (what
        `described` takes)."""
        names = {settings.table_name(source.table) for function in self.functions for source in function.sources
                 if isinstance(source, StreamSource)}
        return {name: self.stream_layout(name) for name in sorted(names)}

    def describe(self, stream_arn: str) -> list[str]:
        """The ids of the stream's shards (DescribeStream, every page)."""
        streams, shards = aws.client("dynamodbstreams"), []
        params: dict[str, str] = {}
        while True:
            description = streams.describe_stream(StreamArn=stream_arn, **params)["StreamDescription"]
            shards += [s["ShardId"] for s in description["Shards"]]
            if not description.get("LastEvaluatedShardId"):
                return shards
            params = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}

    def discover(self, function: Function, stream_arn: str, shards: list[str]) -> None:
        """Start reading the stream's `shards` that `function` does not read yet."""
        with self._lock:
            known = {s.shard_id for s in self._sources or () if isinstance(s, _Shard)
                     and s.function == function and s.stream_arn == stream_arn}
            reader = next(s for s in self._sources or () if isinstance(s, _Shard)
                          and s.function == function and s.stream_arn == stream_arn)
        for shard_id in shards:
            if shard_id in known:
                continue
            log.info("%s: reading new stream shard %s of %s", function.name, shard_id, stream_arn)
            source = next(s for s in function.sources if isinstance(s, StreamSource)
                          and settings.table_name(s.table) in stream_arn)
            shard = _Shard(self, function, source, stream_arn, shard_id, reader.partition_key)
            with self._lock:
                assert self._sources is not None
                self._sources += [shard, *shard.lanes]
            if self._running:
                for added in (shard, *shard.lanes):
                    self._thread(added)

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Deliver until no source has anything left (retries and handler side effects included),
        however long that takes up to `timeout`; then say what was still busy."""
        deadline = time.monotonic() + timeout
        idle = 0
        if settings.local_mode() and moto_here():
            watch_moto()   # a shard reader reads again only once moto appended to its table (or a refresh is due)
        while True:
            sources = self.sources
            worked = [source.poll() for source in sources]
            if not any(worked) and not any(source.pending() for source in sources):
                # Idle once is not idle: moto counts a queue's messages column by column, so a
                # message whose delay (or visibility timeout) ends between two columns is counted in
                # none. It is visible by then: one more round of polls receives it.
                idle += 1
                if idle < 2:
                    continue
                # A last look at the streams due one: a shard replaced under its reader, or a new one.
                due = [s for s in sources if isinstance(s, _Shard) and time.monotonic() >= s.refresh_at]
                if not any([s.refresh() for s in due]):
                    return
                continue
            idle = 0
            if time.monotonic() > deadline:
                busy = [s.busy() for s, w in zip(sources, worked) if w or s.pending()]
                raise TimeoutError(f"the pump still had work after {timeout} s: {'; '.join(busy)}")
            if not any(worked):
                time.sleep(self.poll_interval)

    def start(self) -> None:
        """One daemon thread per shard reader, lane and queue, until stop()."""
        self._stop.clear()
        self._running = True
        if settings.local_mode() and moto_here():
            watch_moto()
        for source in self.sources:
            self._thread(source)

    def _thread(self, source: _Source) -> None:
        thread = threading.Thread(target=self._run, args=(source,), daemon=True, name=f"pump-{source.name}")
        thread.start()
        self._threads.append(thread)

    def _run(self, source: _Source) -> None:
        while not self._stop.is_set():
            seen = source.generation()
            try:
                worked = source.poll()
            except Exception:
                log.exception("pump: polling %s failed", source.name)
                self._stop.wait(self.poll_interval)
                continue
            if not worked and not self._stop.is_set():
                source.rest(seen)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._running = False
        for source in self._sources or ():
            source.wake.notify()
            for wake in (getattr(source, "written", None), getattr(source, "queued", None)):
                if wake is not None:
                    wake.notify()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
