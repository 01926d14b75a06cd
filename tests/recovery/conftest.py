"""Fixtures for the abandoned-basket tests: the basket fixtures (demo catalogue, customers and
rules in the `aws` moto), a short idle time, Andrea without quiet hours, and helpers to watch
the recovery workflow's executions and what moto's SNS and SES received."""
import json
import time

import pytest

from chalicelib import aws as clients
from chalicelib import settings
from tests.support.names import ANDREA_EMAIL, ANDREA_MOBILE, CARTS, CUSTOMER  # noqa: F401  # noqa: F401

IDLE = 1


@pytest.fixture
def recovery(monkeypatch, demo, api, agent):
    """Demo data, idle time 1 s, second reminder after 2 s, and Andrea reachable at any hour."""
    monkeypatch.setenv("OMNISHOP_BASKET_IDLE_SECONDS", str(IDLE))
    monkeypatch.setenv("OMNISHOP_BASKET_SECOND_REMINDER_SECONDS", "2")
    status, body, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent,
                               {"contactPreference": {"quietHours": None}})
    assert status == 200, body


def executions(status=None):
    sfn = clients.client("stepfunctions")
    arn = settings.state_machine_arn("abandoned-basket")
    found = sfn.list_executions(stateMachineArn=arn, **({"statusFilter": status} if status else {}))["executions"]
    return found


def wait_for(predicate, timeout=120.0, step=0.1):
    """Poll until predicate() is truthy (the workflow runs in moto's executor threads)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


def settle(pump, timeout=30.0):
    """Deliver stream records until every recovery execution has ended."""
    def done():
        pump.drain()
        return not executions("RUNNING")
    wait_for(done, timeout, 0.2)
    pump.drain()


def history(execution_arn):
    return clients.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]


def output(execution_arn):
    raw = clients.client("stepfunctions").describe_execution(executionArn=execution_arn).get("output")
    return json.loads(raw) if raw else None
