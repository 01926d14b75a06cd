"""Fixtures for the customer context's component tests (moto in-process, chalice test client)."""
import json

import pytest

from chalicelib import aws, settings
from tests.support import demo as shop

BASE = "/tmf-api/customerManagement/v4"
PI = "/tmf-api/partyInteraction/v4"


@pytest.fixture
def agent(token):
    return {"Authorization": f"Bearer {token('agent', channel='callcenter', sub='agent-007')}",
            "Content-Type": "application/json"}


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
    shop.load("customer", pump=pump)


class Api:
    """JSON calls through the chalice test client: (status, body, headers)."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, headers, body=None):
        raw = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
        r = getattr(self.client.http, method.lower())(path, headers=headers, **({"body": raw} if raw is not None else {}))
        return r.status_code, (json.loads(r.body) if r.body else None), r.headers


@pytest.fixture
def api(client):
    return Api(client)


def stored_items(table="customer"):
    """Everything in a table (tests may Scan; the application never does)."""
    ddb = aws.client("dynamodb")
    items, kwargs = [], {"TableName": settings.table_name(table)}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def andrea_body(**extra):
    return {"name": "Andrea Rossi", "engagedParty": {"id": "party-a", "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "+447700900321"}},
                              {"mediumType": "email", "characteristic": {"emailAddress": "a.rossi@example.org"}}],
            "contactPreference": {"consent": {"sms": {"service": True, "marketing": True}}}, **extra}
