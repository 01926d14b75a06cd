"""Fixtures for the ordering tests (moto in-process, chalice test client), with the demo
catalogue, customers and rules loaded. Reuses the basket tests' token headers."""
import pytest

from tests.support.names import CANCELS, CARTS, CUSTOMER, ORDERS  # noqa: F401 (this folder's names too)

BASE = "/tmf-api/productOrderingManagement/v4"
LISTENER = f"{BASE}/listener/productOrderStateChangeEvent"


@pytest.fixture
def stack(headers):
    def make(name):
        return headers("stack", sub=name, stack=name)
    return make


