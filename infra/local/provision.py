"""Create every resource of infra/resources.py in moto (in-process `mock_aws` or a moto server
reached through AWS_ENDPOINT_URL), and publish what the app needs to find them.

Safe to call twice: what exists is kept (queues and state machines are brought up to date).
Never through moto's CloudFormation: state machines made that way do not execute (DESIGN §8).
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any, Callable, Iterable

from chalicelib import aws, settings
from infra import resources
from infra.local.lambdas import function_arn, physical_name
from infra.resources import LAMBDA_RUNTIME, Function, Queue, Schedule, Secret, StateMachine, Table

ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": [
        "lambda.amazonaws.com", "states.amazonaws.com", "scheduler.amazonaws.com"]}}],
}


def env_key(kind: str, logical: str) -> str:
    """The variable chalicelib.settings reads, e.g. OMNISHOP_QUEUE_URL_HUB_DELIVERY."""
    return f"{settings.PREFIX}{kind}_{settings._key(logical)}"


def provision(tables: Iterable[Table] | None = None, queues: Iterable[Queue] | None = None,
              functions: Iterable[Function] | None = None,
              state_machines: Iterable[StateMachine] | None = None,
              schedules: Iterable[Schedule] | None = None, topics: Iterable[str] | None = None,
              secrets: Iterable[Secret] | None = None, email_sender: str | None = resources.EMAIL_SENDER,
              fill: Callable[[], Any] | None = None) -> dict[str, str]:
    """Create the resources (each list defaults to infra/resources.py's) and return the env vars
    that locate them (OMNISHOP_QUEUE_URL_*, OMNISHOP_STATE_MACHINE_ARN_*, OMNISHOP_SECRET_ID_*),
    also set in os.environ.

    Tables get their streams only after `fill()` ran (the local runtime restores its saved items
    there, infra/local/state.py): what it writes makes no stream record."""
    functions = tuple(resources.FUNCTIONS if functions is None else functions)
    role = _role()
    tables = tuple(resources.TABLES if tables is None else tables)
    for table in tables:
        _table(table)
    if fill is not None:
        fill()
    for table in tables:
        if table.stream:
            _stream(table)
    env: dict[str, str] = {}
    for queue in resources.QUEUES if queues is None else queues:
        env[env_key("QUEUE_URL", queue.name)] = _queue(queue)
    for secret in resources.SECRETS if secrets is None else secrets:
        env[env_key("SECRET_ID", secret.name)] = _secret(secret)
    for topic in resources.TOPICS if topics is None else topics:
        aws.client("sns").create_topic(Name=settings.resource_name(topic))
    if email_sender:
        aws.client("ses").verify_email_identity(EmailAddress=email_sender)
    for function in functions:
        _function(function, role)
    by_name = {f.name: f for f in functions}
    for machine in resources.STATE_MACHINES if state_machines is None else state_machines:
        env[env_key("STATE_MACHINE_ARN", machine.name)] = _state_machine(machine, by_name, role)
    for schedule in resources.SCHEDULES if schedules is None else schedules:
        _schedule(schedule, by_name[schedule.function], role)
    os.environ.update(env)
    return env


def _role() -> str:
    iam = aws.client("iam")
    name = settings.resource_name("runtime-role")
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE_POLICY))["Role"]["Arn"]


def _table(table: Table) -> None:
    ddb = aws.client("dynamodb")
    name = settings.table_name(table.name)
    schema = table.schema()
    params: dict[str, Any] = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                              "AttributeDefinitions": schema["AttributeDefinitions"],
                              "KeySchema": schema["KeySchema"]}
    if schema["GlobalSecondaryIndexes"]:
        params["GlobalSecondaryIndexes"] = schema["GlobalSecondaryIndexes"]
    try:
        ddb.create_table(**params)
    except ddb.exceptions.ResourceInUseException:
        return
    if table.ttl_attribute:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": table.ttl_attribute})


def _stream(table: Table) -> None:
    """The table's NEW_AND_OLD_IMAGES stream (kept if it has one already)."""
    ddb = aws.client("dynamodb")
    name = settings.table_name(table.name)
    if ddb.describe_table(TableName=name)["Table"].get("LatestStreamArn"):
        return
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True,
                                                          "StreamViewType": "NEW_AND_OLD_IMAGES"})


def _queue(queue: Queue) -> str:
    sqs = aws.client("sqs")
    name = settings.resource_name(queue.name)
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "VisibilityTimeout": str(queue.visibility_timeout),
        "MessageRetentionPeriod": str(queue.retention_days * 86400),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                     "maxReceiveCount": queue.max_receive_count}),
    })
    return url


def _secret(secret: Secret) -> str:
    """The secret with its local value (kept if it exists); its ARN."""
    client = aws.client("secretsmanager")
    name = settings.resource_name(secret.name)
    try:
        return client.describe_secret(SecretId=name)["ARN"]
    except client.exceptions.ResourceNotFoundException:
        return client.create_secret(Name=name, Description=f"Omnishop local: {secret.description}",
                                    SecretString=secret.local_value)["ARN"]


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Run locally by infra.local, from the project tree.\n")
    return buffer.getvalue()


def _function(function: Function, role: str) -> None:
    lam = aws.client("lambda")
    try:
        lam.create_function(FunctionName=physical_name(function), Runtime=LAMBDA_RUNTIME, Role=role,
                            Handler=function.handler, Code={"ZipFile": _dummy_zip()},
                            Timeout=function.timeout, MemorySize=function.memory)
    except lam.exceptions.ResourceConflictException:
        pass


def definition(machine: StateMachine, functions: dict[str, Function]) -> str:
    """The ASL with every ${Key} replaced by the ARN of the function it maps to."""
    text = json.dumps(machine.definition())
    for key, function_name in machine.functions.items():
        text = text.replace("${%s}" % key, function_arn(functions[function_name]))
    if "${" in text:
        raise ValueError(f"state machine {machine.name} has a substitution with no function: {text}")
    return text


def _state_machine(machine: StateMachine, functions: dict[str, Function], role: str) -> str:
    sfn = aws.client("stepfunctions")
    name = settings.resource_name(machine.name)
    text = definition(machine, functions)
    existing = {m["name"]: m["stateMachineArn"]
                for page in sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]}
    if name in existing:
        sfn.update_state_machine(stateMachineArn=existing[name], definition=text, roleArn=role)
        return existing[name]
    return sfn.create_state_machine(name=name, definition=text, roleArn=role)["stateMachineArn"]


def schedule_input(schedule: Schedule) -> str:
    """The Target.Input: an EventBridge-shaped event built by Scheduler's context attributes, with
    the schedule's payload as `detail` (infra.local.schedules sends the same shape)."""
    return json.dumps({
        "version": "0", "id": "<aws.scheduler.execution-id>", "detail-type": "Scheduled Event",
        "source": "aws.scheduler", "account": settings.account_id(), "time": "<aws.scheduler.scheduled-time>",
        "region": settings.region(), "resources": ["<aws.scheduler.schedule-arn>"], "detail": schedule.payload,
    })


def _schedule(schedule: Schedule, function: Function, role: str) -> None:
    scheduler = aws.client("scheduler")
    params = {"Name": settings.resource_name(schedule.name), "ScheduleExpression": schedule.expression,
              "FlexibleTimeWindow": {"Mode": "OFF"},
              "Target": {"Arn": function_arn(function), "RoleArn": role, "Input": schedule_input(schedule)}}
    try:
        scheduler.create_schedule(**params)
    except scheduler.exceptions.ConflictException:
        scheduler.update_schedule(**params)
