"""Shared by the authorization tests (tests/security/test_roles_*.py, test_hub_roles.py,
test_stack_scope.py): one caller per role, Andrea's data markers, and the demo world."""
from __future__ import annotations

import json

import pytest

from tests.support.appointments import installed

ANDREA, STACY = "cust-andrea", "cust-stacy"
# What of Andrea's record nobody but Andrea and agents (and marketing, for messages) may ever see.
ANDREA_MARKERS = ("Rossi", "+447700900123", "andrea.rossi@example.com", "Elm Road")
CALLERS: dict[str, tuple[str, dict]] = {     # name -> (role, claims)
    "customer": ("customer", {"channel": "web", "customerId": ANDREA, "sub": ANDREA}),
    "other customer": ("customer", {"channel": "app", "customerId": STACY, "sub": STACY}),
    "agent": ("agent", {"channel": "callcenter", "sub": "agent-007"}),
    "marketing": ("marketing", {"sub": "mkt-1"}),
    "catalog-admin": ("catalog-admin", {"sub": "cat-admin"}),
    "stack": ("stack", {"stack": "csp-stack-a", "sub": "some-client-id"}),
    "channel": ("channel", {"channel": "web", "sub": "portal"}),
    "sales-manager": ("sales-manager", {"sub": "mgr-maria"}),
}


@pytest.fixture
def as_role(token):
    """as_role(name) -> request headers for CALLERS[name]."""
    def headers(name: str) -> dict[str, str]:
        role, claims = CALLERS[name]
        return {"Authorization": f"Bearer {token(role, **claims)}", "Content-Type": "application/json"}
    return headers


@pytest.fixture
def world(aws, pump):
    """The demo catalogue, customers (with products held), rules, campaigns and Andrea's basket."""
    from chalicelib import demo

    demo.load_all()
    pump.drain()


@pytest.fixture
def http(client):
    def call(method: str, path: str, headers: dict, body=None) -> tuple[int, object, str]:
        raw = None if body is None else body if isinstance(body, str) else json.dumps(body)
        r = getattr(client.http, method.lower())(path, headers=headers, **({"body": raw} if raw is not None else {}))
        text = r.body.decode() if isinstance(r.body, bytes) else (r.body or "")
        return r.status_code, (json.loads(text) if text else None), text
    return call


@pytest.fixture
def andrea_records(world, as_role, http, pump) -> dict[str, str]:
    """Collection path segment -> the id of one of Andrea's records in it: the demo's (her
    customer record, basket, product held, interaction) and, made here, an order she placed, a
    message an agent sent her and a qualification she asked for."""
    base = "/tmf-api"
    made = {}
    installed(ANDREA, "po-home-security")   # the order below needs its engineer's visit
    for segment, path, who, body in (
            ("productOrder", f"{base}/productOrderingManagement/v4/productOrder", "customer", {
                "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "po-home-security"}}],
                "relatedParty": [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}]}),
            ("communicationMessage", f"{base}/communicationManagement/v4/communicationMessage", "agent", {
                "content": "Your router ships today", "messageType": "SMS",
                "receiver": [{"party": {"id": ANDREA, "@referredType": "Customer"}}]}),
            ("productOfferingQualification", f"{base}/productOfferingQualification/v4/productOfferingQualification",
             "customer", {"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "po-extreme-bundle"}}]})):
        status, doc, text = http("POST", path, as_role(who), body)
        assert status == 201, (segment, text)
        made[segment] = doc["id"]
    pump.drain()
    return {"customer": ANDREA, "shoppingCart": "cart-andrea", "product": "prod-andrea-broadband",
            "partyInteraction": "demo-andrea-portal-visit", **made}
