"""Fixtures for the basket and rules component tests (moto in-process, chalice test client),
with the demo catalogue, customers and rules loaded."""
import pytest

from chalicelib import aws, settings
from tests.support import demo as shop
from tests.customer.conftest import Api

BASE = "/tmf-api/shoppingCart/v4"
CARTS = f"{BASE}/shoppingCart"
POQ = "/tmf-api/productOfferingQualification/v4"
CUSTOMER = "/tmf-api/customerManagement/v4"
PI = "/tmf-api/partyInteraction/v4"


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
def agent(headers):
    return headers("agent", channel="callcenter", sub="agent-007")


@pytest.fixture
def admin(headers):
    return headers("catalog-admin", sub="cat-admin")


@pytest.fixture
def demo(aws, pump):
    shop.load("catalog", "customer", "rules", pump=pump)


def stored_baskets():
    """Everything in the basket table (tests may Scan; the application never does)."""
    ddb = aws.client("dynamodb")
    return ddb.scan(TableName=settings.table_name("basket"), ConsistentRead=True)["Items"]


def item(offering, quantity=None, **chars):
    out = {"productOffering": {"id": offering}}
    if quantity is not None:
        out["quantity"] = quantity
    if chars:
        out["product"] = {"productCharacteristic": [{"name": k, "value": v} for k, v in chars.items()]}
    return out
