"""What one test leaves behind must not reach the next: a Step Functions execution still running
when its test ends, and PynamoDB connections made against another endpoint (session 6's CI run
failed six tests of one worker after a workflow thread outlived its test)."""
from __future__ import annotations

import importlib

import json
import os
import time

import pytest
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
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"   # infra.local.moto_fixes


# --- the aws fixture's copies of one provisioned moto (tests/support/moto_state.py) ---------------
# The two tests of each pair run in this order, in one process (their xdist group): the first
# leaves something in moto, the second must not see it.
ISOLATION = pytest.mark.xdist_group("fixture-isolation")


def _leave_things_behind():
    from chalicelib import aws as aws_clients
    from chalicelib import settings

    ddb, sqs, sns = (aws_clients.client(s) for s in ("dynamodb", "sqs", "sns"))
    ddb.put_item(TableName=settings.table_name("idempotency"), Item={"id": {"S": "left-behind"}})
    sqs.send_message(QueueUrl=settings.queue_url("worklist"), MessageBody="left behind")
    sqs.create_queue(QueueName="left-behind")
    sns.publish(PhoneNumber="+447700900999", Message="left behind")
    aws_clients.client("secretsmanager").create_secret(Name="left-behind", SecretString="x")


def _nothing_left_behind():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    from chalicelib import aws as aws_clients
    from chalicelib import settings

    ddb, sqs = aws_clients.client("dynamodb"), aws_clients.client("sqs")
    for table in ddb.list_tables()["TableNames"]:
        assert ddb.scan(TableName=table, ConsistentRead=True)["Items"] == [], table
    queues = sqs.list_queues().get("QueueUrls", [])
    assert not [q for q in queues if q.endswith("/left-behind")]
    for queue in queues:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0", queue
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0", queue
    assert not sns_backends[DEFAULT_ACCOUNT_ID][settings.region()].sms_messages
    names = [s["Name"] for s in aws_clients.client("secretsmanager").list_secrets()["SecretList"]]
    assert "left-behind" not in names
    assert settings.queue_url("worklist") in queues   # the provisioned resources are all still there


def _empty(table):
    from chalicelib import aws as aws_clients
    from chalicelib import settings

    ddb, name = aws_clients.client("dynamodb"), settings.table_name(table)
    keys = [k["AttributeName"] for k in ddb.describe_table(TableName=name)["Table"]["KeySchema"]]
    for item in ddb.scan(TableName=name, ConsistentRead=True)["Items"]:
        ddb.delete_item(TableName=name, Key={k: item[k] for k in keys})


@ISOLATION
def test_isolation_1_a_test_writes_to_moto(aws):
    _leave_things_behind()


@ISOLATION
def test_isolation_2_the_next_test_sees_none_of_it(aws):
    _nothing_left_behind()


@ISOLATION
def test_isolation_3_a_test_changes_the_demo_data(aws, pump):
    from chalicelib.customer import store
    from tests.support import demo

    demo.load("catalog", "customer", "rules", pump=pump)
    demo.load("catalog", "customer", "rules", pump=pump)   # a second set in one test: written on top
    assert store.load_customer("cust-andrea") is not None
    _empty("customer")
    assert store.load_customer("cust-andrea") is None
    _leave_things_behind()


@ISOLATION
def test_isolation_4_the_next_test_has_the_demo_data_as_loaded(aws, pump):
    from chalicelib.customer import store
    from tests.support import demo

    demo.load("catalog", "customer", "rules", pump=pump)
    assert store.load_customer("cust-andrea") is not None
    pump.drain()
    assert pump.errors == [] and pump.failures == []   # the demo's stream records were not read again


def test_a_restored_snapshot_forgets_what_was_written_after_it(aws):
    from tests.support import moto_state

    snapshot = moto_state.Snapshot()
    _leave_things_behind()
    snapshot.restore()
    _nothing_left_behind()


def test_the_test_that_writes_the_demo_data_reads_its_streams_on(aws, pump, monkeypatch):
    """The snapshot leaves the demo's stream records out; the live moto of the test that took it
    keeps them, so its pump's look back at the last record it read still finds it."""
    from infra.local.pump import _Shard
    from tests.support import demo

    monkeypatch.setattr(demo, "_snapshots", {})
    demo.load("catalog", "customer", "rules", pump=pump)   # written here, and the snapshot taken
    shards = [s for s in pump.sources if isinstance(s, _Shard)]
    assert any(s.last for s in shards)
    for shard in shards:
        shard.refresh_at = 0.0
    pump.drain()
    assert pump.errors == [] and pump.replaced == []


def test_a_set_clock_gets_a_copy_only_within_the_window_after_the_snapshots_reading(aws, pump, monkeypatch):
    """A test that set tmf.now gets the demo copied when its clock reads between 0 and
    MAX_AGE_SECONDS after the snapshot's; before it (the copy would be from its future) or later,
    the loaders run again and the snapshot is taken anew."""
    import datetime as dt

    from chalicelib import tmf
    from tests.support import demo, moto_state

    noon, window = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc), dt.timedelta(seconds=demo.MAX_AGE_SECONDS)
    monkeypatch.setattr(demo, "_snapshots", {})
    loads = []
    loader = importlib.import_module("chalicelib.catalog.demo")
    monkeypatch.setattr(loader, "load", lambda real=loader.load: (loads.append(tmf.now()), real()))

    def load_at(moment):
        monkeypatch.setattr(tmf, "now", lambda: moment)
        demo.load("catalog", pump=pump)
        moto_state.Snapshot(base=True).restore()   # untouched, as the next test's `aws` fixture leaves moto

    second = dt.timedelta(seconds=1)
    for moment in (noon, noon + 60 * second, noon - second, noon + window + 5 * second, noon + window + 6 * second):
        load_at(moment)
    assert loads == [noon, noon - second, noon + window + 5 * second]


@ISOLATION
@pytest.mark.fresh_moto
def test_isolation_5_a_test_can_ask_for_a_fresh_moto(aws):
    from chalicelib import aws as aws_clients
    from chalicelib import settings

    assert settings.queue_url("worklist") in aws_clients.client("sqs").list_queues()["QueueUrls"]
    _leave_things_behind()


@ISOLATION
def test_isolation_6_the_next_test_gets_the_copy_again(aws):
    _nothing_left_behind()
