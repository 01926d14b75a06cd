"""Demo basket for the local runtime (fixed id, kept if present): Andrea's Home Security basket,
started on the web portal from the campaign link and left unfinished (seed 000, step 3)."""
from __future__ import annotations

from chalicelib.auth import Caller
from chalicelib.basket import service, store
from chalicelib.customer.demo import HOME_SECURITY_JOURNEY

ANDREA_BASKET = "cart-andrea"


def load() -> int:
    andrea = Caller(sub="cust-andrea", role="customer", channel="web", customer_id="cust-andrea")
    body = {"cartItem": [{"productOffering": {"id": "po-home-security"},
                          "product": {"productCharacteristic": [{"name": "cameras", "value": 4}]}}],
            "context": {"campaignCode": "camp-home-security", "device": "home PC"}}
    try:
        service.create(body, andrea, HOME_SECURITY_JOURNEY, basket_id=ANDREA_BASKET)
    except store.StaleVersion:
        return 0
    return 1
