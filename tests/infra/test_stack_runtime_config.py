"""What the deployed code is told, and may read, at run time: secrets by id through Secrets
Manager (never their value in an environment), limits as stack parameters."""
from __future__ import annotations

import json

import pytest

from infra import resources as res
from infra.names import env_name, logical_id


def _environments(synth) -> dict[str, dict]:
    """Every Omnishop function's environment, the API's (SAM's function) included."""
    ours = [logical_id("Function", f.name) for f in res.FUNCTIONS] + ["APIHandler"]
    return {name: synth.resources[name]["Properties"]["Environment"]["Variables"] for name in ours}


@pytest.mark.parametrize("spec", res.SECRETS, ids=lambda s: s.name)
def test_secret_is_encrypted_with_the_stack_key_and_told_by_arn(synth, spec):
    sid = logical_id("Secret", spec.name)
    props = synth.resources[sid]["Properties"]
    (key,) = [k for k, r in synth.resources.items() if r["Type"] == "AWS::KMS::Key"]
    assert props["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert props["GenerateSecretString"]["PasswordLength"] >= 32
    for name, variables in _environments(synth).items():
        assert variables.get(env_name("SECRET_ID", spec.name)) == {"Ref": sid}, name


def test_no_secret_value_in_any_environment(synth):
    for name, variables in _environments(synth).items():
        text = json.dumps(variables)
        assert "resolve:secretsmanager" not in text and "LINK_SECRETS" not in text, name


@pytest.mark.parametrize("spec", res.SECRETS, ids=lambda s: s.name)
def test_every_role_may_read_the_secret(synth, spec):
    sid = logical_id("Secret", spec.name)
    # A role's own policy, or the shared data-access managed policies attached to it (infra/stack.py)
    policies = [r for r in synth.resources.values() if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]
    readers = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "secretsmanager:GetSecretValue" in actions and statement["Resource"] == {"Ref": sid}:
                readers.update(r["Ref"] for r in policy["Properties"].get("Roles", []))
    expected = {logical_id("Function", f.name) + "Role" for f in res.FUNCTIONS} | {"ApiRole"}
    missing = {e for e in expected if not any(r.startswith(e) for r in readers)}
    assert not missing, f"roles that cannot read {spec.name}: {sorted(missing)}"


# --- limits: reserved concurrency, WAF per client, SMS budget ---------------------------------
@pytest.mark.parametrize("spec", [f for f in res.FUNCTIONS if f.reserved_concurrency], ids=lambda f: f.name)
def test_reserved_concurrency_and_its_queue_pollers(synth, spec):
    fid = logical_id("Function", spec.name)
    assert synth.resources[fid]["Properties"]["ReservedConcurrentExecutions"] == spec.reserved_concurrency
    mappings = [m["Properties"] for m in synth.resources.values() if m["Type"] == "AWS::Lambda::EventSourceMapping"
                and m["Properties"]["FunctionName"] == {"Ref": fid}]
    assert mappings
    for mapping in mappings:
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": spec.reserved_concurrency}


def test_the_campaign_fan_out_cannot_starve_the_rest():
    assert res.function("campaign-send").reserved_concurrency


def test_unreserved_functions_have_no_reservation(synth):
    for spec in res.FUNCTIONS:
        if not spec.reserved_concurrency:
            assert "ReservedConcurrentExecutions" not in synth.resources[logical_id("Function", spec.name)]["Properties"]


def test_waf_rate_limits_each_client_credential(synth):
    (acl,) = [r["Properties"] for r in synth.resources.values() if r["Type"] == "AWS::WAFv2::WebACL"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    client = rules["rate-limit-per-client"]
    assert client["Action"] == {"Block": {}}
    statement = client["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == res.WAF_RATE_LIMIT_PER_CLIENT
    assert statement["AggregateKeyType"] == "CUSTOM_KEYS"
    assert statement["CustomKeys"] == [{"Header": {"Name": "authorization",
                                                   "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}]
    # one client may not take the stage's whole rate (requests per 5 minutes vs per second)
    assert res.WAF_RATE_LIMIT_PER_CLIENT / 300 < res.API_THROTTLE_RATE
    assert sorted(r["Priority"] for r in acl["Rules"]) == list(range(len(acl["Rules"])))


def test_sms_budget_and_origination_are_stack_parameters(synth):
    params = synth.template["Parameters"]
    assert params["SmsMonthlySpendLimitUsd"]["Type"] == "Number"
    assert params["SmsMonthlySpendLimitUsd"]["Default"] == res.SMS_SPEND_LIMIT_USD
    assert params["SmsDefaultType"]["AllowedValues"] == ["Transactional", "Promotional"]
    assert params["SmsSenderId"]["Default"] == res.SMS_SENDER_ID
    assert params["SmsOriginationNumber"]["Default"] == ""
    (settings,) = [r for r in synth.resources.values() if r["Type"] == "Custom::AWS"]
    create = settings["Properties"]["Create"]
    text = json.dumps(create)
    for name in ("SmsMonthlySpendLimitUsd", "SmsDefaultType", "SmsSenderId"):
        assert json.dumps({"Ref": name}) in text, name
    assert "setSMSAttributes" in text and "MonthlySpendLimit" in text
    assert settings["Properties"]["Update"] == create   # a changed parameter is applied on update
    for name, variables in _environments(synth).items():
        assert variables["OMNISHOP_SMS_SENDER_ID"] == {"Ref": "SmsSenderId"}, name
        assert variables["OMNISHOP_SMS_ORIGINATION_NUMBER"] == {"Ref": "SmsOriginationNumber"}, name


# --- the dashboard's business row: the counts the code emits ------------------------------------
def _widgets(synth) -> list[dict]:
    from tests.infra.conftest import resolve

    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = resolve(dashboard["Properties"]["DashboardBody"], {"AWS::Region": "eu-west-1"})
    return json.loads(body)["widgets"]


def test_business_row_shows_every_business_metric(synth):
    from chalicelib.observability import BUSINESS_METRICS, NAMESPACE, SERVICE

    widgets = _widgets(synth)
    titles = [w["properties"].get("markdown", "") for w in widgets]
    business = next(i for i, t in enumerate(titles) if "business" in t)
    technical = next(i for i, t in enumerate(titles) if "technical" in t)
    lines = [line for w in widgets[business:technical] for line in w["properties"].get("metrics", [])]
    expressions = {part["expression"] for line in lines for part in line if isinstance(part, dict) and "expression" in part}
    for name, dimension in BUSINESS_METRICS.items():
        if dimension is None:
            assert any(line[:4] == [NAMESPACE, name, "service", SERVICE] for line in lines), name
        else:   # one line per value of the dimension (every state, every stack)
            search = "SEARCH('{%s,service,%s} MetricName=\"%s\"', 'Sum', 300)" % (NAMESPACE, dimension, name)
            assert search in expressions, name
