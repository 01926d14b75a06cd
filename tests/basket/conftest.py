"""Paths of the basket and rules component tests. Their fixtures (api, role headers, the demo
catalogue, customers and rules) are the shared ones: tests/support/fixtures.py."""

BASE = "/tmf-api/shoppingCart/v4"
CARTS = f"{BASE}/shoppingCart"
POQ = "/tmf-api/productOfferingQualification/v4"
CUSTOMER = "/tmf-api/customerManagement/v4"
PI = "/tmf-api/partyInteraction/v4"


