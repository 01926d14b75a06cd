"""A Step Functions Retry waits `settings.local_retry_scale()` of its interval in the local
runtime and tests (infra/local/moto_fixes.py), and its interval as written without the fixes."""
from __future__ import annotations

import types

import pytest

from infra.local import moto_fixes


@pytest.fixture
def fixes():
    moto_fixes.install()
    try:
        yield
    finally:
        moto_fixes.uninstall()


def _wait(strategy, interval: float) -> float:
    """What moto's retrier sleeps after `strategy` (the last step before its sleep) saw `interval`."""
    env = types.SimpleNamespace(stack=[interval])
    strategy._eval_body(env)
    [waited] = env.stack
    return waited


def test_a_retry_waits_the_local_scale_of_its_interval(fixes, monkeypatch):
    from moto.stepfunctions.parser.asl.component.common.retry.jitter_strategy_decl import (JitterStrategy,
                                                                                            JitterStrategyDecl)

    monkeypatch.delenv("OMNISHOP_LOCAL_RETRY_SCALE", raising=False)
    assert _wait(JitterStrategyDecl(), 8.0) == pytest.approx(0.8)   # the default: a tenth
    monkeypatch.setenv("OMNISHOP_LOCAL_RETRY_SCALE", "1")
    assert _wait(JitterStrategyDecl(), 8.0) == 8.0                  # AWS's own waits, when asked for
    monkeypatch.setenv("OMNISHOP_LOCAL_RETRY_SCALE", "0.5")
    assert 0 <= _wait(JitterStrategyDecl(JitterStrategy.FULL), 8.0) <= 4.0   # after the jitter


def test_uninstalled_moto_waits_the_interval_as_written(monkeypatch):
    from moto.stepfunctions.parser.asl.component.common.retry.jitter_strategy_decl import JitterStrategyDecl

    monkeypatch.setenv("OMNISHOP_LOCAL_RETRY_SCALE", "0.1")
    assert _wait(JitterStrategyDecl(), 8.0) == 8.0

