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

import hashlib
import json
import pathlib
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # the CDK is loaded by the functions that use it (infra/names.py says why)
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
    "IAM5-execution-logs": (
        "API Gateway's execution log group is named after the API's id, which the role's policy "
        "cannot name (the API waits for the account setting, which waits for the policy); the "
        "wildcard is the execution log groups of stage `api` in this account and region, for the "
        "log actions API Gateway uses. The role is the account's API Gateway logging role."),
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
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one exact finding (e.g. "AwsSolutions-IAM5[Resource::*]") on `scope` and the
    constructs under it, for REASONS[reason]."""
    import aws_cdk as cdk

    cdk.Validations.of(scope).acknowledge(
        cdk.Acknowledgment(id=f"{PACK}::{finding}", reason=REASONS[reason]))


# --- the REST API, which the checks above cannot see ---------------------------------------------
# chalice.cdk deploys the API as a SAM `AWS::Serverless::Api`: cdk-nag's rules look only at
# AWS::ApiGateway::* resources, which SAM's transform makes at deploy time. `api_view` expands the
# synthesized template's SAM API into what the transform and API Gateway make of it: the RestApi
# (the OpenAPI body), its Deployment and Stage (access log, tracing, method settings, tags), one
# Method per operation of the body (its authorization type from the operation's `security`) and a
# RequestValidator per `x-amazon-apigateway-request-validators` entry. `check_api` runs AwsSolutions
# over that view; its findings are acknowledged in API_REASONS / `api_acknowledgments` (listed in
# docs/decisions.md), and the synthesis fails on any other (infra/app.py).
SAM_API = "AWS::Serverless::Api"
STAND_IN = "AWS::CloudFormation::WaitConditionHandle"   # a resource without properties: only referred to
API_REPORT = "api-validation-report.json"
AUTH_TYPES = {"cognito_user_pools": "COGNITO_USER_POOLS", "awssigv4": "AWS_IAM", "custom": "CUSTOM"}
VERBS = ("get", "put", "post", "delete", "options", "head", "patch")

API_REASONS = {
    "APIG2": (
        "Request bodies and parameters are validated by the API function against the TMF models "
        "(pydantic, chalicelib/*/schemas.py) before anything is read or written, with a TMF-shaped "
        "400/422 naming the field. API Gateway's validator would need the same schemas a second time "
        "in the OpenAPI body (JSON Schema draft 4, which the TMF schemas exceed), and answers in its "
        "own error shape."),
    "APIG4-in-function": (
        "Authenticated route: the API function verifies the caller's Cognito token (signature "
        "against the user pool's JWKS, issuer, expiry; chalicelib/auth.py) before the route runs and "
        "checks the caller's role against chalicelib/access.py (deny by default: a route without an "
        "entry answers 403). An API Gateway authorizer would verify the same token twice and cannot "
        "apply the per-route roles and the own/channel/stack scopes; tests/security checks every route."),
    "APIG4-public": (
        "Public by design, listed route by route in docs/decisions.md: the health check, the API "
        "documentation, campaign landing pages, the signed links sent to customers (an expiring "
        "HMAC-signed token the function checks, which is the credential), and the payment provider's "
        "callback (its signature header checked by the function). WAF's rate limits apply to them."),
}


def _references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, Fn::Sub's ${X} / ${X.Attr})."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item.split(".")[0])
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".")[0])
            elif key == "Fn::Sub":
                text, names = (item, {}) if isinstance(item, str) else item
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text)} - set(names)
                found |= _references(names)
            else:
                found |= _references(item)
    return {f for f in found if not f.startswith("AWS::")}


def _methods(key: str, body: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """{logical id: (VERB, path, authorization type)} for every operation of the OpenAPI body."""
    schemes = body.get("securityDefinitions", {})
    methods = {}
    for path, operations in body.get("paths", {}).items():
        for verb, operation in operations.items():
            if verb not in VERBS:
                continue
            security = operation.get("security", body.get("security", []))
            types = [AUTH_TYPES.get(str(schemes.get(name, {}).get("x-amazon-apigateway-authtype", "")).lower(),
                                    "CUSTOM") for requirement in security for name in requirement]
            digest = hashlib.sha256(f"{verb} {path}".encode()).hexdigest()[:10]
            methods[f"{key}Method{verb.title()}{digest}"] = (verb.upper(), path, types[0] if types else "NONE")
    return methods


def _expand_api(key: str, api: dict[str, Any]) -> dict[str, Any]:
    """What SAM's transform makes of an AWS::Serverless::Api with a DefinitionBody (its
    RestApi/Deployment/Stage naming), plus the Methods and validators API Gateway makes of the body."""
    props = api["Properties"]
    body = props["DefinitionBody"]
    stage_name = props["StageName"]
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
    endpoint = props.get("EndpointConfiguration", "EDGE")
    endpoint = endpoint if isinstance(endpoint, str) else endpoint.get("Type", "EDGE")
    resources: dict[str, Any] = {
        key: {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Body": body, "Name": props.get("Name"), "EndpointConfiguration": {"Types": [endpoint]},
            "Parameters": {"endpointConfigurationTypes": endpoint}}},
        f"{key}Deployment{digest}": {"Type": "AWS::ApiGateway::Deployment", "Properties": {
            "RestApiId": {"Ref": key}, "Description": f"RestApi deployment id: {digest}"}},
        f"{key}{re.sub(r'[^A-Za-z0-9]', '', stage_name)}Stage": {
            "Type": "AWS::ApiGateway::Stage", "DependsOn": api.get("DependsOn", []), "Properties": {
                "RestApiId": {"Ref": key}, "DeploymentId": {"Ref": f"{key}Deployment{digest}"},
                "StageName": stage_name,
                **{name: props[name] for name in ("AccessLogSetting", "MethodSettings", "TracingEnabled",
                                                   "CacheClusterEnabled", "CacheClusterSize", "Variables")
                   if name in props},
                "Tags": [{"Key": k, "Value": v} for k, v in props.get("Tags", {}).items()]}},
    }
    for mid, (verb, _path, auth_type) in _methods(key, body).items():
        resources[mid] = {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": key}, "ResourceId": {"Fn::GetAtt": [key, "RootResourceId"]},
            "HttpMethod": verb, "AuthorizationType": auth_type}}
    for name, validator in body.get("x-amazon-apigateway-request-validators", {}).items():
        resources[f"{key}Validator{re.sub(r'[^A-Za-z0-9]', '', name)}"] = {
            "Type": "AWS::ApiGateway::RequestValidator", "Properties": {
                "RestApiId": {"Ref": key}, "Name": name,
                "ValidateRequestBody": validator.get("validateRequestBody", False),
                "ValidateRequestParameters": validator.get("validateRequestParameters", False)}}
    return resources


def api_view(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The template's SAM APIs as the resources they become, with every other API Gateway and WAF
    resource of the template and a property-less stand-in for anything those refer to.

    Returns the view and, for each resource the expansion made, what a finding on it is about
    ("GET /health" for a Method, else its logical id)."""
    source = template["Resources"]
    view: dict[str, Any] = {}
    subjects: dict[str, str] = {}
    stages: dict[str, str] = {}
    for key, resource in source.items():
        if resource["Type"] == SAM_API:
            expanded = _expand_api(key, resource)
            view.update(expanded)
            methods = _methods(key, resource["Properties"]["DefinitionBody"])
            subjects.update({k: f"{methods[k][0]} {methods[k][1]}" if k in methods else k for k in expanded})
            stages[key] = next(k for k, r in expanded.items() if r["Type"] == "AWS::ApiGateway::Stage")
        elif resource["Type"].startswith(("AWS::ApiGateway::", "AWS::WAFv2::")):
            view[key] = resource
    # SAM's references to what it generates (`RestAPI.Stage`) name the generated stage.
    text = json.dumps(view)
    for key, stage in stages.items():
        text = text.replace(f'{{"Ref": "{key}.Stage"}}', f'{{"Ref": "{stage}"}}')
    view = json.loads(text)
    missing = set().union(*(_references(r) | set(r.get("DependsOn", [])) for r in view.values())) - set(view)
    view.update({key: {"Type": STAND_IN} for key in missing})
    return {"Resources": view}, subjects


def check_api(template: dict[str, Any]) -> list[str]:
    """AwsSolutions' findings on what the SAM APIs of `template` become (api_view), each as
    "<rule>[<subject>]", e.g. "AwsSolutions-APIG4[GET /health]"; none acknowledged."""
    import tempfile

    import aws_cdk as cdk
    from aws_cdk import cloudformation_include
    from cdk_nag import AwsSolutionsChecks

    view, subjects = api_view(template)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "api-view.json"
        path.write_text(json.dumps(view))
        stack = cdk.Stack(cdk.App(), "ApiView")
        cloudformation_include.CfnInclude(stack, "Template", template_file=str(path))
        report = AwsSolutionsChecks().validate_scope(stack)
    findings = set()
    for violation in report.violations:
        rule = violation.rule_name.split("[")[0]
        for resource in violation.violating_resources:
            key = _construct_path(resource).rsplit("/", 1)[-1]
            if key in subjects:   # not the resources the app's own check sees (or their stand-ins)
                findings.add(f"{rule}[{subjects[key]}]")
    return sorted(findings)


def _construct_path(resource: Any) -> str:
    """cdk-nag names the violating construct by its path (a field the jsii struct does not declare)."""
    data = getattr(resource, "_values", None) or {}
    return str(data.get("construct_path") or data.get("constructPath") or resource.resource_logical_id)


# Findings on the API acknowledged by name; a Method's APIG4/COG4 by what the route is (`api_reason`).
API_ACKNOWLEDGED = {"AwsSolutions-APIG2[RestAPI]": "APIG2"}
PER_ROUTE_RULES = ("AwsSolutions-APIG4", "AwsSolutions-COG4")
IN_FUNCTION = "every route with an entry in chalicelib/access.py"   # how docs/decisions.md names them


def public_routes() -> set[str]:
    """"VERB path" of the app's routes made with `http.endpoint(..., authenticated=False)`."""
    from app import app

    return {f"{verb} {path}" for path, methods in app.routes.items() for verb, entry in methods.items()
            if not getattr(entry.view_function, "route", (None, None, True))[2]}


def api_reason(finding: str, public: set[str]) -> str | None:
    """The API_REASONS key a finding of `check_api` is acknowledged for, or None (not acknowledged)."""
    from chalicelib import access

    if finding in API_ACKNOWLEDGED:
        return API_ACKNOWLEDGED[finding]
    rule, _, subject = finding.partition("[")
    route = subject.removesuffix("]")
    if rule not in PER_ROUTE_RULES or " " not in route:
        return None
    verb, path = route.split(" ", 1)
    if route in public:
        return "APIG4-public"
    return "APIG4-in-function" if access.route(path, verb) else None


def write_api_report(template_file: pathlib.Path) -> dict[str, Any]:
    """Check the synthesized template's API (check_api), write the report beside it (API_REPORT):
    {"violations": [finding...], "acknowledged": [{"finding", "reasonKey", "reason"}...]}."""
    findings = check_api(json.loads(template_file.read_text()))
    public = public_routes()
    reasons = {finding: api_reason(finding, public) for finding in findings}
    report = {"violations": [f for f, key in reasons.items() if key is None],
              "acknowledged": [{"finding": f, "reasonKey": key, "reason": API_REASONS[key]}
                               for f, key in reasons.items() if key is not None]}
    (template_file.parent / API_REPORT).write_text(json.dumps(report, indent=1))
    return report
