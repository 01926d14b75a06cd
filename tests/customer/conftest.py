"""Fixtures for the customer context's component tests (moto in-process, chalice test client)."""

import pytest

from tests.support import demo as demo_data

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


def andrea_body(**extra):
    return {"name": "Andrea Rossi", "engagedParty": {"id": "party-a", "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "+447700900321"}},
                              {"mediumType": "email", "characteristic": {"emailAddress": "a.rossi@example.org"}}],
            "contactPreference": {"consent": {"sms": {"service": True, "marketing": True}}}, **extra}
