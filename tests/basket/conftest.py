"""Paths of the basket and rules component tests. Their fixtures (api, role headers, the demo
catalogue, customers and rules) are the shared ones: tests/support/fixtures.py."""
from tests.support.names import CARTS, CUSTOMER, PI, POQ  # noqa: F401 (this folder's names too)

BASE = "/tmf-api/shoppingCart/v4"


