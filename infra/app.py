"""The CDK app: `python -m infra.app` synthesizes the Omnishop stack into ./cdk.out.

The stage comes from the context (`cdk synth -c stage=prod`, or CDK_CONTEXT_JSON) or from
OMNISHOP_DEPLOY_STAGE, default "dev"; the stack is "omnishop-<stage>". Without
CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION (the CDK CLI sets them) the stack is environment-agnostic.
Optional context `publicBaseUrl` (e.g. a custom domain) becomes OMNISHOP_PUBLIC_BASE_URL.
The synthesis runs cdk-nag's AwsSolutions checks and fails on any unacknowledged finding (infra/nag.py),
the API's too (on what SAM makes of it: nag.write_api_report, cdk.out/api-validation-report.json).
"""
from __future__ import annotations

import os
import pathlib

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402

from infra import nag  # noqa: E402
from infra.stack import OmnishopStack  # noqa: E402


def build(app: cdk.App) -> OmnishopStack:
    stage = app.node.try_get_context("stage") or os.environ.get("OMNISHOP_DEPLOY_STAGE") or "dev"
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                          region=os.environ.get("CDK_DEFAULT_REGION"))
    return OmnishopStack(app, f"omnishop-{stage}", stage=stage, env=env,
                         public_base_url=app.node.try_get_context("publicBaseUrl"))


def main() -> None:
    # Without an outdir (the CDK CLI passes CDK_OUTDIR) the app would synthesize into a temporary
    # folder; `make synth` promises ./cdk.out.
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or "cdk.out")
    stack = build(app)
    nag.apply(app)   # cdk-nag AwsSolutions: an unacknowledged finding fails the synthesis
    assembly = app.synth()
    stack.discard_chalice_package()
    # The API is a SAM resource the checks above cannot see: check what it becomes (infra/nag.py).
    report = nag.write_api_report(pathlib.Path(assembly.directory) / stack.template_file)
    if report["violations"]:
        raise SystemExit("cdk-nag AwsSolutions findings on the API, not acknowledged (infra/nag.py):\n"
                         + "\n".join(report["violations"]))


if __name__ == "__main__":
    main()
