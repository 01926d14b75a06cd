"""Fixtures for the ordering tests (moto in-process, chalice test client), with the demo
catalogue, customers and rules loaded. Reuses the basket tests' token headers."""
import pytest


BASE = "/tmf-api/productOrderingManagement/v4"
ORDERS = f"{BASE}/productOrder"
CANCELS = f"{BASE}/cancelProductOrder"
LISTENER = f"{BASE}/listener/productOrderStateChangeEvent"
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
CUSTOMER = "/tmf-api/customerManagement/v4"


@pytest.fixture
def stack(headers):
    def make(name):
        return headers("stack", sub=name, stack=name)
    return make


