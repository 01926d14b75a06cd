"""infra/local/moto_fixes.py: moto's DynamoDB made atomic, a cancelled transaction that
leaves the stream as it was (same shard, no record of the cancelled writes), and a Step Functions
execution stopped inside a Task state that ends ABORTED (as on AWS), not FAILED."""
from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import settings
from infra.local import moto_fixes
from infra.local.pump import Pump
from tests.runtime import handlers
from tests.runtime.testbed import FUNCTIONS, run

ROUNDS, WRITERS = 10, 40
PAUSE_SECONDS = 0.5   # at most, once a round with the lock


def _table() -> str:
    return settings.table_name("rt-stream")


def _race(client, round_: int, barrier: threading.Barrier, acknowledged: list[int], writer: int) -> None:
    """Every writer of a round read version `round_`; each tries to put its own item on it."""
    barrier.wait()
    try:
        client.put_item(TableName=_table(), Item={"pk": {"S": "counter"}, "version": {"N": str(round_ + 1)},
                                                  "writer": {"N": str(writer)}},
                        ConditionExpression="version = :seen", ExpressionAttributeValues={":seen": {"N": str(round_)}})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    else:
        acknowledged.append(writer)


class _CheckThenPause:
    """moto's put checks the condition and then writes the item: a writer that passed the check
    pauses there until another writer of its round passed it too (or PAUSE_SECONDS went by), as
    a busy machine may make it. Without the lock every round then has several winners; with it,
    no other check can run while one writer pauses, and nothing changes."""

    def __init__(self) -> None:
        self.passes: dict[str, int] = {}   # by the version the passing writers saw
        self.changed = threading.Condition()

    def condition(self, checked):
        return _Pausing(checked, self)


class _Pausing:
    def __init__(self, checked, pause: _CheckThenPause):
        self.checked, self.pause = checked, pause

    def expr(self, current):
        passed = self.checked.expr(current)
        if passed and current is not None and "version" in current.attrs:
            seen = current.attrs["version"].value
            with self.pause.changed:
                self.pause.passes[seen] = self.pause.passes.get(seen, 0) + 1
                self.pause.changed.notify_all()
                self.pause.changed.wait_for(lambda: self.pause.passes[seen] > 1, PAUSE_SECONDS)
        return passed


def test_concurrent_conditional_writers_get_one_winner(moto_server, monkeypatch):
    """Writers racing one version check against moto's threaded server: exactly one wins each
    round, and its write is the one stored (without the lock, several won and all but one write
    were lost). The race window between moto's check and its write is held open (_CheckThenPause)."""
    from moto.dynamodb.models import table as moto_table

    checked, pause = moto_table.get_filter_expression, _CheckThenPause()
    monkeypatch.setattr(moto_table, "get_filter_expression",
                        lambda *args, **kwargs: pause.condition(checked(*args, **kwargs)))
    client = boto3.client("dynamodb", endpoint_url=moto_server,
                          config=boto3.session.Config(max_pool_connections=WRITERS))
    client.put_item(TableName=_table(), Item={"pk": {"S": "counter"}, "version": {"N": "0"}})
    _rounds(client)
    assert pause.passes == {str(r): 1 for r in range(ROUNDS)}   # the pause is on moto's path: one pass a round


def _rounds(client) -> None:
    for round_ in range(ROUNDS):
        acknowledged: list[int] = []
        barrier = threading.Barrier(WRITERS, timeout=60)
        threads = [threading.Thread(target=_race, args=(client, round_, barrier, acknowledged, w))
                   for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "writers still running after 60 s"
        item = client.get_item(TableName=_table(), Key={"pk": {"S": "counter"}}, ConsistentRead=True)["Item"]
        assert len(acknowledged) == 1, f"round {round_}: {len(acknowledged)} writers acknowledged on one version"
        assert item["writer"] == {"N": str(acknowledged[0])} and item["version"] == {"N": str(round_ + 1)}


def _cancelled_transaction(client, key: str) -> None:
    """A Put of `key` with a ConditionCheck that fails: DynamoDB cancels the whole transaction."""
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": _table(), "Item": {"pk": {"S": key}}}},
            {"ConditionCheck": {"TableName": _table(), "Key": {"pk": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"


def delivered_keys() -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in handlers.received["stream"]]


def test_cancelled_transaction_keeps_the_stream_and_writes_no_record(test_pump):
    client = boto3.client("dynamodb")
    client.put_item(TableName=_table(), Item={"pk": {"S": "before"}})
    test_pump.drain()
    _cancelled_transaction(client, "cancelled")
    client.put_item(TableName=_table(), Item={"pk": {"S": "after"}})
    test_pump.drain()
    assert delivered_keys() == ["before", "after"]
    assert "Item" not in client.get_item(TableName=_table(), Key={"pk": {"S": "cancelled"}})


def test_cancelled_transaction_keeps_items_and_table(test_env):
    from moto.dynamodb.models import dynamodb_backends

    client = boto3.client("dynamodb")
    client.put_item(TableName=_table(), Item={"pk": {"S": "kept"}, "n": {"N": "1"}})
    backend = dynamodb_backends[settings.account_id()][settings.region()]
    table, shard = backend.tables[_table()], backend.tables[_table()].stream_shard
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": _table(), "Key": {"pk": {"S": "kept"}}, "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": _table(), "Key": {"pk": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert backend.tables[_table()] is table and table.stream_shard is shard and len(shard.items) == 1
    assert client.get_item(TableName=_table(), Key={"pk": {"S": "kept"}})["Item"]["n"] == {"N": "1"}


def test_transaction_in_the_middle_of_a_stream_batch(test_pump):
    """A handler whose records run a cancelled and a conflicting transaction, between ordinary
    records of the same batch: the batch goes on, and later writes are delivered."""
    handlers.transactions.update({"t-cancel": "cancel", "t-conflict": "conflict", "t-invalid": "invalid"})
    client = boto3.client("dynamodb")
    for key in ("a", "t-cancel", "b", "t-conflict", "t-invalid", "c"):
        client.put_item(TableName=_table(), Item={"pk": {"S": key}})
    test_pump.drain()
    client.put_item(TableName=_table(), Item={"pk": {"S": "d"}})
    test_pump.drain()
    assert delivered_keys() == ["a", "t-cancel", "b", "t-conflict", "t-invalid", "c", "d"]
    assert handlers.received["transaction-errors"] == ["TransactionCanceledException"] * 2 + ["ValidationException"]
    for key in ("t-cancel", "t-conflict", "t-invalid"):
        assert "Item" not in client.get_item(TableName=_table(), Key={"pk": {"S": f"{key}-written"}})
    assert not test_pump.failures and not test_pump.errors


def test_pump_notices_a_shard_replaced_under_it(test_env, caplog):
    """Without the fix moto orphans the pump's shard (a cancelled transaction restores a new shard
    object, whose sequence numbers start again): the pump's refresh notices that the record at its
    checkpoint is not the one it delivered, says so, and reads the new shard from there. (The pump
    reads the shard, so holds its iterator, before the transaction: a pump takes its first iterator
    only once the shard holds a record.)"""
    moto_fixes.uninstall()
    try:
        client = boto3.client("dynamodb")
        pump = Pump(FUNCTIONS, retry_delay=0, refresh_interval=0)
        client.put_item(TableName=_table(), Item={"pk": {"S": "before"}})
        pump.drain()
        _cancelled_transaction(client, "cancelled")  # moto's own rollback: a phantom record
        client.put_item(TableName=_table(), Item={"pk": {"S": "after"}})
        pump.drain()
    finally:
        moto_fixes.install()
    assert delivered_keys() == ["before", "cancelled", "after"]
    assert pump.replaced == ["rt-stream[" + pump.sources[0].shard_id[-8:] + "]"]
    assert any("was replaced under its reader" in r.getMessage() for r in caplog.records)


def _streams_backend():
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    return dynamodbstreams_backends[settings.account_id()][settings.region()]


def test_shard_iterators_are_not_kept_forever(test_pump, monkeypatch):
    """Each GetRecords makes an iterator: none is kept in moto's model tracking (data.json), and
    they expire after 15 minutes as in DynamoDB Streams (here: at once)."""
    from moto.dynamodbstreams.models import ShardIterator

    tracked = len(ShardIterator.instances_tracked)
    for key in range(20):   # a record each time: the pump reads the shard (an empty one it does not ask)
        boto3.client("dynamodb").put_item(TableName=_table(), Item={"pk": {"S": f"k{key}"}})
        test_pump.drain()
    assert len(ShardIterator.instances_tracked) == tracked and _streams_backend().shard_iterators
    streams = boto3.client("dynamodbstreams")
    arn = boto3.client("dynamodb").describe_table(TableName=_table())["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    monkeypatch.setattr(moto_fixes, "ITERATOR_SECONDS", 0)
    with pytest.raises(ClientError) as expired:
        streams.get_records(ShardIterator=iterator["ShardIterator"])
    assert expired.value.response["Error"]["Code"] == "ExpiredIteratorException"
    assert not _streams_backend().shard_iterators


def test_pump_reads_on_after_its_iterator_expired(test_pump):
    client = boto3.client("dynamodb")
    client.put_item(TableName=_table(), Item={"pk": {"S": "a"}})
    test_pump.drain()
    _streams_backend().shard_iterators.clear()  # every iterator expired
    client.put_item(TableName=_table(), Item={"pk": {"S": "b"}})
    deadline = time.monotonic() + 60
    while delivered_keys() != ["a", "b"]:
        test_pump.drain()
        assert time.monotonic() < deadline, delivered_keys()


# --- StopExecution inside a Task state -------------------------------------------------------------

def _stopped_at(monkeypatch, owner: type, name: str, machine: str, within: float) -> str:
    """Start an execution of `machine`, stop it while `owner.name` (a step of one of its states,
    run in moto's thread) is held at its start, then let the step go on; wait at most `within`
    seconds for the execution's end. So the stop always lands at that point (left to chance, it
    does now and then: the recovery tests' stops did)."""
    entered, stopped = threading.Event(), threading.Event()
    step = getattr(owner, name)

    def held(*args, **kwargs):
        entered.set()
        stopped.wait(30)
        return step(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, input='{"id": "stopped"}')["executionArn"]
    assert entered.wait(30), f"{owner.__name__}.{name} never ran"
    sfn.stop_execution(executionArn=arn, error="Test", cause=f"stopped at {owner.__name__}.{name}")
    stopped.set()
    deadline = time.monotonic() + within   # moto's execution thread reflects the stop a moment later
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"the execution stopped at {owner.__name__}.{name} never ended"
        time.sleep(0.05)
    return arn


def _stopped_inside_the_task(monkeypatch) -> str:
    """The test machine's execution stopped as its Task state ("Work", a lambda:invoke) begins."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService)

    return _stopped_at(monkeypatch, StateTaskService, "_eval_execution", settings.state_machine_arn("rt-machine"),
                       within=60)


def test_an_execution_stopped_inside_a_task_state_ends_aborted(test_env, monkeypatch):
    """moto said FAILED (States.Runtime, "'dict' object has no attribute 'region'") after a
    TaskFailed it made up; AWS says ABORTED, and so does the history: no failure in it."""
    from tests.conftest import _end_workflows

    arn = _stopped_inside_the_task(monkeypatch)
    sfn = boto3.client("stepfunctions")
    execution = sfn.describe_execution(executionArn=arn)
    assert execution["status"] == "ABORTED", execution
    events = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert events[-1] == "ExecutionAborted" and not [e for e in events if "Failed" in e], events
    assert handlers.received["task"] == []   # stopped before its function was called
    assert _end_workflows() == []             # the aws fixture sees no failed workflow


def test_the_local_alarms_do_not_count_a_stopped_execution_as_failed(test_env, monkeypatch):
    from infra.local import alarms
    from infra.resources import ExecutionsFailedAlarm

    failed = ExecutionsFailedAlarm("rt-machine-failed", "rt-machine", "rt-machine executions failed")
    _stopped_inside_the_task(monkeypatch)
    (alarm,) = alarms.Alarms(alarms=[failed]).evaluate()
    assert alarm["state"] == alarms.OK and alarm["reason"].startswith("0 rt-machine execution(s) failed"), alarm


@pytest.mark.expects_failed_workflow
def test_a_really_failed_execution_still_fails_its_test(test_env):
    """The aws fixture's check (tests/conftest.py `_end_workflows`) still reports an execution
    that FAILED (its retries exhausted), and the alarm counts it."""
    from infra.local import alarms
    from infra.resources import ExecutionsFailedAlarm
    from tests.conftest import _end_workflows

    execution = run({"id": "down", "error": "TransientError", "failures": 99})
    assert execution["status"] == "FAILED"
    failed = ExecutionsFailedAlarm("rt-machine-failed", "rt-machine", "rt-machine executions failed")
    assert alarms.Alarms(alarms=[failed]).evaluate()[0]["state"] == alarms.ALARM
    (reported,) = _end_workflows()
    assert reported.startswith("omnishop-local-rt-machine/") and "TransientError" in reported, reported


# --- StopExecution as a Wait state begins ----------------------------------------------------------
WAIT = {"StartAt": "Idle", "States": {"Idle": {"Type": "Wait", "Seconds": 60, "End": True}}}


def test_a_stop_as_a_wait_state_begins_ends_the_execution_at_once(test_env, monkeypatch):
    """moto's Wait state sleeps on an event the stop pulses (set, then clear at once): a stop
    landing after the state checked that its execution runs and before it began to sleep was
    missed, and the execution slept its whole Wait (the recovery workflow's: an hour; a test
    waiting for the stop failed after 120 s). The state is held at that point here, until the
    stop has landed."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import Seconds

    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="rt-idle", definition=json.dumps(WAIT),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    arn = _stopped_at(monkeypatch, Seconds, "_get_wait_seconds", machine, within=10)   # far less than 60 s
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
