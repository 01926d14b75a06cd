"""An amendment adding a contract product to an order in flight is credit-checked like a new order."""
import datetime as dt

from chalicelib import tmf
from tests.credit.conftest import CUSTOMER
from tests.support.orders import items_with, load_order, patch_order, placed


def test_an_amendment_adding_a_contract_product_is_refused_after_a_refusal(api, demo, andrea, agent, silent, pump,
                                                                           bureau_calls):
    order = placed(api, andrea, pump, "po-tv-max")
    now = tmf.now()
    refused = {"creditProfileDate": tmf.iso(now), "decision": "refuse", "@type": "CreditProfile",
               "validFor": {"startDateTime": tmf.iso(now), "endDateTime": tmf.iso(now + dt.timedelta(days=30))}}
    assert api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent, {"creditProfile": [refused]})[0] == 200
    before = load_order(order["id"]).version
    added = {"id": "9", "action": "add", "productOffering": {"id": "po-mobile-unlimited"}}
    status, error, _ = patch_order(api, andrea, order["id"], [*items_with(order), added])
    assert (status, error["code"]) == (422, "creditRefused"), error
    assert load_order(order["id"]).version == before and bureau_calls == []
