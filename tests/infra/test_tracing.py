"""Powertools Tracer on every function and the API (chalicelib/observability.py `traced`): a
`## <handler>` subsegment per invocation annotated ColdStart and Service, the X-Ray SDK loaded on
the first invocation and never by an import (issue 16: entry points import as fast as boto3)."""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
from typing import Any, Iterator

import pytest
from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing import tracer as powertools_tracer

from bench.harness import LOCAL_ENV
from bench.imports import entry_points
from chalicelib import observability
from infra import resources as res
from infra.resources import ROOT


class FakeSubsegment:
    def __init__(self, name: str) -> None:
        self.name, self.annotations, self.metadata = name, {}, {}

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        self.metadata[key] = value


class FakeProvider:
    """What Tracer asks of X-Ray's recorder, recorded."""

    def __init__(self) -> None:
        self.subsegments: list[FakeSubsegment] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str, **_: Any) -> Iterator[FakeSubsegment]:
        self.subsegments.append(FakeSubsegment(name))
        yield self.subsegments[-1]

    def patch(self, modules: Any) -> None:   # pragma: no cover - auto_patch is off below
        raise AssertionError("not patched in tests")


@pytest.fixture
def provider(monkeypatch) -> Iterator[FakeProvider]:
    """observability's Tracer enabled (as in Lambda) over a recording provider, cold again."""
    fake = FakeProvider()
    Tracer._reset_config()
    monkeypatch.setattr(observability, "_tracer", Tracer(service=observability.SERVICE, provider=fake,
                                                          disabled=False, auto_patch=False))
    monkeypatch.setattr(powertools_tracer, "is_cold_start", True)
    try:
        yield fake
    finally:
        Tracer._reset_config()


def test_a_traced_handler_is_one_subsegment_annotated_cold_start_then_warm(provider):
    @observability.traced
    def handler(event: dict, context: Any) -> dict:
        return {"phone": "+447700900123", "seen": event["n"]}

    assert handler({"n": 1}, None) == {"phone": "+447700900123", "seen": 1}
    assert handler({"n": 2}, None)["seen"] == 2
    first, second = provider.subsegments
    assert first.name == second.name == "## handler"
    assert first.annotations == {"ColdStart": True, "Service": "omnishop"}
    assert second.annotations == {"ColdStart": False, "Service": "omnishop"}
    assert first.metadata == {} and second.metadata == {}, "responses may hold customer data: not recorded"


def test_a_traced_handler_that_raises_still_annotates_and_raises(provider):
    @observability.traced(name="api")
    def handler(event: dict, context: Any) -> dict:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        handler({}, None)
    (segment,) = provider.subsegments
    assert segment.name == "## api" and segment.annotations["ColdStart"] is True
    assert "api error" in segment.metadata


@pytest.mark.parametrize("spec", res.FUNCTIONS, ids=lambda f: f.name)
def test_every_function_handler_is_traced(spec):
    module, name = spec.handler.rsplit(".", 1)
    assert getattr(getattr(importlib.import_module(module), name), "traced", False) is True, (
        f"{spec.handler}: decorate it with @traced (chalicelib/observability.py), outermost")


def test_api_requests_are_traced(client, provider):
    response = client.http.get("/health")
    assert response.status_code == 200
    assert [s.name for s in provider.subsegments] == ["## api"]
    assert provider.subsegments[0].annotations == {"ColdStart": True, "Service": "omnishop"}


def test_no_entry_point_imports_the_xray_sdk():
    """As in Lambda (LAMBDA_TASK_ROOT set, tracing on): importing app.py and every function's
    module loads no aws_xray_sdk; the first invocation's Tracer does."""
    code = ("import importlib, json, sys\n"
            f"for m in {entry_points()!r}: importlib.import_module(m)\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('aws_xray_sdk'))\n"
            "from chalicelib import observability\n"
            "tracer = observability.tracer()\n"
            "print(json.dumps({'at_import': loaded, 'disabled': tracer.disabled,\n"
            "                  'after_tracer': 'aws_xray_sdk.core' in sys.modules}))\n")
    env = {**os.environ, **LOCAL_ENV, "OMNISHOP_LOCAL": "0", "LAMBDA_TASK_ROOT": str(ROOT),
           "AWS_LAMBDA_FUNCTION_NAME": "omnishop-test", "POWERTOOLS_TRACE_DISABLED": "false"}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"at_import": [], "disabled": False, "after_tracer": True}
