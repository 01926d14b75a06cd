"""One source of truth: what the local runtime provisions (infra/local/provision.py, through the
`aws` fixture's in-process moto) is what the CDK template deploys, resource by resource."""
from __future__ import annotations

import json

import pytest

from chalicelib import aws as aws_clients
from chalicelib import settings
from infra import resources as res
from infra.local.lambdas import function_arn
from infra.names import logical_id, physical_name
from tests.infra.conftest import STAGE, resolve

pytestmark = pytest.mark.usefixtures("aws")


def _props(synth, kind: str, name: str) -> dict:
    return synth.resources[logical_id(kind, name)]["Properties"]


def _sorted(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def _spec_name(physical: str, prefix: str) -> str:
    assert physical.startswith(prefix), (physical, prefix)
    return physical[len(prefix):]


@pytest.mark.parametrize("spec", res.TABLES, ids=lambda t: t.name)
def test_table(synth, spec):
    ddb = aws_clients.client("dynamodb")
    name = settings.table_name(spec.name)
    local = ddb.describe_table(TableName=name)["Table"]
    cfn = _props(synth, "Table", spec.name)
    assert local["KeySchema"] == cfn["KeySchema"]
    assert _sorted(local["AttributeDefinitions"]) == _sorted(cfn["AttributeDefinitions"])
    local_gsis = [{"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
                  for g in local.get("GlobalSecondaryIndexes", [])]
    assert _sorted(local_gsis) == _sorted(cfn.get("GlobalSecondaryIndexes", []))
    local_stream = local.get("StreamSpecification") or {"StreamEnabled": False}
    assert local_stream.get("StreamViewType") == cfn.get("StreamSpecification", {}).get("StreamViewType")
    assert local_stream["StreamEnabled"] == ("StreamSpecification" in cfn)
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if "TimeToLiveSpecification" in cfn:
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == cfn["TimeToLiveSpecification"]["AttributeName"]
    else:
        assert ttl["TimeToLiveStatus"] == "DISABLED"


@pytest.mark.parametrize("spec", res.QUEUES, ids=lambda q: q.name)
def test_queue(synth, spec):
    sqs = aws_clients.client("sqs")
    url = settings.queue_url(spec.name)
    assert url, f"the local runtime did not publish {spec.name}'s URL"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    cfn = _props(synth, "Queue", spec.name)
    assert int(attributes["VisibilityTimeout"]) == cfn["VisibilityTimeout"]
    assert int(attributes["MessageRetentionPeriod"]) == cfn["MessageRetentionPeriod"] == spec.retention_days * 86400
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == cfn["RedrivePolicy"]["maxReceiveCount"]
    dlq_name = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
    assert dlq_name == settings.resource_name(f"{spec.name}-dlq")
    assert cfn["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [logical_id("Queue", f"{spec.name}-dlq"), "Arn"]}


def test_same_queues(synth):
    sqs = aws_clients.client("sqs")
    prefix = settings.resource_name("")
    local = {_spec_name(u.rsplit("/", 1)[1], prefix) for u in sqs.list_queues().get("QueueUrls", [])}
    listed = {q.name for q in res.QUEUES} | {f"{q.name}-dlq" for q in res.QUEUES}
    assert local == listed
    assert {logical_id("Queue", n) for n in listed} <= set(synth.of_type("AWS::SQS::Queue"))


@pytest.mark.parametrize("spec", res.FUNCTIONS, ids=lambda f: f.name)
def test_function(synth, spec):
    local = aws_clients.client("lambda").get_function(
        FunctionName=settings.resource_name(spec.name))["Configuration"]
    cfn = _props(synth, "Function", spec.name)
    for key in ("Handler", "Runtime", "Timeout", "MemorySize"):
        assert local[key] == cfn[key], key


def test_same_state_machines_with_same_definitions(synth):
    sfn = aws_clients.client("stepfunctions")
    prefix = settings.resource_name("")
    local = {_spec_name(m["name"], prefix): m["stateMachineArn"]
             for page in sfn.get_paginator("list_state_machines").paginate()
             for m in page["stateMachines"]}
    deployed = {_spec_name(m["Properties"]["StateMachineName"], physical_name(STAGE, "")): m
                for m in synth.of_type("AWS::StepFunctions::StateMachine").values()}
    assert set(local) == set(deployed) == {m.name for m in res.STATE_MACHINES}
    functions = {f.name: f for f in res.FUNCTIONS}
    for spec in res.STATE_MACHINES:
        props = deployed[spec.name]["Properties"]
        text = props["DefinitionString"]
        for key, target in props["DefinitionSubstitutions"].items():
            function = next(f for f in res.FUNCTIONS if target == {
                "Fn::GetAtt": [logical_id("Function", f.name), "Arn"]})
            text = text.replace("${%s}" % key, function_arn(functions[function.name]))
        local_definition = sfn.describe_state_machine(stateMachineArn=local[spec.name])["definition"]
        assert json.loads(local_definition) == json.loads(text)


def test_same_schedules(synth):
    scheduler = aws_clients.client("scheduler")
    prefix = settings.resource_name("")
    local = {_spec_name(s["Name"], prefix): s["Name"] for s in scheduler.list_schedules()["Schedules"]}
    deployed = {_spec_name(s["Properties"]["Name"], physical_name(STAGE, "")): s["Properties"]
                for s in synth.of_type("AWS::Scheduler::Schedule").values()}
    assert set(local) == set(deployed) == {s.name for s in res.SCHEDULES}
    refs = {"AWS::AccountId": settings.account_id(), "AWS::Region": settings.region()}
    for spec in res.SCHEDULES:
        schedule = scheduler.get_schedule(Name=local[spec.name])
        cfn = deployed[spec.name]
        assert schedule["ScheduleExpression"] == cfn["ScheduleExpression"]
        assert schedule["FlexibleTimeWindow"] == cfn["FlexibleTimeWindow"]
        assert json.loads(schedule["Target"]["Input"]) == json.loads(resolve(cfn["Target"]["Input"], refs))
        assert schedule["Target"]["Arn"] == function_arn(res.function(spec.function))
        assert cfn["Target"]["Arn"] == {"Fn::GetAtt": [logical_id("Function", spec.function), "Arn"]}


def test_same_topics_and_email_identity(synth):
    prefix = settings.resource_name("")
    topics = aws_clients.client("sns").list_topics()["Topics"]
    assert {_spec_name(t["TopicArn"].rsplit(":", 1)[1], prefix) for t in topics} == set(res.TOPICS)
    assert len(synth.of_type("AWS::SNS::Topic")) == len(res.TOPICS)
    identities = aws_clients.client("ses").list_identities()["Identities"]
    (identity,) = synth.of_type("AWS::SES::EmailIdentity").values()
    assert identities == [identity["Properties"]["EmailIdentity"]]


def test_same_alarms(synth):
    """ALARMS is the one list: the template's alarms are exactly the ones the local runtime
    evaluates (infra/local/alarms.py), each on the metric and threshold its definition says."""
    from infra.local.alarms import Alarms

    local = Alarms().alarms
    deployed = synth.of_type("AWS::CloudWatch::Alarm")
    assert set(deployed) == {logical_id("Alarm", a.name) for a in local}
    assert len(local) == len(res.ALARMS) == len({a.name for a in res.ALARMS})
    for spec in local:
        props = deployed[logical_id("Alarm", spec.name)]["Properties"]
        periods = {props["Period"]} if "Period" in props else {   # metric math: each metric's own
            m["MetricStat"]["Period"] for m in props["Metrics"] if "MetricStat" in m}
        assert props["Threshold"] == spec.threshold and periods == {spec.period}, spec.name
        assert props["EvaluationPeriods"] == 1 and props["TreatMissingData"] == "notBreaching"
        # the local runtime raises it exactly where CloudWatch would, on either side of the threshold
        compare = {"GreaterThanThreshold": lambda v: v > spec.threshold,
                   "GreaterThanOrEqualToThreshold": lambda v: v >= spec.threshold}[props["ComparisonOperator"]]
        for value in (spec.threshold - 1, spec.threshold, spec.threshold + 1):
            assert res.breaching(spec, value) == compare(value), (spec.name, value)
        if isinstance(spec, res.QueueAlarm):
            assert (props["Namespace"], props["MetricName"], props["Statistic"], props["ComparisonOperator"]) == (
                "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "GreaterThanThreshold")
            assert props["Dimensions"] == [{"Name": "QueueName", "Value": {
                "Fn::GetAtt": [logical_id("Queue", spec.queue), "QueueName"]}}]
        elif isinstance(spec, res.ExecutionsFailedAlarm):
            assert (props["Namespace"], props["MetricName"], props["Statistic"], props["ComparisonOperator"]) == (
                "AWS/States", spec.metric, "Sum", "GreaterThanOrEqualToThreshold")
            assert spec.metric == {"FAILED": "ExecutionsFailed", "TIMED_OUT": "ExecutionsTimedOut"}[spec.status]
            assert props["Dimensions"] == [{"Name": "StateMachineArn", "Value": {
                "Ref": logical_id("StateMachine", spec.state_machine)}}]
        elif isinstance(spec, res.ApiAlarm):
            statistic = props.get("Statistic") or props["ExtendedStatistic"]   # percentiles are "extended"
            assert (props["Namespace"], props["MetricName"], statistic, props["ComparisonOperator"]) == (
                "AWS/ApiGateway", spec.metric, spec.statistic, "GreaterThanThreshold")
            assert props["Dimensions"] == [{"Name": "ApiName", "Value": physical_name(STAGE, "api")},
                                           {"Name": "Stage", "Value": synth.resources["RestAPI"]["Properties"]["StageName"]}]
        elif isinstance(spec, res.ServiceAlarm) and spec.percent_of:   # metric math: % of a parameter
            (value,) = [m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m]
            assert (value["Metric"]["Namespace"], value["Metric"]["MetricName"], value["Stat"]) == (
                spec.namespace, spec.metric, spec.statistic)
            assert value["Metric"].get("Dimensions", []) == [{"Name": k, "Value": v} for k, v in spec.dimensions]
            assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        elif isinstance(spec, res.ServiceAlarm):
            assert (props["Namespace"], props["MetricName"], props["Statistic"], props["ComparisonOperator"]) == (
                spec.namespace, spec.metric, spec.statistic, "GreaterThanOrEqualToThreshold")
            assert props.get("Dimensions", []) == [{"Name": k, "Value": v} for k, v in spec.dimensions]
        elif isinstance(spec, res.FunctionAlarm):
            assert (props["Namespace"], props["MetricName"], props["Statistic"], props["ComparisonOperator"]) == (
                "AWS/Lambda", spec.metric, spec.statistic, "GreaterThanOrEqualToThreshold")
            assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {
                "Ref": logical_id("Function", spec.function)}}]
        else:
            assert isinstance(spec, res.MetricAlarm)
            assert (props["Namespace"], props["MetricName"], props["Statistic"], props["ComparisonOperator"]) == (
                "Omnishop", spec.metric, "Sum", "GreaterThanOrEqualToThreshold")
            assert props["Dimensions"] == [{"Name": "service", "Value": "omnishop"}]


@pytest.mark.parametrize("spec", res.SECRETS, ids=lambda s: s.name)
def test_secret(synth, spec):
    """Both publish the secret's id (never its value) under the same variable."""
    arn = settings.secret_id(spec.name)
    assert arn, f"the local runtime did not publish {spec.name}'s id"
    assert aws_clients.client("secretsmanager").describe_secret(SecretId=arn)["Name"] == settings.resource_name(spec.name)
    assert synth.resources[logical_id("Secret", spec.name)]["Type"] == "AWS::SecretsManager::Secret"
