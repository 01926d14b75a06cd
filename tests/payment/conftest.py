"""Fixtures for the payment tests (moto in-process, chalice test client), with the demo
catalogue, customers, rules and stock loaded; helpers to pay an order and to play the provider's
signed callback. Reuses the basket tests' token headers."""
import json
import pathlib

import jsonschema

from tests.ctk.newman import SHARED
from tests.support.names import CENTRAL, ORDERS, STOCK
from tests.support.orders import andrea_order

BASE = "/tmf-api/paymentManagement/v4"
PAYMENTS = f"{BASE}/payment"
REFUNDS = f"{BASE}/refund"
CALLBACK = f"{BASE}/providerCallback"
SPEC = SHARED / "tmf" / "specs" / "TMF676-Payment-v4.0.0.swagger.json"


def valid(doc, definition):
    """Raises if `doc` is not a TMF676 v4 `definition` (the swagger definitions, with jsonschema)."""
    spec = json.loads(pathlib.Path(SPEC).read_text())
    validator = jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]})
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return True


def due(order):
    return next(t["price"]["taxIncludedAmount"] for t in order["orderTotalPrice"] if t["priceType"] == "oneTime")


def payment_for(order, token="tok-visa", amount=None, **extra):
    return {"account": {"id": "ba-andrea", "@referredType": "BillingAccount"},
            "paymentMethod": {"id": token, "@type": "tokenizedCard"},
            "totalAmount": amount or due(order),
            "paymentItem": [{"item": {"id": order["id"], "@referredType": "ProductOrder"}}], **extra}


def signed(body, timestamp=None, secret=None):
    """The provider's callback: its raw body and headers, signed as provider.sign does."""
    from chalicelib.payment import provider

    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json",
                 "Provider-Signature": provider.sign(raw, timestamp, secret)}


# orders and stock as the payment tests read them
def level(api, who, sid=CENTRAL):
    return api.call("GET", f"{STOCK}/{sid}", who)[1]["productStockLevel"]["amount"]


def order(api, who, *offerings):
    status, doc, _ = api.call("POST", ORDERS, who, andrea_order(*offerings))
    assert status == 201, doc
    return doc


def read_order(api, who, oid):
    return api.call("GET", f"{ORDERS}/{oid}", who)[1]
