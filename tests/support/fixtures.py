"""The component tests' shared fixtures (registered by tests/conftest.py's pytest_plugins): JSON
calls (`api`), bearer-token headers per role, the demo data, the simulated stacks and a fixed
clock. A folder's conftest overrides one by defining a fixture of the same name."""
import datetime as dt

import pytest

from chalicelib import settings, tmf
from tests.support import demo as demo_data
from tests.support import names
from tests.support.api import Api

NOON = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc)      # 12:00 in London: no quiet hours
NIGHT = dt.datetime(2026, 6, 1, 22, 30, tzinfo=dt.timezone.utc)    # 23:30 in London: Andrea's quiet hours


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def headers(token):
    """headers(role, **claims) -> Authorization + JSON content type."""
    def make(role, **claims):
        return {"Authorization": f"Bearer {token(role, **claims)}", "Content-Type": "application/json"}
    return make


@pytest.fixture
def web(headers):
    return headers("channel", channel="web", sub="portal")


@pytest.fixture
def andrea(headers):
    return headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")


@pytest.fixture
def stacy(headers):
    return headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")


@pytest.fixture
def agent(headers):
    return headers("agent", channel="callcenter", sub="agent-007")


@pytest.fixture
def admin(headers):
    return headers("catalog-admin", sub="cat-admin")


@pytest.fixture
def demo(aws, pump):
    """The demo catalogue, customers and rules (tests/support/demo.py)."""
    demo_data.load("catalog", "customer", "rules", pump=pump)


@pytest.fixture
def shop(aws, pump):
    """The demo catalogue, customers, rules and stock."""
    demo_data.load("catalog", "customer", "rules", "stock", pump=pump)


@pytest.fixture
def stacks(aws, monkeypatch):
    """The simulated stacks in this process, reporting straight to the listener's use case;
    OMNISHOP_STACK_URL_* point the default adapter at them. Milestones 0.05 s apart."""
    from chalicelib.auth import Caller
    from chalicelib.catalog.domain import STACKS
    from chalicelib.ordering import fulfilment
    from chalicelib.stacks.simulator import Simulator

    def report(stack, event):
        fulfilment.stack_event(event, Caller(sub=stack, role="stack", stack=stack))

    monkeypatch.setenv("OMNISHOP_SIMULATED_STACK_DELAY_SECONDS", "0.05")
    simulator = Simulator(report).start()
    for name in STACKS:
        monkeypatch.setenv(f"OMNISHOP_STACK_URL_{settings._key(name)}", simulator.url(name))
    yield simulator
    simulator.stop()


@pytest.fixture
def clock(monkeypatch):
    """clock(moment): tmf.now() answers `moment` from now on (NOON until set)."""
    def set_to(moment):
        monkeypatch.setattr(tmf, "now", lambda: moment)
    set_to(NOON)
    return set_to


@pytest.fixture
def failing(monkeypatch):
    """failing(service, operation, code, times): the next `times` calls fail with that error code."""
    from botocore.exceptions import ClientError

    from chalicelib import aws as clients

    def inject(service, operation, code="Throttling", times=1, status=400):
        client = clients.client(service)
        real = getattr(client, operation)
        left = {"n": times}

        def fake(**params):
            if left["n"] > 0:
                left["n"] -= 1
                raise ClientError({"Error": {"Code": code, "Message": f"{code} for {params.get('PhoneNumber')}"},
                                   "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
            return real(**params)

        monkeypatch.setattr(client, operation, fake)
        return left
    return inject


ALL_STACKS = "csp-stack-a,csp-stack-b,iot-partner-x"


@pytest.fixture
def silent(stacks, monkeypatch, api, demo, agent):
    """Stacks take child orders and never report: the test reports their milestones itself.
    Andrea's quiet hours would hold her SMS until the morning: the tests run in her daytime."""
    monkeypatch.setenv("OMNISHOP_SIMULATED_STACKS_SILENT", ALL_STACKS)
    status, _, _ = api.call("PATCH", f"{names.CUSTOMER}/customer/cust-andrea", agent,
                            {"contactPreference": {"quietHours": None}})
    assert status == 200
    return stacks
