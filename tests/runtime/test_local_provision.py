"""provision() creates every resource of infra/resources.py, and again without harm."""
from __future__ import annotations

import json
import os

import boto3

from chalicelib import settings
from infra import resources
from infra.local.provision import provision


def test_every_resource_exists_and_env_locates_them(aws):
    ddb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    for table in resources.TABLES:
        described = ddb.describe_table(TableName=settings.table_name(table.name))["Table"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert ("LatestStreamArn" in described) == table.stream
        if table.ttl_attribute:
            ttl = ddb.describe_time_to_live(TableName=settings.table_name(table.name))["TimeToLiveDescription"]
            assert ttl["AttributeName"] == table.ttl_attribute
    for queue in resources.QUEUES:
        url = settings.queue_url(queue.name)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == str(queue.visibility_timeout)
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == queue.max_receive_count
        assert redrive["deadLetterTargetArn"].endswith(f":{settings.resource_name(queue.name)}-dlq")
    names = {f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]}
    assert {settings.resource_name(f.name) for f in resources.FUNCTIONS} <= names
    sfn = boto3.client("stepfunctions")
    for machine in resources.STATE_MACHINES:
        definition = sfn.describe_state_machine(stateMachineArn=settings.state_machine_arn(machine.name))["definition"]
        assert "${" not in definition and ":function:omnishop-local-" in definition
    schedules = {s["Name"]: s for s in boto3.client("scheduler").list_schedules()["Schedules"]}
    for schedule in resources.SCHEDULES:
        assert schedules[settings.resource_name(schedule.name)]["Target"]["Arn"].endswith(
            f":function:{settings.resource_name(schedule.function)}")
    assert resources.EMAIL_SENDER in boto3.client("ses").list_identities()["Identities"]


def test_provision_is_idempotent(aws):
    first = dict(os.environ)
    again = provision()
    assert again and all(first[k] == v for k, v in again.items())
