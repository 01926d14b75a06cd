"""Fixtures for the stock tests (moto in-process, chalice test client), with the demo catalogue,
customers and the demo stock loaded. Reuses the basket fixtures (api, headers, roles)."""
import json
import pathlib

import jsonschema
import pytest

from tests.ctk.newman import SHARED
from tests.support import demo as demo_data
from tests.support.names import CENTRAL, STOCK  # noqa: F401 (this folder's names too)
from tests.support.stored import stored_items

BASE = "/tmf-api/stockManagement/v4"
RESERVE = f"{BASE}/reserveProductStock"
SPEC = SHARED / "tmf" / "specs" / "TMF687-Stock-v4.0.0.swagger.json"
CORK = "po-phone-x--store-cork-patrick"          # the demo's last unit
DUBLIN = "po-phone-x--store-dublin-grafton"


@pytest.fixture
def demo(aws, pump):
    demo_data.load("catalog", "customer", "stock", pump=pump)


@pytest.fixture
def stack(headers):
    return headers("stack", sub="csp-stack-b", stack="csp-stack-b")


@pytest.fixture
def marketing(headers):
    return headers("marketing", sub="mkt")


def stored():
    """Everything in the stock table (tests may Scan; the application never does)."""
    return stored_items("stock")


def _spec():
    return json.loads(pathlib.Path(SPEC).read_text())


def valid(doc, definition):
    """Raises if `doc` is not a TMF687 v4 `definition` (the swagger definitions, with jsonschema)."""
    spec = _spec()
    validator = jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]})
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return True


def required(definition):
    return set(_spec()["definitions"][definition].get("required") or [])


def reservation(*items, **extra):
    return {"reserveProductStockItem": [
        {"id": str(n), "quantityRequested": {"amount": q}, "productStockRequested": {"id": sid}}
        for n, (sid, q) in enumerate(items, 1)], **extra}
