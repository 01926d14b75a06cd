"""cdk-nag AwsSolutions over the synthesized app (infra/nag.py): no unacknowledged finding, the
fixable ones fixed at their root, every acknowledgment exact, reasoned and in docs/decisions.md.

The synthesis itself fails on an unacknowledged error (conftest's `synth` would fail first); the
report CDK writes beside the template says what was checked and what was acknowledged.
"""
from __future__ import annotations

import json
import re

import pytest

from infra import nag
from infra import resources as res
from infra.resources import ROOT
from infra.stack import logical_id, stream_failure_queue
from tests.infra.conftest import STAGE

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
    # CDK's own template validation too (warnings do not fail a synthesis: checked here)
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
