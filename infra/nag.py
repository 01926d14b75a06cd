"""cdk-nag AwsSolutions checks over the synthesized app, and the one place findings are acknowledged.

`apply(app)` (infra/app.py) adds the checks as a CDK policy-validation plugin: a synthesis with
any unacknowledged error fails (`ValidationFailed`, report in cdk.out/validation-report.json), so
`make synth`, `cdk deploy` and tests/infra all refuse a new finding. What cannot be fixed at its
root is acknowledged with `acknowledge(scope, finding, reason)`: the exact finding (rule plus, for
IAM5/IAM4, the resource or policy it is about), a reason from REASONS. The validation
report lists every acknowledged finding with its construct and reason (not the template's
metadata: that would take it past CloudFormation's 1 MB). Every finding acknowledged is listed in
docs/decisions.md (tests/infra/test_stack_nag.py checks it).
"""
from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

PACK = "AwsSolutions"

# Why each kind of finding is accepted. Keys are the rule (and, where the same rule is accepted
# for different reasons, a short tag); acknowledge() says which applies to a finding.
REASONS = {
    "IAM5-no-resource-level": (
        "Resource '*' only for actions IAM gives no resource-level permissions: X-Ray "
        "PutTraceSegments/PutTelemetryRecords (active tracing), SNS Publish to a phone number "
        "(SMS has no topic ARN), SNS SetSMSAttributes (the account's SMS settings), DynamoDB "
        "ListStreams (stream event sources), CloudWatch Logs log-delivery actions of Step Functions "
        "logging."),
    "IAM5-kms-actions": (
        "CDK's grants on a table or queue encrypted with the stack's customer-managed key add "
        "kms:GenerateDataKey* and kms:ReEncrypt* (the data-key family SQS/DynamoDB use), on that "
        "one key's ARN only."),
    "IAM5-execution": (
        "Step Functions executions are named at run time (one per order/basket/message), so their "
        "ARNs are only known up to the state machine: the wildcard is the executions of one named "
        "state machine of this stage, for Describe/StopExecution and task callbacks."),
    "IAM5-ses-identity": (
        "In the SES sandbox SES authorizes the recipient identities too, which are not known in "
        "advance; the statement is limited to ses:SendEmail/SendRawEmail on identities of this "
        "account and region."),
    "IAM5-campaign-schedule": (
        "The campaign API creates one EventBridge schedule per campaign at run time; the wildcard "
        "is only schedules named omnishop-<stage>-cmp-* in the default group of this account."),
    "SMG4": (
        "The link secret is rotated by prepending a new key (the code accepts a comma-separated "
        "list so links signed with the old key stay valid until they expire); an automatic "
        "rotation Lambda would drop the old key and break links already sent."),
    "COG2": (
        "Customers sign in through the channels' own apps; MFA is offered (TOTP) but requiring it "
        "is the channel's decision. Staff (agents) are required to enrol by the operator's "
        "onboarding; machine clients use client credentials, which MFA does not apply to."),
    "COG8": (
        "The Plus feature plan (threat protection) is billed per monthly active user; it is an "
        "operator's choice per deployment, not a default of the stack. Passwords are policed "
        "(COG1) and self sign-up is off."),
}


def apply(app: cdk.App) -> None:
    """Run AwsSolutions over every stack of `app` when it synthesizes."""
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one exact finding (e.g. "AwsSolutions-IAM5[Resource::*]") on `scope` and the
    constructs under it, for REASONS[reason]."""
    cdk.Validations.of(scope).acknowledge(
        cdk.Acknowledgment(id=f"{PACK}::{finding}", reason=REASONS[reason]))
