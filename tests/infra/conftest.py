"""Synthesis of the CDK app for the infra tests: once per session, in a child process.

A child process because `chalice package` (run by chalice.cdk) imports app.py and writes the
stage's variables into os.environ; the tests' own process stays clean. Bundling of the functions'
code is skipped here (context aws:cdk:bundling-stacks = []); test_full_synth does it once.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

import pytest

from infra.resources import ROOT

STAGE = "dev"


@dataclasses.dataclass
class Synth:
    outdir: pathlib.Path
    workdir: pathlib.Path
    template: dict[str, Any]
    seconds: float
    output: str

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    @property
    def template_file(self) -> pathlib.Path:
        return self.outdir / f"omnishop-{STAGE}.template.json"


def synthesize(workdir: pathlib.Path, *, bundling: bool) -> Synth:
    """`python -m infra.app` as a deployment runs it, from `workdir` (chalice.cdk works in the
    current directory), with OMNISHOP_LOCAL=1 set as a developer's shell may have it: the
    deployed API must come out without the local-only routes all the same."""
    workdir.mkdir(parents=True, exist_ok=True)
    outdir = workdir / "cdk.out"
    context: dict[str, Any] = {"stage": STAGE}
    if not bundling:
        context["aws:cdk:bundling-stacks"] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "OMNISHOP_"))}
    # CDK_VALIDATION=false (`cdk synth --no-validation`): CDK's built-in CloudFormation validation
    # only warns unless an app opts into failing on it, and costs this synthesis about 10 of its
    # 24 CPU-seconds (compiling its WebAssembly rules); test_stack_lint.py lints the same template
    # with cfn-lint, every finding failing it. A deployment's synthesis still runs it.
    env.update(CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(context), CDK_VALIDATION="false",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1", OMNISHOP_LOCAL="1")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "infra.app"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=1200)
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"synthesis failed ({proc.returncode}):\n{output[-8000:]}"
    template = json.loads((outdir / f"omnishop-{STAGE}.template.json").read_text())
    return Synth(outdir=outdir, workdir=workdir, template=template, seconds=seconds, output=output)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The app synthesized once for every infra test, as a deployment synthesizes it: with the
    Lambda bundles (chalice package and local bundling). One synthesis instead of two (one without
    bundling for the template's tests, one with it for the bundles') saves about 15 CPU-seconds."""
    result = synthesize(tmp_path_factory.mktemp("synth"), bundling=True)
    print(f"\nsynthesis with bundling: {result.seconds:.1f}s")
    return result


@pytest.fixture(scope="session")
def template(synth: Synth):
    from aws_cdk.assertions import Template

    return Template.from_json(synth.template)


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """A template value with Ref/Fn::Join/Fn::GetAtt worked out: pseudo parameters from `refs`,
    other references as "<Ref X>" / "<X.Attr>"."""
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return refs.get(value["Ref"], f"<Ref {value['Ref']}>")
        if set(value) == {"Fn::GetAtt"}:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{resource}.{attribute}>"
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(resolve(p, refs)) for p in parts)
        return {k: resolve(v, refs) for k, v in value.items()}
    return value
