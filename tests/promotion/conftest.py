"""Fixtures for the promotion tests (moto in-process, chalice test client) with the demo catalogue,
customers, rules and the demo promotion loaded. Every TMF671 answer is held to the v4.0.0
swagger's schemas (there is no TMF671 conformance kit): `valid`."""
import pytest

from tests.support import demo as demo_data
from tests.support import tmf_spec
from tests.support.names import CARTS  # noqa: F401
from tests.support.stored import stored_items

BASE = "/tmf-api/promotionManagement/v4"
PROMOTIONS = f"{BASE}/promotion"
SPEC = "TMF671-Promotion-v4.0.0"


@pytest.fixture
def demo(aws, pump):
    demo_data.load("catalog", "customer", "rules", "promotion", pump=pump)


@pytest.fixture
def marketing(headers):
    return headers("marketing", sub="mkt-mia")


def spec():
    return next(tmf_spec.Spec(p) for p in tmf_spec.v4_specs() if p.name.startswith(SPEC))


def valid(body, method="GET", path="/promotion/{id}", status=200):
    """Raises unless `body` is what the TMF671 v4 swagger documents for that operation's answer."""
    problems = spec().problems(body, method, path, status)
    assert problems == [], problems
    return True


def stored():
    """Everything in the promotion table (tests may Scan; the application never does)."""
    return stored_items("promotion")


def promotion(name="Three months of TV free", **extra):
    """A promotion body: 3 free months of TV Max for the Home Security campaign, on the web."""
    return {"name": name, "lifecycleStatus": "active", "promotionType": "Discount",
            "pattern": [{"name": "campaign visitors", "priority": 1,
                         "criteriaGroup": [{"criteria": [
                             {"criteriaParameter": "campaignCode", "criteriaOperator": "=",
                              "criteriaValue": "camp-home-security"},
                             {"criteriaParameter": "channel", "criteriaOperator": "=", "criteriaValue": "web"}]}],
                         "action": [{"actionType": "freeMonths", "actionValue": "3",
                                     "actionEntityRef": {"id": "po-tv-max", "@referredType": "ProductOffering"}}]}],
            **extra}
