"""cdk-nag AwsSolutions over the synthesized app (infra/nag.py): no unacknowledged finding, the
fixable ones fixed at their root, every acknowledgment exact, reasoned and in docs/decisions.md.

The synthesis itself fails on an unacknowledged error (conftest's `synth` would fail first); the
report CDK writes beside the template says what was checked and what was acknowledged.
"""
from __future__ import annotations

import copy
import json
import re

import pytest

from infra import nag
from infra import resources as res
from infra.resources import ROOT
from infra.names import logical_id
from infra.resources import stream_failure_queue
from tests.infra.conftest import STAGE, resolve

# Findings that must not be acknowledged: the stack fixes them.
FIXED = ("AwsSolutions-IAM4", "AwsSolutions-L1", "AwsSolutions-SNS3", "AwsSolutions-SQS3",
         "AwsSolutions-COG1")


@pytest.fixture(scope="module")
def report(synth):
    reports = json.loads((synth.outdir / "validation-report.json").read_text())["pluginReports"]
    (solutions,) = [r for r in reports if r["pluginName"] == nag.PACK]
    return solutions


def test_no_unacknowledged_finding(synth, report):
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    # every plugin's findings (warnings do not fail a synthesis: checked here). CDK's built-in
    # CloudFormation validation is off in the tests' synthesis: cfn-lint checks the template
    # (tests/infra/conftest.py synthesize, test_stack_lint.py)
    for plugin in json.loads((synth.outdir / "validation-report.json").read_text())["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]


def test_acknowledgments_are_exact_and_reasoned(report):
    suppressed = report["suppressedViolations"]
    assert suppressed, "the checks ran and acknowledged nothing: did they run?"
    for violation in suppressed:
        finding = violation["acknowledgedId"].removeprefix(f"{nag.PACK}::")
        assert finding.startswith(violation["ruleName"].split("[")[0]), violation
        assert violation["reason"] in nag.REASONS.values()
        if finding.startswith("AwsSolutions-IAM5"):   # one finding, never the whole rule
            assert re.fullmatch(r"AwsSolutions-IAM5\[(Resource|Action)::.+\]", finding), finding
        assert not finding.startswith(FIXED), f"{finding} is acknowledged, not fixed"


def test_every_acknowledged_finding_is_in_decisions(report):
    decisions = (ROOT / "docs" / "decisions.md").read_text()
    for violation in report["suppressedViolations"]:
        finding = violation["acknowledgedId"].removeprefix(f"{nag.PACK}::")
        listed = finding.replace(f"omnishop-{STAGE}-", "omnishop-<stage>-")
        assert f"`{listed}`" in decisions, f"docs/decisions.md does not list {listed}"


def test_fixed_at_the_root(synth):
    """What cdk-nag flagged is fixed in the template, not acknowledged."""
    resources = synth.resources
    for key, resource in resources.items():   # IAM4: no AWS-managed policy on any role
        if resource["Type"] == "AWS::IAM::Role":
            assert not resource["Properties"].get("ManagedPolicyArns"), key
    for function in res.FUNCTIONS:           # L1: the latest Python runtime
        assert resources[logical_id("Function", function.name)]["Properties"]["Runtime"] == res.LAMBDA_RUNTIME
    # SNS3: the topic refuses publishers not on TLS
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy"]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # COG1: a password policy
    (pool,) = [r for r in resources.values() if r["Type"] == "AWS::Cognito::UserPool"]
    passwords = pool["Properties"]["Policies"]["PasswordPolicy"]
    assert passwords["MinimumLength"] >= 8
    assert all(passwords[k] for k in ("RequireUppercase", "RequireNumbers", "RequireSymbols"))
    # SQS3: stream-failure queues have a DLQ
    for function in res.FUNCTIONS:
        for source in function.sources:
            if isinstance(source, res.StreamSource):
                queue = resources[logical_id("Queue", stream_failure_queue(function.name, source.table))]
                assert "RedrivePolicy" in queue["Properties"]


def test_no_index_wildcards_and_invoke_only_the_function(synth):
    """IAM5 fixed where the ARN is knowable: each index named, no `<function>:*` versions."""
    text = json.dumps([r for r in synth.resources.values()
                       if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")])
    assert "/index/*" not in text
    for function in res.FUNCTIONS:
        assert json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [logical_id("Function", function.name), "Arn"]},
                                             ":*"]]}) not in text
    for table in res.TABLES:
        for index in table.schema()["GlobalSecondaryIndexes"]:
            assert f"/index/{index['IndexName']}" in text, (table.name, index["IndexName"])


def test_api_function_log_group_has_retention(synth):
    handler = synth.resources["APIHandler"]["Properties"]
    group = handler["LoggingConfig"]["LogGroup"]
    key = group["Ref"]
    assert synth.resources[key]["Type"] == "AWS::Logs::LogGroup"
    assert synth.resources[key]["Properties"]["RetentionInDays"] == 30


# --- the REST API: a SAM resource, checked as what SAM makes of it (nag.api_view / check_api) ----
@pytest.fixture(scope="module")
def api_report(synth):
    return json.loads((synth.outdir / nag.API_REPORT).read_text())


def _api(template: dict) -> dict:
    (api,) = [r for r in template["Resources"].values() if r["Type"] == nag.SAM_API]
    return api


def _operations(template: dict) -> set[str]:
    paths = _api(template)["Properties"]["DefinitionBody"]["paths"]
    return {f"{verb.upper()} {path}" for path, ops in paths.items() for verb in ops if verb in nag.VERBS}


def test_api_view_is_what_sam_makes(synth):
    """RestApi with the body, a Deployment, the Stage with the SAM API's own settings, one Method
    per operation, and the WAF association naming the generated stage."""
    api = _api(synth.template)["Properties"]
    view, subjects = nag.api_view(synth.template)
    resources = view["Resources"]
    kinds = {kind: {k: r for k, r in resources.items() if r["Type"] == kind}
             for kind in {r["Type"] for r in resources.values()}}
    (rest_api,) = kinds["AWS::ApiGateway::RestApi"].values()
    assert rest_api["Properties"]["Body"] == api["DefinitionBody"]
    assert rest_api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert len(kinds["AWS::ApiGateway::Deployment"]) == 1
    ((stage_id, stage),) = kinds["AWS::ApiGateway::Stage"].items()
    for name in ("AccessLogSetting", "MethodSettings", "TracingEnabled", "StageName"):
        assert stage["Properties"][name] == api[name], name
    methods = kinds["AWS::ApiGateway::Method"]
    assert {subjects[k] for k in methods} == _operations(synth.template)
    assert {m["Properties"]["AuthorizationType"] for m in methods.values()} == {"NONE"}   # auth is in the app
    (association,) = kinds["AWS::WAFv2::WebACLAssociation"].values()
    assert {"Ref": stage_id} in association["Properties"]["ResourceArn"]["Fn::Join"][1]


def test_api_checks_ran_with_nothing_unacknowledged(api_report, synth):
    assert api_report["violations"] == []
    found = {a["finding"] for a in api_report["acknowledged"]}
    for operation in _operations(synth.template):   # the Method rules ran on every operation
        assert {f"AwsSolutions-APIG4[{operation}]", f"AwsSolutions-COG4[{operation}]"} <= found, operation
    # APIG1 (access log), APIG3 (WAF), APIG6 (execution logging) pass: no finding at all
    assert not {f for f in found if f.startswith(("AwsSolutions-APIG1", "AwsSolutions-APIG3", "AwsSolutions-APIG6"))}
    for acknowledged in api_report["acknowledged"]:
        assert acknowledged["reason"] == nag.API_REASONS[acknowledged["reasonKey"]]


def _broken(template: dict, change) -> dict:
    broken = copy.deepcopy(template)
    change(broken)
    return broken


def _drop_access_log(t):
    del _api(t)["Properties"]["AccessLogSetting"]


def _drop_waf(t):
    del t["Resources"]["WebAclAssociation"]


def _drop_execution_logging(t):
    for setting in _api(t)["Properties"]["MethodSettings"]:
        del setting["LoggingLevel"]


@pytest.mark.parametrize("change, finding", [
    (_drop_access_log, "AwsSolutions-APIG1[RestAPIapiStage]"),
    (_drop_waf, "AwsSolutions-APIG3[RestAPIapiStage]"),
    (_drop_execution_logging, "AwsSolutions-APIG6[RestAPIapiStage]"),
], ids=["access-log", "waf", "execution-logging"])
def test_api_rules_report_a_broken_property(synth, change, finding):
    """The API Gateway rules demonstrably run: break what makes one pass, and it reports."""
    assert finding not in nag.check_api(synth.template)
    assert finding in nag.check_api(_broken(synth.template, change))


def test_api_rules_read_the_body(synth):
    """A Cognito authorizer on one operation and request validators in the body (what the
    expansion reads) satisfy APIG4/COG4 there and APIG2."""
    def authorize_health_and_validate(t):
        body = _api(t)["Properties"]["DefinitionBody"]
        body["securityDefinitions"] = {"pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                                                "x-amazon-apigateway-authtype": "cognito_user_pools"}}
        body["paths"]["/health"]["get"]["security"] = [{"pool": []}]
        body["x-amazon-apigateway-request-validators"] = {
            "all": {"validateRequestBody": True, "validateRequestParameters": True}}

    before = nag.check_api(synth.template)
    after = nag.check_api(_broken(synth.template, authorize_health_and_validate))
    gone = {"AwsSolutions-APIG4[GET /health]", "AwsSolutions-COG4[GET /health]", "AwsSolutions-APIG2[RestAPI]"}
    assert gone <= set(before)
    assert not gone & set(after)
    assert set(before) - gone == set(after)


def test_api_acknowledgments_are_decided(api_report):
    """docs/decisions.md names each public route's findings and APIG2; the authenticated routes
    are acknowledged only with an entry in the access table (deny by default otherwise)."""
    from chalicelib import access
    from chalicelib.docs import openapi

    decisions = (ROOT / "docs" / "decisions.md").read_text()
    public = nag.public_routes()
    documents = {f"GET {openapi.document_path(api)}" for api in openapi.apis()}   # one family
    assert f"`AwsSolutions-APIG4[{nag.IN_FUNCTION}]`" in decisions
    for acknowledged in api_report["acknowledged"]:
        finding, key = acknowledged["finding"], acknowledged["reasonKey"]
        route = finding.partition("[")[2].removesuffix("]")
        if key == "APIG4-in-function":
            verb, path = route.split(" ", 1)
            assert access.route(path, verb) and route not in public, finding
        else:
            listed = finding.replace(route, "GET <each API's OpenAPI document>") if route in documents else finding
            assert f"`{listed}`" in decisions, f"docs/decisions.md does not list {finding}"
            assert key != "APIG4-public" or route in public, finding


def test_api_unacknowledged_route_fails(synth):
    """A route that is neither public nor in the access table is not acknowledged."""
    assert nag.api_reason("AwsSolutions-APIG4[GET /nowhere]", nag.public_routes()) is None
    assert nag.api_reason("AwsSolutions-APIG1[RestAPIapiStage]", nag.public_routes()) is None


def test_api_execution_logs_have_retention(synth):
    """APIG6 fixed: errors are logged, into a group the stack makes (retention) that API Gateway's
    role may write to (by its name's pattern: its ARN would make a cycle), and the account setting
    waits for the role's policy (API Gateway refuses the role before)."""
    (setting,) = _api(synth.template)["Properties"]["MethodSettings"]
    assert setting["LoggingLevel"] == "ERROR" and setting["DataTraceEnabled"] is False
    (group,) = [r for r in synth.of_type("AWS::Logs::LogGroup").values()
                if "API-Gateway-Execution-Logs_" in json.dumps(r["Properties"].get("LogGroupName"))]
    assert group["Properties"]["RetentionInDays"] == 30
    name = resolve(group["Properties"]["LogGroupName"], {})
    assert name == "API-Gateway-Execution-Logs_<Ref RestAPI>/api"
    ((account_id, account),) = synth.of_type("AWS::ApiGateway::Account").items()
    role = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    ((policy_id, policy),) = [(k, p) for k, p in synth.of_type("AWS::IAM::Policy").items()
                              if {"Ref": role} in p["Properties"]["Roles"]]
    assert policy_id in account["DependsOn"] and account_id in synth.resources["RestAPI"]["DependsOn"]
    refs = {"AWS::Partition": "aws", "AWS::Region": "r", "AWS::AccountId": "1"}
    writes = [resolve(s["Resource"], refs) for s in policy["Properties"]["PolicyDocument"]["Statement"]
              if "logs:PutLogEvents" in s["Action"]]
    assert "arn:aws:logs:r:1:log-group:API-Gateway-Execution-Logs_*/api:*" in writes
