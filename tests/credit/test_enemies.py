"""The credit check against what goes wrong: a malformed deposit is refused on write (400) and one
stored before that check (or by hand) never makes checkout fail (it is no decision to reuse: the
bureau is asked again); twenty first checkouts at once ask the bureau once; orders not fulfilled
yet count toward a line limit."""
import concurrent.futures
import datetime as dt
import threading

import pytest

from chalicelib import tmf
from tests.credit.conftest import CUSTOMER, ORDERS, order
from tests.support.stored import stored_items


def _deposit_profile(deposit):
    now = tmf.now()
    doc = {"creditProfileDate": tmf.iso(now), "decision": "approveWithDeposit", "@type": "CreditProfile",
           "validFor": {"startDateTime": tmf.iso(now), "endDateTime": tmf.iso(now + dt.timedelta(days=30))}}
    return {**doc, "deposit": deposit} if deposit is not ... else doc


@pytest.mark.parametrize("deposit", [..., None, "100 EUR", [], {"unit": "EUR"}, {"perItem": 100},
                                     {"perItem": "abc", "unit": "EUR"}, {"perItem": "100", "unit": "EUR"},
                                     {"perItem": True, "unit": "EUR"}, {"perItem": -1, "unit": "EUR"},
                                     {"perItem": 1e9, "unit": "EUR"}, {"perItem": 100, "unit": "euro"},
                                     {"perItem": 100, "unit": 978}])
def test_a_malformed_deposit_is_refused_on_write(api, demo, agent, deposit):
    before = api.call("GET", f"{CUSTOMER}/customer/cust-andrea", agent)[1]
    status, error, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent,
                                {"creditProfile": [_deposit_profile(deposit)]})
    assert status == 400 and error["@type"] == "Error", error
    assert api.call("GET", f"{CUSTOMER}/customer/cust-andrea", agent)[1] == before


def test_a_well_formed_deposit_is_charged(api, demo, agent, andrea, bureau_calls):
    status, doc, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent,
                              {"creditProfile": [_deposit_profile({"perItem": 49.5, "unit": "EUR"})]})
    assert status == 200, doc
    status, placed, _ = api.call("POST", ORDERS, andrea, order("po-mobile-unlimited"))
    assert status == 201, placed
    deposits = [p["price"]["taxIncludedAmount"] for p in placed["productOrderItem"][0]["itemPrice"]
                if p["name"] == "Deposit"]
    assert deposits == [{"unit": "EUR", "value": 49.5}] and bureau_calls == []


@pytest.mark.parametrize("deposit", [{"perItem": "abc", "unit": "EUR"}, "100 EUR", {"perItem": 5}, None,
                                     {"perItem": "NaN", "unit": "EUR"}])
def test_a_malformed_deposit_stored_before_never_fails_a_checkout(api, demo, agent, andrea, bureau_calls, deposit):
    """Stored straight in the table (as before the schema knew deposits): checkout asks the bureau
    again and records its answer; no 500."""
    from chalicelib.customer import store

    doc, version = store.load_customer("cust-andrea")
    store.write_customer({**doc, "creditProfile": [_deposit_profile(deposit)]}, version)
    status, placed, _ = api.call("POST", ORDERS, andrea, order("po-mobile-unlimited"))
    assert status == 201, placed
    assert bureau_calls == ["cust-andrea"]
    assert store.load_customer("cust-andrea")[0]["creditProfile"][0]["decision"] == "approve"
    status, view, _ = api.call("GET", f"{CUSTOMER}/customer/cust-andrea/view360", agent)
    assert status == 200 and view["creditCheck"]["decision"] == "approve"


def test_twenty_first_checkouts_at_once_ask_the_bureau_once(api, demo, customer, agent, bureau_calls, monkeypatch):
    from chalicelib.auth import Caller
    from chalicelib.credit import bureau
    from chalicelib.ordering import capture

    cid, _ = customer("Dana Deposit")
    slow = bureau.SimulatedBureau.report

    def report(self, doc):   # a bureau that takes a moment: the others arrive while it answers
        threading.Event().wait(0.3)
        return slow(self, doc)
    monkeypatch.setattr(bureau.SimulatedBureau, "report", report)
    her = Caller(sub=cid, role="customer", customer_id=cid, channel="web")
    start = threading.Barrier(20)

    def checkout(_):
        start.wait()
        doc, _, created = capture.create(order("po-mobile-unlimited"), her)
        return created and [p["price"]["taxIncludedAmount"]["value"] for i in doc["productOrderItem"]
                            for p in i["itemPrice"] if p["name"] == "Deposit"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        deposits = list(pool.map(checkout, range(20)))
    assert deposits == [[100]] * 20
    assert bureau_calls == [cid]
    assert len(api.call("GET", f"{CUSTOMER}/customer/{cid}", agent)[1]["creditProfile"]) == 1


def test_orders_not_fulfilled_yet_count_toward_a_line_limit(api, demo, customer, bureau_calls):
    cid, her = customer("Lee Limit")
    status, first, _ = api.call("POST", ORDERS, her, order("po-mobile-unlimited"))
    assert status == 201 and first["state"] in ("acknowledged", "pending"), first
    before = stored_items("order")
    status, error, _ = api.call("POST", ORDERS, her, order("po-mobile-unlimited"))   # the first is still in flight
    assert (status, error["code"]) == (422, "lineLimitExceeded"), error
    assert stored_items("order") == before and bureau_calls == [cid]
    status, placed, _ = api.call("POST", ORDERS, her, order("po-phone-x-case"))       # no contract: fine
    assert status == 201, placed


def test_pending_contract_lines_count_open_items_of_contract_offerings_only():
    from chalicelib.credit import domain

    kinds = {"po-plan": domain.CONTRACT, "po-phone": domain.FINANCING}
    orders = [{"productOrderItem": [
        {"action": "add", "state": "acknowledged", "quantity": 2, "productOffering": {"id": "po-plan"}},
        {"action": "add", "state": "completed", "productOffering": {"id": "po-plan"}},      # held now: counted there
        {"action": "add", "state": "cancelled", "productOffering": {"id": "po-plan"}},
        {"action": "modify", "state": "acknowledged", "productOffering": {"id": "po-plan"}},
        {"action": "add", "state": "inProgress", "productOffering": {"id": "po-phone"}},
        {"action": "add", "productOffering": {"id": "po-plan"}}]}]
    assert domain.pending_contract_lines(orders, kinds.get) == 3
