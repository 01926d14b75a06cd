"""The synthesized template deploys exactly what infra/resources.py lists, wired as designed."""
from __future__ import annotations

import json

import pytest

from chalicelib import auth
from infra import resources as res
from infra.names import ALARM_TOPIC, CUSTOM_ATTRIBUTES, PROJECT, SCOPES, env_name, logical_id, physical_name
from infra.resources import stream_failure_queue
from tests.infra.conftest import STAGE, resolve

TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
FUNCTION = "AWS::Lambda::Function"
MAPPING = "AWS::Lambda::EventSourceMapping"
ALARM = "AWS::CloudWatch::Alarm"


def _topic_ref(synth) -> dict:
    topics = [k for k in synth.of_type("AWS::SNS::Topic") if k.startswith(logical_id("Topic", ALARM_TOPIC))]
    assert len(topics) == 1
    return {"Ref": topics[0]}


def arn_of(kind: str, name: str) -> dict:
    return {"Fn::GetAtt": [logical_id(kind, name), "Arn"]}


# --- tables -----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", res.TABLES, ids=lambda t: t.name)
def test_table_is_its_schema(synth, template, spec):
    schema = spec.schema()
    props = synth.resources[logical_id("Table", spec.name)]["Properties"]
    assert synth.resources[logical_id("Table", spec.name)]["Type"] == TABLE
    assert props["KeySchema"] == schema["KeySchema"]
    assert props["AttributeDefinitions"] == schema["AttributeDefinitions"]
    assert props.get("GlobalSecondaryIndexes", []) == schema["GlobalSecondaryIndexes"]
    assert props.get("StreamSpecification") == (
        {"StreamViewType": "NEW_AND_OLD_IMAGES"} if spec.stream else None)
    assert props.get("TimeToLiveSpecification") == (
        {"AttributeName": spec.ttl_attribute, "Enabled": True} if spec.ttl_attribute else None)
    assert "TableName" not in props, "CloudFormation names the tables"
    from aws_cdk.assertions import Match   # the CDK only where a test uses it (infra/names.py)

    template.has_resource_properties(TABLE, {
        "KeySchema": schema["KeySchema"], "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "Tags": Match.array_with([{"Key": "Project", "Value": PROJECT}]),
    })


def test_no_other_tables(template):
    template.resource_count_is(TABLE, len(res.TABLES))


# --- queues -----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", res.QUEUES, ids=lambda q: q.name)
def test_queue_has_dead_letter_queue_and_alarm(synth, template, spec):
    queue = synth.resources[logical_id("Queue", spec.name)]
    assert queue["Type"] == QUEUE
    assert queue["Properties"]["VisibilityTimeout"] == spec.visibility_timeout
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": arn_of("Queue", f"{spec.name}-dlq"),
        "maxReceiveCount": spec.max_receive_count}
    assert synth.resources[logical_id("Queue", f"{spec.name}-dlq")]["Type"] == QUEUE
    _assert_dlq_alarm(synth, template, f"{spec.name}-dlq")


def _assert_dlq_alarm(synth, template, queue_name: str) -> None:
    template.has_resource_properties(ALARM, {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS",
        "Dimensions": [{"Name": "QueueName",
                        "Value": {"Fn::GetAtt": [logical_id("Queue", queue_name), "QueueName"]}}],
        "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": [_topic_ref(synth)],
    })


def test_queues_are_the_listed_ones_their_dlqs_and_stream_failure_queues(synth):
    expected = {logical_id("Queue", q.name) for q in res.QUEUES}
    expected |= {logical_id("Queue", f"{q.name}-dlq") for q in res.QUEUES}
    failures = [stream_failure_queue(f.name, s.table)
                for f in res.FUNCTIONS for s in f.sources if isinstance(s, res.StreamSource)]
    expected |= {logical_id("Queue", q) for q in failures}
    expected |= {logical_id("Queue", f"{q}-dlq") for q in failures}   # cdk-nag SQS3
    assert set(synth.of_type(QUEUE)) == expected
    for queue in failures:
        assert synth.resources[logical_id("Queue", queue)]["Properties"]["RedrivePolicy"] == {
            "deadLetterTargetArn": arn_of("Queue", f"{queue}-dlq"), "maxReceiveCount": 5}


# --- functions --------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", res.FUNCTIONS, ids=lambda f: f.name)
def test_function(synth, spec):
    props = synth.resources[logical_id("Function", spec.name)]["Properties"]
    assert props["Handler"] == spec.handler
    assert props["Runtime"] == res.LAMBDA_RUNTIME
    assert props["Timeout"] == spec.timeout
    assert props["MemorySize"] == spec.memory
    assert props["TracingConfig"] == {"Mode": "Active"}
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "omnishop"
    _assert_resource_environment(env)


def _assert_resource_environment(env: dict) -> None:
    assert env["OMNISHOP_STAGE"] == STAGE
    for table in res.TABLES:
        assert env[env_name("TABLE", table.name)] == {"Ref": logical_id("Table", table.name)}
    for queue in res.QUEUES:
        assert env[env_name("QUEUE_URL", queue.name)] == {"Ref": logical_id("Queue", queue.name)}
    for machine in res.STATE_MACHINES:
        arn = resolve(env[env_name("STATE_MACHINE_ARN", machine.name)], {})
        assert arn.endswith(f":stateMachine:{physical_name(STAGE, machine.name)}")
    assert "OMNISHOP_LOCAL" not in env


@pytest.mark.parametrize("spec", [f for f in res.FUNCTIONS if f.sources], ids=lambda f: f.name)
def test_event_sources_report_partial_batch_failures(synth, template, spec):
    from aws_cdk.assertions import Match

    for source in spec.sources:
        if isinstance(source, res.StreamSource):
            template.has_resource_properties(MAPPING, {
                "FunctionName": {"Ref": logical_id("Function", spec.name)},
                "EventSourceArn": {"Fn::GetAtt": [logical_id("Table", source.table), "StreamArn"]},
                "BatchSize": source.batch_size, "StartingPosition": "TRIM_HORIZON",
                "ParallelizationFactor": spec.parallelization,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": Match.any_value(),
                "DestinationConfig": {"OnFailure": {"Destination": arn_of(
                    "Queue", stream_failure_queue(spec.name, source.table))}},
            })
            _assert_dlq_alarm(synth, template, stream_failure_queue(spec.name, source.table))
        else:
            template.has_resource_properties(MAPPING, {
                "FunctionName": {"Ref": logical_id("Function", spec.name)},
                "EventSourceArn": arn_of("Queue", source.queue),
                "BatchSize": source.batch_size,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            })


def test_no_stream_has_more_than_two_readers():
    """AWS advises at most two processes reading one DynamoDB stream shard at a time."""
    readers: dict[str, int] = {}
    for function in res.FUNCTIONS:
        for source in function.sources:
            if isinstance(source, res.StreamSource):
                readers[source.table] = readers.get(source.table, 0) + 1
    assert readers and max(readers.values()) <= 2, readers


def test_one_mapping_per_source_and_no_others(template):
    template.resource_count_is(MAPPING, sum(len(f.sources) for f in res.FUNCTIONS))
    # and CDK's AwsCustomResource provider, which sets the account's SMS attributes (infra/stack.py)
    template.resource_count_is(FUNCTION, len(res.FUNCTIONS) + 1)


def _policy_actions(synth, role_logical_id: str) -> set[str]:
    actions: set[str] = set()
    # The role's own policy and the shared data-access managed policies attached to it (infra/stack.py).
    for policy in [*synth.of_type("AWS::IAM::Policy").values(), *synth.of_type("AWS::IAM::ManagedPolicy").values()]:
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= {found} if isinstance(found, str) else set(found)
    return actions


def _role_of(synth, function_logical_id: str) -> str:
    return synth.resources[function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]


def test_functions_and_api_may_use_the_resources(synth):
    needed = {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage",
              "states:StartExecution", "sns:Publish", "ses:SendEmail"}
    roles = [_role_of(synth, logical_id("Function", f.name)) for f in res.FUNCTIONS]
    roles.append(synth.resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0])
    for role in roles:
        assert needed <= _policy_actions(synth, role), role


# --- state machines and schedules -------------------------------------------------------------
@pytest.mark.parametrize("spec", res.STATE_MACHINES, ids=lambda m: m.name)
def test_state_machine(synth, template, spec):
    sid = logical_id("StateMachine", spec.name)
    props = synth.resources[sid]["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"] == physical_name(STAGE, spec.name)
    assert json.loads(props["DefinitionString"]) == spec.definition()
    assert props["DefinitionSubstitutions"] == {
        key: arn_of("Function", fn) for key, fn in spec.functions.items()}
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    template.has_resource_properties(ALARM, {
        "MetricName": "ExecutionsFailed", "Namespace": "AWS/States",
        "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": sid}}],
        "AlarmActions": [_topic_ref(synth)],
    })
    # its role may invoke exactly the mapped functions
    role = props["RoleArn"]["Fn::GetAtt"][0]
    assert "lambda:InvokeFunction" in _policy_actions(synth, role)


def test_no_other_state_machines(template):
    template.resource_count_is("AWS::StepFunctions::StateMachine", len(res.STATE_MACHINES))


@pytest.mark.parametrize("spec", res.SCHEDULES, ids=lambda s: s.name)
def test_schedule(synth, spec):
    props = synth.resources[logical_id("Schedule", spec.name)]["Properties"]
    assert props["ScheduleExpression"] == spec.expression
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    target = props["Target"]
    assert target["Arn"] == arn_of("Function", spec.function)
    event = json.loads(resolve(target["Input"], {"AWS::AccountId": "111", "AWS::Region": "r"}))
    assert event["detail"] == spec.payload and event["account"] == "111"
    role = target["RoleArn"]["Fn::GetAtt"][0]
    assert "lambda:InvokeFunction" in _policy_actions(synth, role)
    trust = synth.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_no_other_schedules(template):
    template.resource_count_is("AWS::Scheduler::Schedule", len(res.SCHEDULES))


# --- notifications, identity ------------------------------------------------------------------
def test_topics_and_email_identity(template):
    template.resource_count_is("AWS::SNS::Topic", len(res.TOPICS))
    template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": res.EMAIL_SENDER})


def test_user_pool_carries_the_claims_auth_reads(synth, template):
    (pool,) = synth.of_type("AWS::Cognito::UserPool").values()
    custom = {a["Name"]: a for a in pool["Properties"]["Schema"]}
    assert set(CUSTOM_ATTRIBUTES) <= set(custom)
    for claim in CUSTOM_ATTRIBUTES:   # what auth.caller_from_claims reads as custom:<claim>
        assert auth._claim({f"custom:{claim}": "x"}, claim) == "x"
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    template.has_resource_properties("AWS::Cognito::UserPoolResourceServer", {
        "Identifier": PROJECT,
        "Scopes": [{"ScopeName": s, "ScopeDescription": d} for s, d in SCOPES.items()]})
    template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)


def test_clients_for_channels_and_machines(synth, template):
    clients = synth.of_type("AWS::Cognito::UserPoolClient")
    assert len(clients) == len(auth.CHANNELS) + len(SCOPES)
    for client in clients.values():   # nobody may give themselves a role, channel or customer
        assert not any(a.startswith("custom:") for a in client["Properties"]["WriteAttributes"])
    (server,) = synth.of_type("AWS::Cognito::UserPoolResourceServer")   # Ref: its identifier
    refs = {server: synth.resources[server]["Properties"]["Identifier"]}
    machine_scopes = sorted(resolve(c["Properties"]["AllowedOAuthScopes"], refs)
                            for c in clients.values()
                            if c["Properties"].get("AllowedOAuthFlows") == ["client_credentials"]
                            and c["Properties"]["GenerateSecret"] is True)
    assert machine_scopes == sorted([f"{PROJECT}/{scope}"] for scope in SCOPES)


# --- the API ----------------------------------------------------------------------------------
def test_api_is_the_chalice_app_without_local_routes(synth):
    api = synth.resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["StageName"] == json.loads(
        (res.ROOT / ".chalice" / "config.json").read_text())["api_gateway_stage"]
    paths = api["Properties"]["DefinitionBody"]["paths"]
    assert "/health" in paths
    assert any(p.startswith("/tmf-api/productCatalogManagement/v4/") for p in paths)
    assert not [p for p in paths if p.startswith("/local")], "local-only routes are deployed"


def test_api_gateway_answers_in_the_tmf_error_shape(synth):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == {g.type for g in res.GATEWAY_RESPONSES}
    for spec in res.GATEWAY_RESPONSES:
        props = responses[spec.type]
        assert props["RestApiId"] == {"Ref": "RestAPI"}
        assert props.get("StatusCode") == (str(spec.status) if spec.status else None)
        assert props["ResponseParameters"] == {"gatewayresponse.header.Content-Type": "'application/json'"}
        filled = (props["ResponseTemplates"]["application/json"]
                  .replace("$context.error.messageString", '"the gateway said so"')
                  .replace("$context.error.responseType", "ACCESS_DENIED").replace("$context.requestId", "r-1"))
        body = json.loads(filled)   # valid JSON once API Gateway fills it in
        assert {"code", "reason", "message", "@type"} <= set(body) and body["@type"] == "Error"
    missing = json.loads(responses["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]["application/json"]
                         .replace("$context.requestId", "r-1"))
    assert (responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"], missing["code"]) == ("404", "notFound")


def test_api_function_environment_and_role(synth):
    handler = synth.resources["APIHandler"]
    props = handler["Properties"]
    assert props["Runtime"] == res.LAMBDA_RUNTIME
    assert props["Tracing"] == "Active"
    env = props["Environment"]["Variables"]
    _assert_resource_environment(env)
    refs = {"AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com"}
    (pool,) = synth.of_type("AWS::Cognito::UserPool")
    issuer = f"https://cognito-idp.eu-west-1.amazonaws.com/<Ref {pool}>"
    assert resolve(env["OMNISHOP_JWT_ISSUER"], refs) == issuer
    assert resolve(env["OMNISHOP_JWKS_URL"], refs) == f"{issuer}/.well-known/jwks.json"
    assert "OMNISHOP_JWT_AUDIENCE" not in env   # Cognito access tokens carry client_id, not aud
    role = props["Role"]["Fn::GetAtt"][0]
    assert synth.resources[role]["Type"] == "AWS::IAM::Role"
    assert "ManagedLayer" in synth.resources  # chalice's automatic layer holds the dependencies


def test_outputs(synth):
    outputs = synth.template["Outputs"]
    expected = {"ApiUrl", "UserPoolId", "JwtIssuer", "TokenEndpoint"}
    expected |= {logical_id("ClientId", c) for c in auth.CHANNELS}
    expected |= {logical_id("ClientId", f"{s}-service") for s in SCOPES}
    expected |= {logical_id("QueueUrl", q.name) for q in res.QUEUES}
    assert expected <= set(outputs)
    assert "execute-api" in json.dumps(outputs["ApiUrl"])


def test_everything_taggable_is_tagged(synth):
    tagged = [r for r in synth.resources.values() if isinstance(r.get("Properties", {}).get("Tags"), list)]
    assert tagged
    for resource in tagged:
        assert {"Key": "Project", "Value": PROJECT} in resource["Properties"]["Tags"], resource["Type"]


# --- observability (issue 18) -----------------------------------------------------------------
def _alarm(synth, name: str) -> dict:
    return synth.resources[logical_id("Alarm", name)]["Properties"]


@pytest.mark.parametrize("spec", res.FUNCTIONS, ids=lambda f: f.name)
def test_function_errors_and_throttles_alarm(synth, spec):
    for metric in ("Errors", "Throttles"):
        props = _alarm(synth, f"{spec.name}-{metric.lower()}")
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", metric, "Sum")
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical_id("Function", spec.name)}}]
        assert props["AlarmActions"] == [_topic_ref(synth)]
    if any(isinstance(s, res.StreamSource) for s in spec.sources):
        props = _alarm(synth, f"{spec.name}-iterator-age")
        assert (props["MetricName"], props["Statistic"], props["Threshold"]) == ("IteratorAge", "Maximum", 300_000)


def test_api_5xx_and_p99_latency_alarms(synth):
    errors, latency = _alarm(synth, "api-5xx"), _alarm(synth, "api-latency-p99")
    assert (errors["MetricName"], errors["Statistic"], errors["Threshold"]) == ("5XXError", "Average", 0.05)
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == ("Latency", "p99", 3000)
    api_name = synth.resources["RestAPI"]["Properties"]["Name"]
    assert api_name == physical_name(STAGE, "api")
    for props in (errors, latency):
        assert {"Name": "ApiName", "Value": api_name} in props["Dimensions"]
        assert props["AlarmActions"] == [_topic_ref(synth)]


@pytest.mark.parametrize("spec", res.STATE_MACHINES, ids=lambda m: m.name)
def test_state_machine_timed_out_alarm(synth, spec):
    props = _alarm(synth, f"{spec.name}-timed-out")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/States", "ExecutionsTimedOut")
    assert props["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": logical_id("StateMachine", spec.name)}}]


def test_one_dashboard_with_business_and_technical_views(synth):
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(resolve(dashboard["Properties"]["DashboardBody"], {"AWS::Region": "eu-west-1"}))
    for text in ("business", "technical", "ChildOrderHeld", "SMSMonthToDateSpentUSD", "5XXError", "Latency",
                 "Throttles", "IteratorAge", "ExecutionsFailed", "ExecutionsTimedOut",
                 "ApproximateNumberOfMessagesVisible"):
        assert text in body, text
    for function in res.FUNCTIONS:
        assert f"<Ref {logical_id('Function', function.name)}>" in body, function.name


# --- encryption, limits, retention (issue 18) -------------------------------------------------
def test_tables_queues_and_topic_use_the_rotated_customer_managed_key(synth):
    (key_id, key), = synth.of_type("AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
    for spec in res.TABLES:
        assert synth.resources[logical_id("Table", spec.name)]["Properties"]["SSESpecification"] == {
            "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
    for queue_id, queue in synth.of_type(QUEUE).items():
        assert queue["Properties"]["KmsMasterKeyId"] == key_arn, queue_id
    for topic in synth.of_type("AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"] == key_arn
    # CloudWatch alarms publish to the encrypted topic: the key lets CloudWatch use it
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} and "kms:Decrypt" in s["Action"]
               for s in statements)


def test_api_stage_is_throttled_and_traced(synth):
    props = synth.resources["RestAPI"]["Properties"]
    assert props["TracingEnabled"] is True
    assert props["MethodSettings"] == [{"ResourcePath": "/*", "HttpMethod": "*",
                                        "LoggingLevel": "ERROR", "DataTraceEnabled": False,
                                        "ThrottlingRateLimit": res.API_THROTTLE_RATE,
                                        "ThrottlingBurstLimit": res.API_THROTTLE_BURST}]


def test_waf_on_the_api_stage_with_managed_rules_and_a_rate_limit(synth):
    from infra.stack import WAF_MANAGED_RULE_GROUPS

    (acl_id, acl), = synth.of_type("AWS::WAFv2::WebACL").items()
    assert acl["Properties"]["Scope"] == "REGIONAL" and acl["Properties"]["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    rate = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    assert rate == {"Limit": res.WAF_RATE_LIMIT_PER_IP, "AggregateKeyType": "IP"}
    assert rules["rate-limit-per-ip"]["Action"] == {"Block": {}}
    for group in WAF_MANAGED_RULE_GROUPS:
        statement = rules[group]["Statement"]["ManagedRuleGroupStatement"]
        assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
        assert rules[group]["OverrideAction"] == {"None": {}}
    (association,) = synth.of_type("AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = resolve(association["Properties"]["ResourceArn"], {"AWS::Partition": "aws", "AWS::Region": "r"})
    assert arn == "arn:aws:apigateway:r::/restapis/<Ref RestAPI>/stages/<Ref RestAPI.Stage>"


def test_every_log_group_has_retention_and_every_function_one(synth):
    groups = synth.of_type("AWS::Logs::LogGroup")
    for key, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), key
    for key, function in {**synth.of_type(FUNCTION), **synth.of_type("AWS::Serverless::Function")}.items():
        assert function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] in groups, key


def test_sms_and_email_alarms(synth):
    failures, spend = _alarm(synth, "sms-failures"), _alarm(synth, "sms-spend")
    assert (failures["Namespace"], failures["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert failures["Dimensions"] == [{"Name": "PhoneNumber", "Value": "PhoneNumberDirect"}]
    # spend as a percentage of the spend-limit stack parameter, alarmed before SNS stops sending
    (value,) = [m for m in spend["Metrics"] if "MetricStat" in m]
    assert (value["MetricStat"]["Metric"]["MetricName"], value["MetricStat"]["Stat"]) == (
        "SMSMonthToDateSpentUSD", "Maximum")
    (expression,) = [m for m in spend["Metrics"] if "Expression" in m]
    assert expression["Expression"] == {"Fn::Join": ["", [f"100 * {value['Id']} / ",
                                                         {"Ref": "SmsMonthlySpendLimitUsd"}]]}
    assert 0 < spend["Threshold"] == res.SMS_SPEND_ALARM_PERCENT < 100
    for name, metric in (("ses-bounce-rate", "Reputation.BounceRate"), ("ses-complaint-rate", "Reputation.ComplaintRate")):
        props = _alarm(synth, name)
        assert (props["Namespace"], props["MetricName"], props["AlarmActions"]) == ("AWS/SES", metric, [_topic_ref(synth)])


def test_api_access_log_is_json_with_the_correlation_id(synth):
    from infra.stack import API_ACCESS_LOG

    props = synth.resources["RestAPI"]["Properties"]
    setting = props["AccessLogSetting"]
    assert json.loads(setting["Format"]) == API_ACCESS_LOG
    assert API_ACCESS_LOG["correlationId"] == "$context.requestId"   # the app's fallback correlation id
    group = setting["DestinationArn"]["Fn::GetAtt"][0]
    assert synth.resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert synth.resources[group]["Properties"]["RetentionInDays"] == 30
    # API Gateway logs through the account's CloudWatch role, set before the stage exists
    (account_id, account), = synth.of_type("AWS::ApiGateway::Account").items()
    assert account_id in synth.resources["RestAPI"]["DependsOn"]
    role = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    trust = synth.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
