"""The Omnishop deployment: one CloudFormation stack built by iterating infra/resources.py.

Nothing here names a table, queue, function, state machine or schedule: every one comes from the
lists in infra/resources.py, which the local runtime (infra/local/) creates too. Each gets a
stable logical id from its name (`logical_id`), so tests and operators can find it.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import re
import shutil
import sys
import zipfile
from typing import Any, Iterator, Sequence
from unittest import mock

from aws_cdk import (Acknowledgment, ArnFormat, CfnOutput, CfnParameter, CfnResource, Duration, Fn, RemovalPolicy,
                     Stack, Tags, Validations)
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk import custom_resources as cr
from constructs import Construct, DependencyGroup, IConstruct
import jsii

from chalicelib import auth, observability, settings
from infra import bundling, nag
from infra import resources as res
from infra.names import ALARM_TOPIC, CUSTOM_ATTRIBUTES, PROJECT, SCOPES, env_name, logical_id, physical_name

CAMPAIGN_RUNNER = "campaign-runner"              # invoked by the schedules the campaign API makes
RUNTIME = lambda_.Runtime.PYTHON_3_14   # resources.LAMBDA_RUNTIME (asserted below)
RUNTIME_NAME = f"python{bundling.PYTHON_VERSION}"  # the API (chalice) runs on the same runtime
# One JSON line per API request (API Gateway's $context variables), correlation id first.
API_ACCESS_LOG = {
    "correlationId": "$context.requestId", "extendedRequestId": "$context.extendedRequestId",
    "time": "$context.requestTime", "ip": "$context.identity.sourceIp", "method": "$context.httpMethod",
    "resource": "$context.resourcePath", "status": "$context.status", "bytes": "$context.responseLength",
    "latencyMs": "$context.responseLatency", "integrationLatencyMs": "$context.integrationLatency",
    "error": "$context.error.responseType", "waf": "$context.waf.status", "xrayTraceId": "$context.xrayTraceId",
}
# AWS's managed WAF rule groups in front of the API (see _waf).
WAF_MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                           "AWSManagedRulesAmazonIpReputationList")
assert RUNTIME.name == RUNTIME_NAME, "bundling.PYTHON_VERSION and RUNTIME must agree"


def l1(construct: IConstruct | None) -> CfnResource:
    """A CloudFormation resource reached through the construct tree (find_child, default_child),
    which CDK types as IConstruct (or None)."""
    if not isinstance(construct, CfnResource):
        raise TypeError(f"{construct} is not a CloudFormation resource")
    return construct


# IAM's limit on a managed policy is 6,144 characters without whitespace. The template has
# references where IAM will see ARNs: policy_size counts each as REFERENCE_SIZE characters (CDK's
# own estimate when it splits a role's policy; the ARNs of this stack are under 100).
MANAGED_POLICY_LIMIT = 6144
REFERENCE_SIZE = 150
POLICY_BUDGET = MANAGED_POLICY_LIMIT - 144   # room for IAM's own reckoning


def policy_size(statements: list[Any]) -> int:
    """The characters of a policy document of `statements` (resolved: template JSON) as IAM
    counts them, each reference (Ref, Fn::GetAtt, Fn::ImportValue) as REFERENCE_SIZE."""
    def text(value: Any) -> str:
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::ImportValue"):
            return '"' + "x" * REFERENCE_SIZE + '"'
        if isinstance(value, dict) and set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            joined = separator.join(json.loads(text(p)) if not isinstance(p, str) else p for p in parts)
            return json.dumps(joined)
        if isinstance(value, dict):
            return "{" + ",".join(json.dumps(k) + ":" + text(v) for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ",".join(text(v) for v in value) + "]"
        return json.dumps(value, separators=(",", ":"))

    return len(text({"Version": "2012-10-17", "Statement": statements}))


@jsii.implements(iam.IPrincipal)
class _Collector(iam.PrincipalBase):
    """A grantee that keeps the statements CDK's grant methods (table.grant_read_write_data, ...)
    give it, to be written into policies of our choosing."""

    def __init__(self, account: str) -> None:
        super().__init__()
        self.statements: list[iam.PolicyStatement] = []
        self._dependable = DependencyGroup()
        self._account = account

    @property
    def principal_account(self) -> str:
        """The stack's account: a grant on a resource of this stack then stays on the principal
        (CDK would otherwise also write it into the resource's policy, as for another account)."""
        return self._account

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return iam.PrincipalPolicyFragment({})

    def dedupe_string(self) -> str | None:
        return None   # never a principal of a statement

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.statements.append(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._dependable)


def _compiled_chalice(chalice: type) -> type:
    """chalice.cdk's construct with the bytecode of its app and layer zips added (infra/bundling.py:
    compiled by the runtime's Python, or not at all), between `chalice package` and their assets."""

    class CompiledChalice(chalice):
        def _package_app(self) -> None:
            super()._package_app()
            if Stack.of(self).bundling_required:
                for name, runs_in in (("deployment.zip", bundling.TASK_DIR), ("layer-deployment.zip", bundling.LAYER_DIR)):
                    if (zipped := pathlib.Path(self._sam_package_dir) / name).is_file():
                        bundling.compile_zip(zipped, bundling.bytecode_by(), runs_in)

    return CompiledChalice


class _ChaliceStage(Construct):
    """chalice.cdk names the Chalice stage after its scope's `to_string()`: make that the stage,
    so `.chalice/config.json`'s "stages" apply."""

    def __init__(self, scope: Construct, construct_id: str, stage: str) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage

    def to_string(self) -> str:
        return self._stage


def discard_broken_packages(deployments: pathlib.Path) -> list[str]:
    """Delete the zips in chalice's package cache that are not whole zip files. `chalice package`
    writes its app and layer zips there in place and reuses any that exists, so a synthesis
    killed while writing one (a timeout, Ctrl-C) left a truncated layer that every later
    synthesis shipped (seen: `BadZipFile` in tests/infra/test_stack_full_synth.py)."""
    broken = []
    for package in sorted(deployments.glob("*.zip")) if deployments.is_dir() else []:
        try:
            with zipfile.ZipFile(package) as archive:
                whole = archive.testzip() is None
        except (zipfile.BadZipFile, OSError):
            whole = False
        if not whole:
            package.unlink(missing_ok=True)
            broken.append(package.name)
    return broken


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
    - It zips chalicelib/ as it finds it, with the bytecode the checkout's own Python wrote
      there (`make test` and `make run` write it): left out, as infra/bundling.py leaves it out
      of the functions' asset (the app zip gets the runtime's own, `_compiled_chalice`).
    """
    deployments = res.ROOT / ".chalice" / "deployments"
    deployments.mkdir(parents=True, exist_ok=True)
    # One packaging at a time per checkout: chalice writes its zips in place, so a second process
    # (another pytest-xdist worker, a `make synth` beside the tests) would reuse a half-written
    # layer, or discard it as broken while its writer still needs it (seen: FileNotFoundError
    # for the managed layer right after "Creating shared layer deployment package").
    with open(res.ROOT / ".chalice" / "deployments.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        discard_broken_packages(deployments)
        yield from _packaging_environment()


def _packaging_environment() -> Iterator[None]:
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

    from chalice.deploy.packager import BaseLambdaDeploymentPackager

    library = BaseLambdaDeploymentPackager._iter_chalice_lib_if_needed

    def sources_only(self: Any, project_dir: str) -> Iterator[tuple[str, str]]:
        return ((full, zipped) for full, zipped in library(self, project_dir)
                if "__pycache__" not in pathlib.PurePath(zipped).parts and not zipped.endswith(".pyc"))

    try:
        with mock.patch.object(Config, "lambda_python_version", property(lambda _self: RUNTIME_NAME)), \
                mock.patch.object(BaseLambdaDeploymentPackager, "_iter_chalice_lib_if_needed", sources_only):
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
        # No indentation in the template: it stays under CloudFormation's 1 MB with the alarms,
        # dashboard and policies (cfn-lint E1002 checks the size).
        super().__init__(scope, construct_id, description=f"Omnishop ({stage})",
                         suppress_template_indentation=True, **kwargs)
        self.stage = stage
        self.removal = RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY
        Tags.of(self).add("Project", PROJECT)
        Tags.of(self).add("Stage", stage)

        # One customer-managed key, rotated yearly, for the tables (and their streams), queues and
        # topic: every grant of them below grants its use too. CloudWatch publishes alarms to the
        # encrypted topic, so it may use the key as well.
        self.key = kms.Key(self, "DataKey", enable_key_rotation=True, removal_policy=self.removal,
                           description=f"Omnishop {stage}: tables, queues and topic")
        self.key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topics = {name: sns.Topic(self, logical_id("Topic", name), display_name=f"Omnishop {name}",
                                       enforce_ssl=True, master_key=self.key)
                       for name in res.TOPICS}
        self.alarm_action = cloudwatch_actions.SnsAction(self.topics[ALARM_TOPIC])
        self.email_identity = ses.EmailIdentity(self, "EmailSender",
                                                identity=ses.Identity.email(res.EMAIL_SENDER))
        self.parameters = self._sms_parameters()
        self.table_indexes: dict[str, list[str]] = {}   # each table's GSI names (IAM names each one)
        self.tables = {t.name: self._table(t) for t in res.TABLES}
        self.table_names = {t.name: l1(self.node.find_child(logical_id("Table", t.name))).ref
                            for t in res.TABLES}
        self.plain_queues: dict[str, sqs.Queue] = {}   # every queue by name (DLQs, stream failures)
        self.queues = {q.name: self._queue(q) for q in res.QUEUES}
        self.state_machine_arns = {m.name: self._state_machine_arn(m.name) for m in res.STATE_MACHINES}
        self._cognito()
        # Secrets (the keys of signed links): generated once per stage, encrypted with the stack's
        # key. The code is told each one's ARN and reads it at run time (chalicelib/notify/links.py,
        # Powertools parameters, cached): its value is never in an environment or the template.
        self.secrets = {spec.name: self._secret(spec) for spec in res.SECRETS}

        # What every piece of code is told about the resources (chalicelib/settings.py reads it).
        self.code_environment = {
            settings.PREFIX + "STAGE": stage,
            settings.PREFIX + "EMAIL_SENDER": res.EMAIL_SENDER,
            **{env_name("TABLE", n): ref for n, ref in self.table_names.items()},
            **{env_name("QUEUE_URL", n): q.queue_url for n, q in self.queues.items()},
            **{env_name("STATE_MACHINE_ARN", n): arn for n, arn in self.state_machine_arns.items()},
            **{env_name("SECRET_ID", n): secret.secret_arn for n, secret in self.secrets.items()},
            settings.PREFIX + "JWKS_URL": f"{self.jwt_issuer}/.well-known/jwks.json",
            settings.PREFIX + "JWT_ISSUER": self.jwt_issuer,
            "POWERTOOLS_SERVICE_NAME": PROJECT,
            settings.PREFIX + "SMS_SENDER_ID": self.parameters["SmsSenderId"].value_as_string,
            settings.PREFIX + "SMS_ORIGINATION_NUMBER": self.parameters["SmsOriginationNumber"].value_as_string,
        }
        if public_base_url:
            self.code_environment[settings.PREFIX + "PUBLIC_BASE_URL"] = public_base_url
        self.data_access = self._data_access_policies()   # attached to every function's role and the API's
        code = bundling.function_code()
        self.functions = {f.name: self._function(f, code) for f in res.FUNCTIONS}
        self.state_machines = {m.name: self._state_machine(m) for m in res.STATE_MACHINES}
        self._schedules()
        self._api()
        self._alarms()
        self._dashboard()
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
            sse_specification=dynamodb.CfnTable.SSESpecificationProperty(
                sse_enabled=True, sse_type="KMS", kms_master_key_id=self.key.key_arn),
        )
        table.apply_removal_policy(self.removal)
        self.table_indexes[spec.name] = [g["IndexName"] for g in schema["GlobalSecondaryIndexes"]]
        return dynamodb.Table.from_table_attributes(
            self, logical_id("Table", spec.name) + "Ref", table_arn=table.attr_arn,
            table_stream_arn=table.attr_stream_arn if spec.stream else None, encryption_key=self.key,
            grant_index_permissions=False)   # _data_access_statements names each index

    def _queue(self, spec: res.Queue) -> sqs.Queue:
        dlq = self._plain_queue(f"{spec.name}-dlq", retention_period=Duration.days(14))
        return self._plain_queue(
            spec.name, visibility_timeout=Duration.seconds(spec.visibility_timeout),
            retention_period=Duration.days(spec.retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dlq))

    def _plain_queue(self, name: str, **props: Any) -> sqs.Queue:
        queue = sqs.Queue(self, logical_id("Queue", name), enforce_ssl=True, removal_policy=self.removal,
                          encryption=sqs.QueueEncryption.KMS, encryption_master_key=self.key, **props)
        l1(queue.node.default_child).override_logical_id(logical_id("Queue", name))
        self.plain_queues[name] = queue
        return queue

    # --- SMS budget and origination -------------------------------------------------------------
    def _sms_parameters(self) -> dict[str, CfnParameter]:
        """The account's SMS settings as stack parameters, applied with SNS SetSMSAttributes (an
        account-level setting CloudFormation has no resource for): the monthly spend limit (the
        sms-spend alarm fires at resources.SMS_SPEND_ALARM_PERCENT of it), the default SMS type and
        sender id. The sender id and an origination number also go to the code, which names them
        on every SMS it publishes (chalicelib/notify/transport.py)."""
        params = {
            "SmsMonthlySpendLimitUsd": CfnParameter(
                self, "SmsMonthlySpendLimitUsd", type="Number", min_value=1, default=res.SMS_SPEND_LIMIT_USD,
                description="SNS monthly SMS spend limit (USD); SNS stops sending SMS at it. Above the "
                            "account's SMS quota (1 USD until AWS raises it) SNS refuses it"),
            "SmsDefaultType": CfnParameter(
                self, "SmsDefaultType", type="String", default=res.SMS_DEFAULT_TYPE,
                allowed_values=["Transactional", "Promotional"], description="SNS DefaultSMSType"),
            "SmsSenderId": CfnParameter(
                self, "SmsSenderId", type="String", default=res.SMS_SENDER_ID,
                allowed_pattern="^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$",
                description="Alphanumeric sender id SMS show where the country allows one (1-11, a letter)"),
            "SmsOriginationNumber": CfnParameter(
                self, "SmsOriginationNumber", type="String", default="", allowed_pattern=r"^(\+[1-9][0-9]{4,14})?$",
                description="E.164 origination number (toll-free, 10DLC, long or short code) SMS are sent "
                            "from; empty: SNS picks one"),
        }
        call = cr.AwsSdkCall(
            service="SNS", action="setSMSAttributes",
            parameters={"attributes": {"MonthlySpendLimit": params["SmsMonthlySpendLimitUsd"].value_as_string,
                                       "DefaultSMSType": params["SmsDefaultType"].value_as_string,
                                       "DefaultSenderID": params["SmsSenderId"].value_as_string}},
            physical_resource_id=cr.PhysicalResourceId.of(physical_name(self.stage, "sms-settings")))
        # CDK's provider function (Node.js, one per stack) with a role of its own that writes only to
        # its own log group (not AWSLambdaBasicExecutionRole), as the functions' roles.
        role = iam.Role(self, "SmsSettingsRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group = logs.LogGroup(self, "SmsSettingsLogs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=self.removal)
        log_group.grant_write(role)
        settings_resource = cr.AwsCustomResource(
            self, "SmsSettings", on_create=call, on_update=call, install_latest_aws_sdk=False,
            role=role, log_group=log_group,
            policy=cr.AwsCustomResourcePolicy.from_statements([iam.PolicyStatement(
                actions=["sns:SetSMSAttributes"], resources=["*"])]))
        nag.acknowledge(settings_resource, "AwsSolutions-IAM5[Resource::*]", "IAM5-no-resource-level")
        self.sms_settings = settings_resource
        return params

    def _secret(self, spec: res.Secret) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self, logical_id("Secret", spec.name), description=f"Omnishop {self.stage}: {spec.description}",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                        password_length=48),
            encryption_key=self.key, removal_policy=self.removal)
        l1(secret.node.default_child).override_logical_id(logical_id("Secret", spec.name))   # findable by name
        nag.acknowledge(secret, "AwsSolutions-SMG4", "SMG4")
        return secret

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
            password_policy=cognito.PasswordPolicy(min_length=12, require_lowercase=True, require_uppercase=True,
                                                   require_digits=True, require_symbols=True),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=self.stage == "prod",
            removal_policy=self.removal,
        )
        nag.acknowledge(pool, "AwsSolutions-COG2", "COG2")
        nag.acknowledge(pool, "AwsSolutions-COG8", "COG8")
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
    def _data_access_statements(self) -> list[iam.PolicyStatement]:
        """What every function and the API may do with Omnishop's data: use every table, queue and
        state machine, send SMS and email (reading the secrets is granted per role: see
        `_attach_data_access`). Simplest correct: resources.py does
        not say which function touches what, so nothing finer can be derived without a second
        list. Each index is named (no `index/*`). CDK's grant methods make the statements (their
        actions, the key's use through each grant), given to a collector instead of a role."""
        grantee = _Collector(self.account)
        for name, table in self.tables.items():
            table.grant_read_write_data(grantee)
            if self.table_indexes[name]:
                grantee.add_to_principal_policy(iam.PolicyStatement(
                    actions=["dynamodb:Query", "dynamodb:Scan"],
                    resources=[f"{table.table_arn}/index/{index}" for index in self.table_indexes[name]]))
        for queue in self.queues.values():
            queue.grant_send_messages(grantee)
        # Agents claim work from the recovery worklist through the API (receive, then delete).
        self.queues["worklist"].grant_consume_messages(grantee)
        return grantee.statements + [
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

    def _data_access_policies(self) -> list[iam.ManagedPolicy]:
        """The data-access statements once, as customer-managed policies every function's role and
        the API's role have attached (not copied into each role, where they overflowed into three
        of CDK's OverflowPolicy managed policies per role). Statements alike but for their
        resources are one (`_merged`), then filled in order, a statement at a time, each policy up to
        POLICY_BUDGET by `policy_size`: the split is the same on every synthesis."""
        chunks: list[list[iam.PolicyStatement]] = [[]]
        for statement in self._merged(self._data_access_statements()):
            if chunks[-1] and self._size(chunks[-1] + [statement]) > POLICY_BUDGET:
                chunks.append([])
            chunks[-1].append(statement)
        policies = []
        for number, statements in enumerate(chunks, start=1):
            policy = iam.ManagedPolicy(self, f"DataAccess{number}", statements=statements,
                                       description=f"Omnishop {self.stage}: data access ({number}/{len(chunks)})")
            self._acknowledge_wildcards(policy, statements)
            policies.append(policy)
        return policies

    def _size(self, statements: Sequence[iam.PolicyStatement]) -> int:
        return policy_size([self.resolve(s.to_statement_json()) for s in statements])

    def _merged(self, statements: Sequence[iam.PolicyStatement]) -> list[iam.PolicyStatement]:
        """Statements with the same effect, actions and conditions as one with all their resources
        (in order, each once: every table's grant names the same key), cut where one would be over
        POLICY_BUDGET on its own. The same grants, written shorter."""
        alike: dict[str, tuple[iam.PolicyStatement, list[str]]] = {}
        for statement in statements:
            key = json.dumps(self.resolve({"Effect": statement.effect.value, "Action": statement.actions,
                                           "Condition": statement.conditions}), sort_keys=True)
            resources = alike.setdefault(key, (statement, []))[1]
            resources += [r for r in statement.resources if r not in resources]
        merged = []
        for first, resources in alike.values():
            def part(some: list[str], first: iam.PolicyStatement = first) -> iam.PolicyStatement:
                return iam.PolicyStatement(effect=first.effect, actions=first.actions,
                                           conditions=first.conditions or None, resources=some)
            piece: list[str] = []
            for resource in resources:
                if piece and self._size([part(piece + [resource])]) > POLICY_BUDGET:
                    merged.append(part(piece))
                    piece = []
                piece.append(resource)
            merged.append(part(piece))
        return merged

    def _attach_data_access(self, role: iam.Role) -> None:
        """The shared data-access policies on `role`, and the secrets: reading one is granted to the
        role by name in the key's policy too (Decrypt through Secrets Manager), which a shared
        policy cannot carry. The X-Ray and stream-listing statements CDK adds to the role itself
        use Resource '*' (no resource-level permissions)."""
        for policy in self.data_access:
            policy.attach_to_role(role)
        for secret in self.secrets.values():   # GetSecretValue/DescribeSecret on it, Decrypt through it
            secret.grant_read(role)
        nag.acknowledge(role, "AwsSolutions-IAM5[Resource::*]", "IAM5-no-resource-level")

    def _acknowledge_wildcards(self, scope: IConstruct, statements: Sequence[iam.PolicyStatement]) -> None:
        """Acknowledge on `scope` exactly the IAM5 findings of `statements`: each wildcard action
        and resource, with its reason; a wildcard without one is an error (decide it first)."""
        for statement in statements:
            for action in statement.actions:
                if "*" in action:
                    if not action.startswith(("kms:GenerateDataKey", "kms:ReEncrypt")):
                        raise ValueError(f"data access: wildcard action {action} has no reason (infra/nag.py)")
                    nag.acknowledge(scope, f"AwsSolutions-IAM5[Action::{action}]", "IAM5-kms-actions")
            for arn in statement.resources:
                text = self.nag_text(arn)
                if "*" not in text:
                    continue
                reason = ("IAM5-no-resource-level" if text == "*" else "IAM5-execution" if ":execution:" in text
                          else "IAM5-ses-identity" if ":identity/" in text else None)
                if reason is None:
                    raise ValueError(f"data access: wildcard resource {text} has no reason (infra/nag.py)")
                nag.acknowledge(scope, f"AwsSolutions-IAM5[Resource::{text}]", reason)

    def nag_text(self, value: str) -> str:
        """A string as cdk-nag shows it in a finding: references as <Name> (e.g. <AWS::Region>)."""
        resolved = self.resolve(value)
        if isinstance(resolved, dict) and "Fn::Join" in resolved:
            separator, parts = resolved["Fn::Join"]
            return separator.join(p if isinstance(p, str) else f"<{p['Ref']}>" if "Ref" in p
                                  else f"<{'.'.join(p['Fn::GetAtt'])}>" for p in parts)
        if isinstance(resolved, dict) and set(resolved) == {"Ref"}:
            return f"<{resolved['Ref']}>"
        return str(resolved)

    def _invoke(self, grantee: iam.IGrantable, function: lambda_.IFunction) -> None:
        """May invoke `function` itself (CDK's grant_invoke adds `<arn>:*`, every version and alias)."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[function.function_arn]))

    def _function(self, spec: res.Function, code: lambda_.Code) -> lambda_.Function:
        fid = logical_id("Function", spec.name)
        # Its own role, writing only to its own log group (not AWSLambdaBasicExecutionRole's
        # CreateLogGroup/PutLogEvents on every group).
        role = iam.Role(self, fid + "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group = logs.LogGroup(self, fid + "Logs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=self.removal)
        log_group.grant_write(role)
        function = lambda_.Function(
            self, fid, runtime=RUNTIME, architecture=lambda_.Architecture.X86_64,
            handler=spec.handler, code=code, description=f"Omnishop {spec.name}",
            timeout=Duration.seconds(spec.timeout), memory_size=spec.memory,
            tracing=lambda_.Tracing.ACTIVE, environment=dict(self.code_environment),
            role=role, log_group=log_group, reserved_concurrent_executions=spec.reserved_concurrency,
        )
        l1(function.node.default_child).override_logical_id(fid)
        self._attach_data_access(role)
        function.node.add_dependency(*self.data_access)   # runs only once it may use the data
        for source in spec.sources:
            if isinstance(source, res.StreamSource):
                # The on-failure destination has a DLQ of its own: records an operator's tool
                # received and did not delete (redrive, inspection) are kept, not lost.
                name = res.stream_failure_queue(spec.name, source.table)
                dlq = self._plain_queue(f"{name}-dlq", retention_period=Duration.days(14))
                failures = self._plain_queue(name, retention_period=Duration.days(14),
                                             dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dlq))
                function.add_event_source(event_sources.DynamoEventSource(
                    self.tables[source.table], starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=source.batch_size, report_batch_item_failures=True,
                    parallelization_factor=spec.parallelization, retry_attempts=5, bisect_batch_on_error=True,
                    on_failure=event_sources.SqsDlq(failures)))
                for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):   # sending to the failure queue
                    nag.acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]", "IAM5-kms-actions")
            elif isinstance(source, res.QueueSource):
                spec_queue = next(q for q in res.QUEUES if q.name == source.queue)
                if spec_queue.visibility_timeout < spec.timeout:
                    raise ValueError(f"queue {source.queue}: visibility timeout "
                                     f"{spec_queue.visibility_timeout}s < {spec.name}'s timeout "
                                     f"{spec.timeout}s (Lambda refuses the mapping)")
                function.add_event_source(event_sources.SqsEventSource(
                    self.queues[source.queue], batch_size=source.batch_size,
                    report_batch_item_failures=True, max_concurrency=spec.reserved_concurrency))
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
            self._invoke(machine, self.functions[fn])
        nag.acknowledge(machine.role, "AwsSolutions-IAM5[Resource::*]", "IAM5-no-resource-level")
        return machine

    def _alarms(self) -> None:
        """resources.ALARMS, every one to the ops topic (the local runtime evaluates the same list)."""
        comparisons = {res.MORE_THAN: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                       res.AT_LEAST: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD}
        metric: cloudwatch.Metric | cloudwatch.MathExpression
        for spec in res.ALARMS:
            if isinstance(spec, res.QueueAlarm):
                metric = self.plain_queues[spec.queue].metric_approximate_number_of_messages_visible(
                    period=Duration.seconds(spec.period), statistic="Maximum")
            elif isinstance(spec, res.ExecutionsFailedAlarm):
                metric = self.state_machines[spec.state_machine].metric(
                    spec.metric, period=Duration.seconds(spec.period), statistic="Sum")
            elif isinstance(spec, res.ApiAlarm):
                metric = self.api_metric(spec.metric, spec.statistic, spec.period)
            elif isinstance(spec, res.ServiceAlarm):
                metric = cloudwatch.Metric(namespace=spec.namespace, metric_name=spec.metric,
                                           statistic=spec.statistic, dimensions_map=dict(spec.dimensions) or None,
                                           period=Duration.seconds(spec.period))
                if spec.percent_of:   # the threshold is a percentage of a stack parameter
                    metric = cloudwatch.MathExpression(
                        expression=f"100 * value / {self.parameters[spec.percent_of].value_as_string}",
                        using_metrics={"value": metric}, period=Duration.seconds(spec.period),
                        label=f"{spec.metric} as % of {spec.percent_of}")
            elif isinstance(spec, res.FunctionAlarm):
                metric = self.functions[spec.function].metric(
                    spec.metric, period=Duration.seconds(spec.period), statistic=spec.statistic)
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

    def api_metric(self, name: str, statistic: str, period: int = 300) -> cloudwatch.Metric:
        """API Gateway's metric `name` of this stage's REST API."""
        return cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name=name, statistic=statistic,
                                 dimensions_map={"ApiName": self.api_name, "Stage": self.api_stage},
                                 period=Duration.seconds(period))

    def _dashboard(self) -> None:
        """One CloudWatch dashboard: the business view (what the code counts, SMS spend) beside the
        technical one (API, functions, workflows, queues, streams)."""
        def code_metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace=observability.NAMESPACE, metric_name=name,
                                     dimensions_map={"service": observability.SERVICE},
                                     statistic="Sum", period=Duration.minutes(5), label=name)

        def graph(title: str, metrics: Sequence[cloudwatch.IMetric], width: int = 8) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=6)

        functions = list(self.functions.items())
        streams = [(n, f) for n, f in functions if any(isinstance(s, res.StreamSource) for s in res.function(n).sources)]
        machines = list(self.state_machines.items())

        def by_dimension(name: str) -> cloudwatch.MathExpression:
            """Every value of the metric's dimension (observability.BUSINESS_METRICS), one line each."""
            dimension = observability.BUSINESS_METRICS[name]
            return cloudwatch.MathExpression(
                expression=f"SEARCH('{{{observability.NAMESPACE},service,{dimension}}} MetricName=\"{name}\"', "
                           f"'Sum', 300)", label="", period=Duration.minutes(5))

        business = [
            cloudwatch.TextWidget(markdown=f"# Omnishop {self.stage}: business", width=24, height=1),
            graph("Baskets created and recovered", [code_metric("BasketsCreated"), code_metric("BasketsRecovered")]),
            graph("Orders entering each state", [by_dimension("OrdersByState")]),
            graph("Child orders per fulfilment stack", [by_dimension("ChildOrders")]),
            cloudwatch.GraphWidget(
                title="SMS sent (left), SMS spend this month in USD (right)", left=[code_metric("SmsSent")],
                right=[cloudwatch.Metric(namespace="AWS/SNS", metric_name="SMSMonthToDateSpentUSD",
                                         statistic="Maximum", period=Duration.minutes(5))], width=8, height=6),
            graph("Held child orders, stuck baskets", [code_metric("ChildOrderHeld"), code_metric("ApprovedBasketStuck")]),
            graph("Catalogue changes and hub events", [code_metric(m) for m in (
                "CatalogChanges", "HubEventsDelivered", "HubDeliveriesRefused")]),
            graph("Records through the outbox streams", [code_metric(m) for m in (
                "BasketStreamRecords", "OrderStreamRecords", "CustomerStreamRecords", "InventoryStreamRecords")],
                  width=24),
        ]
        technical = [
            cloudwatch.TextWidget(markdown=f"# Omnishop {self.stage}: technical", width=24, height=1),
            cloudwatch.GraphWidget(title="API: 5xx share (left), p99 latency ms (right)",
                                   left=[self.api_metric("5XXError", "Average")],
                                   right=[self.api_metric("Latency", "p99")], width=12, height=6),
            graph("API requests and 4xx", [self.api_metric("Count", "Sum"), self.api_metric("4XXError", "Sum")],
                  width=12),
            graph("Function errors", [f.metric_errors(label=n, period=Duration.minutes(5)) for n, f in functions],
                  width=12),
            graph("Function throttles", [f.metric_throttles(label=n, period=Duration.minutes(5))
                                         for n, f in functions], width=12),
            graph("Workflow executions failed / timed out",
                  [m.metric_failed(label=f"{n} failed") for n, m in machines]
                  + [m.metric_timed_out(label=f"{n} timed out") for n, m in machines], width=12),
            graph("Stream iterator age (ms, max)", [f.metric("IteratorAge", statistic="Maximum", label=n)
                                                    for n, f in streams], width=12),
            graph("Dead-letter queues (visible messages)",
                  [q.metric_approximate_number_of_messages_visible(label=n, statistic="Maximum")
                   for n, q in self.plain_queues.items() if n.endswith(("-dlq", "-stream-failures"))], width=24),
        ]
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=physical_name(self.stage, "dashboard"))
        for row in (business, technical):
            dashboard.add_widgets(*row)

    def _schedules(self) -> None:
        role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}))
        self.scheduler_role = role
        # Campaign schedules are made at run time by the API (chalicelib/campaign/management.py): the
        # scheduler role may invoke the campaign runner, and the API may pass it to Scheduler.
        self._invoke(role, self.functions[CAMPAIGN_RUNNER])
        for spec in res.SCHEDULES:
            function = self.functions[spec.function]
            self._invoke(role, function)
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

        # Its own log group (with retention), named in advance so the role can be scoped to it;
        # X-Ray's two actions inline instead of AWSLambdaBasicExecutionRole/AWSXRayDaemonWriteAccess.
        role = iam.Role(self, "ApiRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.api_log_group = logs.LogGroup(self, "ApiFunctionLogs", retention=logs.RetentionDays.ONE_MONTH,
                                           log_group_name=f"/aws/lambda/{physical_name(self.stage, 'api')}",
                                           removal_policy=self.removal)
        self.api_log_group.grant_write(role)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]))
        self._attach_data_access(role)
        schedules = self.format_arn(service="scheduler", resource="schedule",
                                    resource_name=f"default/{physical_name(self.stage, 'cmp-')}*")
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
            resources=[schedules]))
        nag.acknowledge(role, f"AwsSolutions-IAM5[Resource::{self.nag_text(schedules)}]", "IAM5-campaign-schedule")
        role.add_to_principal_policy(iam.PolicyStatement(actions=["iam:PassRole"],
                                                         resources=[self.scheduler_role.role_arn]))
        campaign_env = {settings.PREFIX + "CAMPAIGN_RUNNER_ARN": self.functions[CAMPAIGN_RUNNER].function_arn,
                        settings.PREFIX + "SCHEDULER_ROLE_ARN": self.scheduler_role.role_arn}
        stage_config = {"manage_iam_role": False, "iam_role_arn": role.role_arn,
                        "environment_variables": {**self.code_environment, **campaign_env}}
        with chalice_packaging():
            self.api = _compiled_chalice(Chalice)(_ChaliceStage(self, "Api", self.stage), "Chalice",
                               source_dir=str(res.ROOT), stage_config=stage_config)
        self.api_role = role
        # Named per stage (otherwise the OpenAPI title, the same for every stage): the ApiName of
        # API Gateway's metrics (api_metric).
        self.api_name = physical_name(self.stage, "api")
        self.api_stage = json.loads((res.ROOT / ".chalice" / "config.json").read_text())["api_gateway_stage"]
        rest_api = self.api.get_resource("RestAPI")
        rest_api.add_property_override("Name", self.api_name)
        # The stage traced by X-Ray, access-logged and throttled (every method); WAF in front of it.
        rest_api.add_property_override("TracingEnabled", True)
        self._access_logs(rest_api)
        # Execution logs of errors only (no request data: bodies can hold personal data).
        rest_api.add_property_override("MethodSettings", [{
            "ResourcePath": "/*", "HttpMethod": "*", "LoggingLevel": "ERROR", "DataTraceEnabled": False,
            "ThrottlingRateLimit": res.API_THROTTLE_RATE, "ThrottlingBurstLimit": res.API_THROTTLE_BURST}])
        self._waf(rest_api.ref)
        handler = self.api.get_resource("APIHandler")
        handler.add_property_override("LoggingConfig", {"LogGroup": self.api_log_group.log_group_name})
        for policy in self.data_access:
            handler.add_dependency(l1(policy.node.default_child))
        self.api_url = self.api.sam_template.get_output("EndpointURL").value
        self._gateway_responses()

    def _access_logs(self, rest_api: Any) -> None:
        """API Gateway's access log of the stage, one JSON line per request. Its correlation id is
        the request id (the app uses it when the caller sent no X-Correlation-Id; API Gateway's
        access log cannot show request headers). API Gateway writes logs through the account's
        CloudWatch role (one setting per account and region, AWS::ApiGateway::Account): this stack
        sets it to a role that may write only to this access log group and to the stage's execution
        log group (errors, see MethodSettings), which is made here, named as API Gateway names it,
        so that it has a retention too (API Gateway's own would never expire)."""
        group = logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.ONE_MONTH,
                              removal_policy=self.removal)
        logs.LogGroup(self, "ApiExecutionLogs", retention=logs.RetentionDays.ONE_MONTH,
                      removal_policy=self.removal, log_group_name=Fn.join("", [
                          "API-Gateway-Execution-Logs_", rest_api.ref, f"/{self.api_stage}"]))
        role = iam.Role(self, "ApiGatewayLogsRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
        group.grant_write(role)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["logs:DescribeLogGroups", "logs:DescribeLogStreams"], resources=[group.log_group_arn]))
        # The execution log group by its name's pattern, not its ARN: its name needs the API's id,
        # the API waits for the account setting, and that must wait for the role's policy (API
        # Gateway refuses a role whose policy is not there yet), so naming the group would be a cycle.
        executions = self.format_arn(service="logs", resource="log-group", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                     resource_name=f"API-Gateway-Execution-Logs_*/{self.api_stage}:*")
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                     "logs:DescribeLogGroups", "logs:DescribeLogStreams"], resources=[executions]))
        nag.acknowledge(role, f"AwsSolutions-IAM5[Resource::{self.nag_text(executions)}]", "IAM5-execution-logs")
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.node.add_dependency(role)
        rest_api.add_dependency(account)
        rest_api.add_property_override("AccessLogSetting", {
            "DestinationArn": group.log_group_arn, "Format": json.dumps(API_ACCESS_LOG, separators=(",", ":"))})

    def _waf(self, rest_api_id: str) -> None:
        """A regional web ACL on the API stage: a rate limit per IP, then AWS's managed rule groups
        (common attacks, known bad inputs, IP reputation). The common set's 8 KB body limit only
        counts: TMF payloads (catalogue imports, orders with many items) are larger."""
        def seen(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)

        rules = [wafv2.CfnWebACL.RuleProperty(
            name="rate-limit-per-ip", priority=0, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=res.WAF_RATE_LIMIT_PER_IP, aggregate_key_type="IP")),
            visibility_config=seen("rate-limit-per-ip")),
            # Per client: requests with one bearer token (one client's credential; see resources.py).
            # Requests without one are not counted here (the per-IP limit still applies to them).
            wafv2.CfnWebACL.RuleProperty(
                name="rate-limit-per-client", priority=1, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=res.WAF_RATE_LIMIT_PER_CLIENT, aggregate_key_type="CUSTOM_KEYS",
                    custom_keys=[wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
                        header=wafv2.CfnWebACL.RateLimitHeaderProperty(
                            name="authorization", text_transformations=[
                                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")]))])),
                visibility_config=seen("rate-limit-per-client"))]
        for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS, start=2):
            overrides = [wafv2.CfnWebACL.RuleActionOverrideProperty(
                name="SizeRestrictions_BODY", action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}))
            ] if group == "AWSManagedRulesCommonRuleSet" else None
            rules.append(wafv2.CfnWebACL.RuleProperty(
                name=group, priority=priority, override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group, rule_action_overrides=overrides)),
                visibility_config=seen(group)))
        acl = wafv2.CfnWebACL(self, "WebAcl", scope="REGIONAL", rules=rules,
                              default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
                              visibility_config=seen(self.api_name))
        # The stage is made by SAM's transform: `RestAPI.Stage` (SAM's reference to it) is its name
        # and makes the association wait for it.
        association = wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", web_acl_arn=acl.attr_arn,
            resource_arn=f"arn:{self.partition}:apigateway:{self.region}::/restapis/{rest_api_id}"
                         f"/stages/{Fn.ref('RestAPI.Stage')}")
        Validations.of(association).acknowledge(Acknowledgment(
            id="CloudFormation-Validate::F1020",
            reason="RestAPI.Stage is SAM's reference to the stage it generates: the SAM transform resolves "
                   "it, CDK's template validation does not run that transform"))

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
