"""Fixtures for the quote tests (moto in-process, chalice test client) with the demo catalogue,
customers and rules loaded; every TMF648 answer is checked against the v4.0.0 swagger's schemas
(there is no public TMF648 conformance kit)."""
import json
import pathlib

import jsonschema
import pytest

from tests.ctk.newman import SHARED
from tests.support.names import CARTS  # noqa: F401
from tests.support.stored import stored_items

BASE = "/tmf-api/quoteManagement/v4"
QUOTES = f"{BASE}/quote"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
SPEC = SHARED / "tmf" / "specs" / "TMF648-Quote-v4.0.0.swagger.json"
ACME = "cust-acme"
ANDREA = "cust-andrea"


@pytest.fixture
def manager(headers):
    return headers("sales-manager", sub="mgr-maria")


@pytest.fixture
def acme(headers):
    """The business customer's buyer, Raj (cust-acme: email consent, no quiet hours)."""
    return headers("customer", channel="web", customerId=ACME, sub="raj", partyId="party-acme-raj")


def stored():
    """Everything in the quote table (tests may Scan; the application never does)."""
    return stored_items("quote")


def _spec():
    return json.loads(pathlib.Path(SPEC).read_text())


def valid(doc, definition="Quote"):
    """Raises if `doc` is not a TMF648 v4 `definition` (the swagger's definitions, jsonschema)."""
    spec = _spec()
    validator = jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]})
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return True


def new_quote(*items, customer=ACME, **extra):
    """A quote body: items as (offering, quantity) or dicts."""
    lines = [i if isinstance(i, dict) else {"productOffering": {"id": i[0]}, "quantity": i[1]} for i in items]
    return {"quoteItem": lines, "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Customer"}],
            **extra}


def total(doc, price_type="recurring"):
    return next(p["price"]["taxIncludedAmount"]["value"] for p in doc["quoteTotalPrice"] if p["priceType"] == price_type)
