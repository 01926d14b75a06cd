"""Fixtures for the customer context's component tests (moto in-process, chalice test client)."""

import pytest

from tests.support import demo as demo_data
from tests.support.customers import andrea_body  # noqa: F401 (the folder's tests use it)

BASE = "/tmf-api/customerManagement/v4"
PI = "/tmf-api/partyInteraction/v4"


@pytest.fixture
def signup(token):
    return {"Authorization": f"Bearer {token('channel', channel='web', sub='portal')}",
            "Content-Type": "application/json"}


@pytest.fixture
def as_customer(token):
    def headers(customer_id, channel="web"):
        return {"Authorization": f"Bearer {token('customer', channel=channel, customerId=customer_id, sub=customer_id)}",
                "Content-Type": "application/json"}
    return headers


@pytest.fixture
def demo(aws, pump):
    demo_data.load("customer", pump=pump)
