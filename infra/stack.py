"""The Omnishop deployment: one CloudFormation stack built by iterating infra/resources.py.

Nothing here names a table, queue, function, state machine or schedule: every one comes from the
lists in infra/resources.py, which the local runtime (infra/local/) creates too. Each gets a
stable logical id from its name (`logical_id`), so tests and operators can find it.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
from typing import Any, Iterator
from unittest import mock

from aws_cdk import (ArnFormat, CfnOutput, CfnResource, Duration, Fn, RemovalPolicy, Stack, Tags)
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from chalicelib import auth, settings
from infra import bundling
from infra import resources as res

PROJECT = "omnishop"
ALARM_TOPIC = "ops-alarms"                       # resources.TOPICS: "alarms go to the ops topic"
CAMPAIGN_RUNNER = "campaign-runner"              # invoked by the schedules the campaign API makes
RUNTIME = lambda_.Runtime.PYTHON_3_12
RUNTIME_NAME = f"python{bundling.PYTHON_VERSION}"  # the API (chalice) runs on the same runtime
# Machine clients (client credentials): one scope, and so one client, per channel backend and
# per fulfilment stack. chalicelib/auth.py turns the scope into the caller's role/channel/stack.
SCOPES = {**{auth.channel_scope(c): f"The {c} channel's own backend" for c in auth.CHANNELS},
          **{auth.stack_scope(s): f"Fulfilment stack {s} reporting on its own child orders" for s in auth.stacks()}}
# The claims chalicelib/auth.py reads (as `custom:<name>` from Cognito), with their max length.
CUSTOM_ATTRIBUTES = {"role": 32, "channel": 32, "customerId": 128}
assert RUNTIME.name == RUNTIME_NAME, "bundling.PYTHON_VERSION and RUNTIME must agree"


def logical_id(kind: str, name: str) -> str:
    """`("Table", "hub-delivery")` -> "TableHubDelivery": the resource's id in the template."""
    return kind + "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def l1(construct: IConstruct | None) -> CfnResource:
    """A CloudFormation resource reached through the construct tree (find_child, default_child),
    which CDK types as IConstruct (or None)."""
    if not isinstance(construct, CfnResource):
        raise TypeError(f"{construct} is not a CloudFormation resource")
    return construct


def env_name(kind: str, name: str) -> str:
    """The variable chalicelib/settings.py reads for a resource, e.g. OMNISHOP_TABLE_CATALOG."""
    return settings.PREFIX + f"{kind}_" + settings._key(name)


def physical_name(stage: str, name: str) -> str:
    """Names we must fix in advance (see _state_machine_arn); settings.resource_name's shape."""
    return f"{PROJECT}-{stage}-{name}"


stream_failure_queue = res.stream_failure_queue   # the name tests and operators know it by


class _ChaliceStage(Construct):
    """chalice.cdk names the Chalice stage after its scope's `to_string()`: make that the stage,
    so `.chalice/config.json`'s "stages" apply."""

    def __init__(self, scope: Construct, construct_id: str, stage: str) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage

    def to_string(self) -> str:
        return self._stage


@contextlib.contextmanager
def chalice_packaging() -> Iterator[None]:
    """What `chalice package` (run by chalice.cdk during synthesis) must see, and then forget.

    - It imports app.py with the stage's environment variables written into os.environ: import
      it afresh with OMNISHOP_LOCAL unset (so POST /local/token is not in the deployed API),
      and give os.environ and sys.modules back untouched afterwards.
    - It needs a region (any: the template uses AWS::Region).
    - Chalice picks the Lambda runtime, and the wheels it downloads, from the interpreter that
      runs it; deploy the API on the same runtime as the functions instead, whatever runs the
      synthesis: chalice's runtime is patched, and pip (which chalice runs) is told the Python
      version through its environment (binary wheels only, as it then requires).
    """
    saved_environ = dict(os.environ)
    saved_modules = {name: module for name, module in sys.modules.items()
                     if name == "app" or name == "chalicelib" or name.startswith("chalicelib.")}
    for name in saved_modules:
        del sys.modules[name]
    os.environ.pop(settings.PREFIX + "LOCAL", None)
    os.environ["PIP_PYTHON_VERSION"] = bundling.PYTHON_VERSION
    os.environ["PIP_ONLY_BINARY"] = ":all:"
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = settings.region()
    from chalice.config import Config

    try:
        with mock.patch.object(Config, "lambda_python_version", property(lambda _self: RUNTIME_NAME)):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        for name in [n for n in sys.modules if n == "app" or n.startswith("chalicelib")]:
            del sys.modules[name]
        sys.modules.update(saved_modules)


class OmnishopStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str = "dev",
                 public_base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=f"Omnishop ({stage})", **kwargs)
        self.stage = stage
        self.removal = RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY
        Tags.of(self).add("Project", PROJECT)
        Tags.of(self).add("Stage", stage)

        self.topics = {name: sns.Topic(self, logical_id("Topic", name), display_name=f"Omnishop {name}")
                       for name in res.TOPICS}
        self.alarm_action = cloudwatch_actions.SnsAction(self.topics[ALARM_TOPIC])
        self.email_identity = ses.EmailIdentity(self, "EmailSender",
                                                identity=ses.Identity.email(res.EMAIL_SENDER))
        self.tables = {t.name: self._table(t) for t in res.TABLES}
        self.table_names = {t.name: l1(self.node.find_child(logical_id("Table", t.name))).ref
                            for t in res.TABLES}
        self.plain_queues: dict[str, sqs.Queue] = {}   # every queue by name (DLQs, stream failures)
        self.queues = {q.name: self._queue(q) for q in res.QUEUES}
        self.state_machine_arns = {m.name: self._state_machine_arn(m.name) for m in res.STATE_MACHINES}
        self._cognito()

        # What every piece of code is told about the resources (chalicelib/settings.py reads it).
        self.code_environment = {
            settings.PREFIX + "STAGE": stage,
            settings.PREFIX + "EMAIL_SENDER": res.EMAIL_SENDER,
            **{env_name("TABLE", n): ref for n, ref in self.table_names.items()},
            **{env_name("QUEUE_URL", n): q.queue_url for n, q in self.queues.items()},
            **{env_name("STATE_MACHINE_ARN", n): arn for n, arn in self.state_machine_arns.items()},
            settings.PREFIX + "JWKS_URL": f"{self.jwt_issuer}/.well-known/jwks.json",
            settings.PREFIX + "JWT_ISSUER": self.jwt_issuer,
            "POWERTOOLS_SERVICE_NAME": PROJECT,
        }
        if public_base_url:
            self.code_environment[settings.PREFIX + "PUBLIC_BASE_URL"] = public_base_url
        # The HMAC key of signed links in messages: generated once per stage, resolved into the
        # functions' environment at deploy time (rotate by prepending a new key, comma-separated).
        link_secret = secretsmanager.Secret(
            self, "LinkSecret", description=f"Omnishop {stage}: key of signed links in messages",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                        password_length=48),
            removal_policy=self.removal)
        self.code_environment[settings.PREFIX + "LINK_SECRETS"] = link_secret.secret_value.unsafe_unwrap()

        code = bundling.function_code()
        self.functions = {f.name: self._function(f, code) for f in res.FUNCTIONS}
        self.state_machines = {m.name: self._state_machine(m) for m in res.STATE_MACHINES}
        self._schedules()
        self._alarms()
        self._api()
        self._outputs()

    # --- data -----------------------------------------------------------------------------------
    def _table(self, spec: res.Table) -> dynamodb.ITable:
        """The table exactly as `Table.schema()` says (an L1: its shape is boto3's shape)."""
        schema = spec.schema()
        keys = lambda ks: [dynamodb.CfnTable.KeySchemaProperty(  # noqa: E731
            attribute_name=k["AttributeName"], key_type=k["KeyType"]) for k in ks]
        gsis = [dynamodb.CfnTable.GlobalSecondaryIndexProperty(
            index_name=g["IndexName"], key_schema=keys(g["KeySchema"]),
            projection=dynamodb.CfnTable.ProjectionProperty(
                projection_type=g["Projection"]["ProjectionType"],
                non_key_attributes=g["Projection"].get("NonKeyAttributes")),
        ) for g in schema["GlobalSecondaryIndexes"]]
        table = dynamodb.CfnTable(
            self, logical_id("Table", spec.name),
            billing_mode="PAY_PER_REQUEST",
            key_schema=keys(schema["KeySchema"]),
            attribute_definitions=[dynamodb.CfnTable.AttributeDefinitionProperty(
                attribute_name=a["AttributeName"], attribute_type=a["AttributeType"])
                for a in schema["AttributeDefinitions"]],
            global_secondary_indexes=gsis or None,
            point_in_time_recovery_specification=dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty(
                point_in_time_recovery_enabled=True),
            stream_specification=dynamodb.CfnTable.StreamSpecificationProperty(
                stream_view_type="NEW_AND_OLD_IMAGES") if spec.stream else None,
            time_to_live_specification=dynamodb.CfnTable.TimeToLiveSpecificationProperty(
                attribute_name=spec.ttl_attribute, enabled=True) if spec.ttl_attribute else None,
            deletion_protection_enabled=self.stage == "prod",
        )
        table.apply_removal_policy(self.removal)
        return dynamodb.Table.from_table_attributes(
            self, logical_id("Table", spec.name) + "Ref", table_arn=table.attr_arn,
            table_stream_arn=table.attr_stream_arn if spec.stream else None,
            grant_index_permissions=True)

    def _queue(self, spec: res.Queue) -> sqs.Queue:
        dlq = self._plain_queue(f"{spec.name}-dlq", retention_period=Duration.days(14))
        return self._plain_queue(
            spec.name, visibility_timeout=Duration.seconds(spec.visibility_timeout),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dlq))

    def _plain_queue(self, name: str, **props: Any) -> sqs.Queue:
        queue = sqs.Queue(self, logical_id("Queue", name), enforce_ssl=True,
                          removal_policy=self.removal, **props)
        l1(queue.node.default_child).override_logical_id(logical_id("Queue", name))
        self.plain_queues[name] = queue
        return queue

    # --- identity -------------------------------------------------------------------------------
    def _cognito(self) -> None:
        """Customers and agents sign in to the user pool; channel backends and fulfilment stacks
        use client credentials. role/channel/customerId are custom attributes that only an
        administrator may write (no client may write them)."""
        pool = cognito.UserPool(
            self, "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=False, mutable=True),
                phone_number=cognito.StandardAttribute(required=False, mutable=True)),
            custom_attributes={name: cognito.StringAttribute(min_len=1, max_len=size, mutable=True)
                               for name, size in CUSTOM_ATTRIBUTES.items()},
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=self.stage == "prod",
            removal_policy=self.removal,
        )
        scopes = {name: cognito.ResourceServerScope(scope_name=name, scope_description=text)
                  for name, text in SCOPES.items()}
        server = pool.add_resource_server("ResourceServer", identifier=PROJECT,
                                          scopes=list(scopes.values()))
        self.user_pool_domain = pool.add_domain("Domain", cognito_domain=cognito.CognitoDomainOptions(
            domain_prefix=Fn.join("-", [PROJECT, self.stage, self.account])))
        readable = cognito.ClientAttributes().with_standard_attributes(
            email=True, email_verified=True, phone_number=True, phone_number_verified=True,
            given_name=True, family_name=True).with_custom_attributes(*CUSTOM_ATTRIBUTES)
        writable = cognito.ClientAttributes().with_standard_attributes(
            email=True, phone_number=True, given_name=True, family_name=True)
        self.clients: dict[str, cognito.UserPoolClient] = {}
        for channel in auth.CHANNELS:  # people (customers, agents) signing in through a channel
            self.clients[channel] = pool.add_client(
                logical_id("Client", channel), user_pool_client_name=physical_name(self.stage, channel),
                auth_flows=cognito.AuthFlow(user_srp=True), disable_o_auth=True,
                generate_secret=False, prevent_user_existence_errors=True,
                read_attributes=readable, write_attributes=writable)
        for name, scope in scopes.items():  # machines: client credentials with one scope
            client_name = f"{name.replace('.', '-')}-service"
            self.clients[client_name] = pool.add_client(
                logical_id("Client", client_name),
                user_pool_client_name=physical_name(self.stage, client_name),
                generate_secret=True, auth_flows=cognito.AuthFlow(),
                read_attributes=readable, write_attributes=writable,
                o_auth=cognito.OAuthSettings(
                    flows=cognito.OAuthFlows(client_credentials=True),
                    scopes=[cognito.OAuthScope.resource_server(server, scope)]))
        self.user_pool = pool
        self.jwt_issuer = f"https://cognito-idp.{self.region}.{self.url_suffix}/{pool.user_pool_id}"

    # --- code -----------------------------------------------------------------------------------
    def _grant_resources(self, grantee: iam.IGrantable) -> None:
        """Every function and the API may use every Omnishop table, queue and state machine, and
        send SMS and email. Simplest correct: resources.py does not say which function touches
        what, so nothing finer can be derived without a second list."""
        for table in self.tables.values():
            table.grant_read_write_data(grantee)
        for queue in self.queues.values():
            queue.grant_send_messages(grantee)
        # Agents claim work from the recovery worklist through the API (receive, then delete).
        self.queues["worklist"].grant_consume_messages(grantee)
        statements = [
            iam.PolicyStatement(actions=["states:StartExecution"],
                                resources=list(self.state_machine_arns.values())),
            # Callback pattern: the order listener resumes a workflow waiting on a child order.
            iam.PolicyStatement(actions=["states:SendTaskSuccess", "states:SendTaskFailure",
                                         "states:SendTaskHeartbeat"],
                                resources=list(self.state_machine_arns.values())),
            # StopExecution: the abandoned-basket process ends a session at once (basket_events).
            iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"], resources=[
                self.format_arn(service="states", resource="execution",
                                resource_name=f"{physical_name(self.stage, m)}:*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)
                for m in self.state_machine_arns]),
            # SMS goes to phone numbers, which have no ARN: sns:Publish needs "*".
            iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]),
            # In the SES sandbox the recipients are identities too, hence identity/*.
            iam.PolicyStatement(actions=["ses:SendEmail", "ses:SendRawEmail"], resources=[
                self.format_arn(service="ses", resource="identity", resource_name="*")]),
        ]
        for statement in statements:
            grantee.grant_principal.add_to_principal_policy(statement)

    def _function(self, spec: res.Function, code: lambda_.Code) -> lambda_.Function:
        fid = logical_id("Function", spec.name)
        function = lambda_.Function(
            self, fid, runtime=RUNTIME, architecture=lambda_.Architecture.X86_64,
            handler=spec.handler, code=code, description=f"Omnishop {spec.name}",
            timeout=Duration.seconds(spec.timeout), memory_size=spec.memory,
            tracing=lambda_.Tracing.ACTIVE, environment=dict(self.code_environment),
            log_group=logs.LogGroup(self, fid + "Logs", retention=logs.RetentionDays.ONE_MONTH,
                                    removal_policy=self.removal),
        )
        l1(function.node.default_child).override_logical_id(fid)
        self._grant_resources(function)
        for source in spec.sources:
            if isinstance(source, res.StreamSource):
                failures = self._plain_queue(stream_failure_queue(spec.name, source.table),
                                             retention_period=Duration.days(14))
                function.add_event_source(event_sources.DynamoEventSource(
                    self.tables[source.table], starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=source.batch_size, report_batch_item_failures=True,
                    parallelization_factor=spec.parallelization, retry_attempts=5, bisect_batch_on_error=True,
                    on_failure=event_sources.SqsDlq(failures)))
            elif isinstance(source, res.QueueSource):
                spec_queue = next(q for q in res.QUEUES if q.name == source.queue)
                if spec_queue.visibility_timeout < spec.timeout:
                    raise ValueError(f"queue {source.queue}: visibility timeout "
                                     f"{spec_queue.visibility_timeout}s < {spec.name}'s timeout "
                                     f"{spec.timeout}s (Lambda refuses the mapping)")
                function.add_event_source(event_sources.SqsEventSource(
                    self.queues[source.queue], batch_size=source.batch_size,
                    report_batch_item_failures=True))
            else:
                raise TypeError(f"{spec.name}: unknown event source {source!r}")
        return function

    # --- workflows and schedules ----------------------------------------------------------------
    def _state_machine_arn(self, name: str) -> str:
        """State machines get fixed names so their ARNs are known before they exist: a function
        a state machine invokes is told that machine's ARN, which would otherwise be a cycle."""
        return self.format_arn(service="states", resource="stateMachine",
                               resource_name=physical_name(self.stage, name),
                               arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def _state_machine(self, spec: res.StateMachine) -> sfn.StateMachine:
        text = (res.STATE_MACHINE_DIR / spec.definition_file).read_text()
        placeholders = set(re.findall(r"\$\{(\w+)\}", text))
        if placeholders != set(spec.functions):
            raise ValueError(f"{spec.definition_file}: placeholders {sorted(placeholders)} but "
                             f"resources.py maps {sorted(spec.functions)}")
        sid = logical_id("StateMachine", spec.name)
        machine = sfn.StateMachine(
            self, sid, state_machine_name=physical_name(self.stage, spec.name),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(json.loads(text))),
            definition_substitutions={key: self.functions[fn].function_arn
                                      for key, fn in spec.functions.items()},
            tracing_enabled=True,
            # Execution data can hold phone numbers and emails: log the states, not the data.
            logs=sfn.LogOptions(
                destination=logs.LogGroup(
                    self, sid + "Logs", retention=logs.RetentionDays.ONE_MONTH,
                    removal_policy=self.removal,
                    log_group_name=f"/aws/vendedlogs/states/{physical_name(self.stage, spec.name)}"),
                level=sfn.LogLevel.ALL, include_execution_data=False),
            removal_policy=self.removal,
        )
        l1(machine.node.default_child).override_logical_id(sid)
        for fn in sorted(set(spec.functions.values())):
            self.functions[fn].grant_invoke(machine)
        return machine

    def _alarms(self) -> None:
        """resources.ALARMS, every one to the ops topic (the local runtime evaluates the same list)."""
        comparisons = {res.MORE_THAN: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                       res.AT_LEAST: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD}
        for spec in res.ALARMS:
            if isinstance(spec, res.QueueAlarm):
                metric = self.plain_queues[spec.queue].metric_approximate_number_of_messages_visible(
                    period=Duration.seconds(spec.period), statistic="Maximum")
            elif isinstance(spec, res.ExecutionsFailedAlarm):
                metric = self.state_machines[spec.state_machine].metric_failed(
                    period=Duration.seconds(spec.period), statistic="Sum")
            elif isinstance(spec, res.MetricAlarm):   # metrics the code emits (Powertools: namespace Omnishop)
                metric = cloudwatch.Metric(namespace="Omnishop", metric_name=spec.metric,
                                           dimensions_map={"service": PROJECT}, statistic="Sum",
                                           period=Duration.seconds(spec.period))
            else:
                raise TypeError(f"unknown alarm {spec!r}")
            alarm = metric.create_alarm(
                self, logical_id("Alarm", spec.name), threshold=spec.threshold, evaluation_periods=1,
                comparison_operator=comparisons[spec.comparison],
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"Omnishop {self.stage}: {spec.description}")
            alarm.add_alarm_action(self.alarm_action)
            l1(alarm.node.default_child).override_logical_id(logical_id("Alarm", spec.name))   # findable by name

    def _schedules(self) -> None:
        role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}))
        self.scheduler_role = role
        # Campaign schedules are made at run time by the API (chalicelib/campaign/service.py): the
        # scheduler role may invoke the campaign runner, and the API may pass it to Scheduler.
        self.functions[CAMPAIGN_RUNNER].grant_invoke(role)
        for spec in res.SCHEDULES:
            function = self.functions[spec.function]
            function.grant_invoke(role)
            scheduler.CfnSchedule(
                self, logical_id("Schedule", spec.name), name=physical_name(self.stage, spec.name),
                description=f"Omnishop {self.stage}: {spec.name}",
                schedule_expression=spec.expression, state="ENABLED",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=function.function_arn, role_arn=role.role_arn,
                    input=self.schedule_input(spec),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=2, maximum_event_age_in_seconds=3600)))

    def schedule_input(self, spec: res.Schedule) -> str:
        """The event the function gets: EventBridge-shaped, Scheduler's context attributes filled
        in when it fires, the schedule's payload as `detail`. The local runtime sends the same
        (infra/local/provision.py schedule_input; tests/infra compare the two)."""
        return self.to_json_string({
            "version": "0", "id": "<aws.scheduler.execution-id>", "detail-type": "Scheduled Event",
            "source": "aws.scheduler", "account": self.account, "time": "<aws.scheduler.scheduled-time>",
            "region": self.region, "resources": ["<aws.scheduler.schedule-arn>"], "detail": spec.payload,
        })

    # --- the REST API ---------------------------------------------------------------------------
    def _api(self) -> None:
        """app.py, packaged by `chalice package` (chalice.cdk) with the stage's configuration
        from .chalice/config.json plus what only CDK knows: the environment and the role."""
        from chalice.cdk import Chalice

        role = iam.Role(self, "ApiRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        managed_policies=[
                            iam.ManagedPolicy.from_aws_managed_policy_name(
                                "service-role/AWSLambdaBasicExecutionRole"),
                            iam.ManagedPolicy.from_aws_managed_policy_name("AWSXRayDaemonWriteAccess")])
        self._grant_resources(role)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
            resources=[self.format_arn(service="scheduler", resource="schedule",
                                       resource_name=f"default/{physical_name(self.stage, 'cmp-')}*")]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["iam:PassRole"],
                                                         resources=[self.scheduler_role.role_arn]))
        campaign_env = {settings.PREFIX + "CAMPAIGN_RUNNER_ARN": self.functions[CAMPAIGN_RUNNER].function_arn,
                        settings.PREFIX + "SCHEDULER_ROLE_ARN": self.scheduler_role.role_arn}
        stage_config = {"manage_iam_role": False, "iam_role_arn": role.role_arn,
                        "environment_variables": {**self.code_environment, **campaign_env}}
        with chalice_packaging():
            self.api = Chalice(_ChaliceStage(self, "Api", self.stage), "Chalice",
                               source_dir=str(res.ROOT), stage_config=stage_config)
        self.api_role = role
        self.api_url = self.api.sam_template.get_output("EndpointURL").value
        self._gateway_responses()

    def _gateway_responses(self) -> None:
        """API Gateway's own answers in the TMF error shape (infra/resources.py GATEWAY_RESPONSES)."""
        rest_api_id = self.api.get_resource("RestAPI").ref
        for spec in res.GATEWAY_RESPONSES:
            apigateway.CfnGatewayResponse(
                self, logical_id("GatewayResponse", spec.type.lower()), rest_api_id=rest_api_id,
                response_type=spec.type, status_code=str(spec.status) if spec.status else None,
                response_parameters={"gatewayresponse.header.Content-Type": "'application/json'"},
                response_templates={"application/json": spec.template()})

    def discard_chalice_package(self) -> None:
        """`chalice package` leaves its output in ./chalice.out/<uuid> on every synthesis; once
        the app is synthesized its assets are staged in cdk.out, so remove this run's copy."""
        package_dir = self.api._sam_package_dir
        shutil.rmtree(package_dir, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{package_dir}.sam_with_assets.json")
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(package_dir))   # only if nothing else is in it

    # --- outputs --------------------------------------------------------------------------------
    def _outputs(self) -> None:
        CfnOutput(self, "ApiUrl", value=self.api_url)
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(self, "JwtIssuer", value=self.jwt_issuer)
        CfnOutput(self, "TokenEndpoint",
                  value=self.user_pool_domain.base_url() + "/oauth2/token")
        for name, client in self.clients.items():
            CfnOutput(self, logical_id("ClientId", name), value=client.user_pool_client_id)
        for name, queue in self.queues.items():
            CfnOutput(self, logical_id("QueueUrl", name), value=queue.queue_url)
        for name, arn in self.state_machine_arns.items():
            CfnOutput(self, logical_id("StateMachineArn", name), value=arn)
