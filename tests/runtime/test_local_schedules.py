"""Schedules fire their functions with the EventBridge Scheduler event; expressions parse."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from infra.local.schedules import Scheduler, next_fire
from tests.runtime import handlers
from tests.runtime.testbed import FUNCTIONS, SCHEDULE

UTC = dt.timezone.utc


def test_fire_invokes_the_function_with_the_scheduled_event(test_env):
    assert Scheduler([SCHEDULE], FUNCTIONS).fire("rt-tick") == {"ok": True}
    [event] = handlers.received["scheduled"]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.scheduler"
    assert event["detail"] == {"job": "tick"} and event["region"] == "eu-west-1"
    assert event["resources"] == ["arn:aws:scheduler:eu-west-1:123456789012:schedule/default/omnishop-local-rt-tick"]
    assert dt.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ") and event["id"]


def test_the_thread_fires_when_the_rate_is_due(test_env):
    now = [dt.datetime(2030, 1, 1, tzinfo=UTC)]
    scheduler = Scheduler([SCHEDULE], FUNCTIONS, clock=lambda: now[0], tick=0.02)
    scheduler.start()
    try:
        time.sleep(0.1)
        assert handlers.received["scheduled"] == []
        now[0] += dt.timedelta(seconds=61)
        deadline = time.monotonic() + 60
        while not handlers.received["scheduled"] and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.stop()
    [event] = handlers.received["scheduled"]
    assert event["time"] == "2030-01-01T00:01:00Z"


@pytest.mark.parametrize("expression, after, expected", [
    ("rate(15 minutes)", "2026-11-22T16:47:30", "2026-11-22T17:02:30"),
    ("rate(1 day)", "2026-11-22T16:47:00", "2026-11-23T16:47:00"),
    ("cron(0/15 * * * ? *)", "2026-11-22T16:47:30", "2026-11-22T17:00:00"),
    ("cron(0 10 * * ? *)", "2026-11-22T10:00:00", "2026-11-23T10:00:00"),
    ("cron(0 18 ? * MON-FRI *)", "2026-11-22T12:00:00", "2026-11-23T18:00:00"),  # the 22nd is a Sunday
    ("cron(0 9 L * ? *)", "2026-11-22T00:00:00", "2026-11-30T09:00:00"),
    ("cron(15 10 ? * 6L 2027)", "2026-11-22T00:00:00", "2027-01-29T10:15:00"),
    ("cron(0 0 ? * 2#1 *)", "2026-11-22T00:00:00", "2026-12-07T00:00:00"),
    ("cron(0 12 29 FEB ? *)", "2026-11-22T00:00:00", "2028-02-29T12:00:00"),
    ("at(2027-01-01T00:00:00)", "2026-11-22T00:00:00", "2027-01-01T00:00:00"),
    ("at(2020-01-01T00:00:00)", "2026-11-22T00:00:00", None),
])
def test_next_fire(expression, after, expected):
    result = next_fire(expression, dt.datetime.fromisoformat(after).replace(tzinfo=UTC))
    assert result == (expected and dt.datetime.fromisoformat(expected).replace(tzinfo=UTC))


@pytest.mark.parametrize("expression", ["rate(0 minutes)", "rate(5 weeks)", "cron(0 10 * * *)",
                                        "cron(0 10 * * MON *)", "cron(0 10 15W * ? *)", "every day"])
def test_bad_expressions_are_refused(expression):
    with pytest.raises(ValueError):
        next_fire(expression, dt.datetime(2026, 1, 1, tzinfo=UTC))
