"""The credit check through the API: checkout asks the bureau once per validity period and records
the decision on the customer; a refusal or too many contract lines is a TMF 422 with nothing
written; a deposit is a one-off "Deposit" price in the order's one-off total; TMF679 answers
creditCheckRequired / creditRefused; agents see the decision in the 360 view; only agents set a
credit profile and only its customer (or an agent) reads it."""
import datetime as dt
import json
import pathlib

import jsonschema
import pytest

from chalicelib import tmf
from tests.credit.conftest import CUSTOMER, ORDERS, QUALIFY, order
from tests.ctk.newman import SHARED
from tests.support.names import CARTS
from tests.support.orders import andrea_order
from tests.support.stored import stored_items

SPECS = SHARED / "tmf" / "specs"


def valid(doc, spec, definition):
    definitions = json.loads(pathlib.Path(SPECS / spec).read_text())["definitions"]
    validator = jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": definitions})
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    return True


def one_off(order_doc):
    return [t["price"]["taxIncludedAmount"] for t in order_doc["orderTotalPrice"] if t["priceType"] == "oneTime"]


def profiles(api, agent, cid):
    status, doc, _ = api.call("GET", f"{CUSTOMER}/customer/{cid}", agent)
    assert status == 200, doc
    return doc.get("creditProfile") or []


def test_demo_customers_are_approved_and_order_without_asking_the_bureau(api, demo, andrea, agent, bureau_calls):
    status, placed, _ = api.call("POST", ORDERS, andrea, andrea_order("po-mobile-unlimited"))
    assert status == 201, placed
    assert bureau_calls == [] and not any(p.get("name") == "Deposit" for i in placed["productOrderItem"]
                                          for p in i.get("itemPrice", []))
    current = profiles(api, agent, "cust-andrea")[0]
    assert current["decision"] == "approve" and valid(current, "TMF629-Customer-v4.0.0.swagger.json", "CreditProfile")


def test_a_deposit_is_a_one_off_price_of_the_order_and_the_decision_is_reused(api, demo, customer, agent,
                                                                             bureau_calls):
    cid, her = customer("Dana Deposit")
    status, placed, _ = api.call("POST", ORDERS, her, order("po-mobile-unlimited", "po-phone-x-case"))
    assert status == 201, placed
    plan, case = placed["productOrderItem"]
    deposits = [p for p in plan["itemPrice"] if p["name"] == "Deposit"]
    assert [(d["priceType"], d["price"]["taxIncludedAmount"]) for d in deposits] == [("oneTime", {"unit": "EUR",
                                                                                                 "value": 100})]
    assert not [p for p in case["itemPrice"] if p["name"] == "Deposit"]          # an accessory needs no check
    assert one_off(placed) == [{"unit": "EUR", "value": 119}]                      # the case (19) and the deposit
    assert valid(placed, "TMF622-ProductOrder-v4.0.0.swagger.json", "ProductOrder")
    assert bureau_calls == [cid]
    recorded = profiles(api, agent, cid)
    assert len(recorded) == 1 and recorded[0]["decision"] == "approveWithDeposit"
    assert valid(recorded[0], "TMF629-Customer-v4.0.0.swagger.json", "CreditProfile")
    status, again, _ = api.call("POST", ORDERS, her, order("po-mobile-unlimited", quantity=2))
    assert status == 201, again
    assert one_off(again) == [{"unit": "EUR", "value": 200}]                       # per item checked
    assert bureau_calls == [cid] and profiles(api, agent, cid) == recorded         # reused, not asked again


def test_a_refused_customer_gets_a_tmf_error_and_nothing_is_ordered(api, demo, customer, agent, bureau_calls):
    cid, her = customer("Rita Refuse")
    for _ in range(2):
        status, error, _ = api.call("POST", ORDERS, her, order("po-phone-x-case", "po-mobile-unlimited"))
        assert (status, error["code"], error["@type"]) == (422, "creditRefused", "Error"), error
        assert valid(error, "TMF622-ProductOrder-v4.0.0.swagger.json", "Error")
    assert stored_items("order") == [] and bureau_calls == [cid]                          # asked once, then reused
    assert profiles(api, agent, cid)[0]["decision"] == "refuse"
    status, placed, _ = api.call("POST", ORDERS, her, order("po-phone-x-case"))     # no contract: she may buy it
    assert status == 201, placed
    assert bureau_calls == [cid]


def test_a_line_limit_counts_the_contract_lines_ordered(api, demo, customer, bureau_calls):
    cid, her = customer("Lee Limit")
    status, error, _ = api.call("POST", ORDERS, her, order("po-mobile-unlimited", quantity=2))
    assert (status, error["code"]) == (422, "lineLimitExceeded"), error
    assert "at most 1 contract line" in error["message"] and stored_items("order") == []
    status, placed, _ = api.call("POST", ORDERS, her, order("po-mobile-unlimited"))
    assert status == 201, placed
    assert bureau_calls == [cid]


def test_the_same_basket_checked_out_twice_asks_the_bureau_once(api, demo, customer, bureau_calls):
    cid, her = customer("Dana Deposit")
    status, cart, _ = api.call("POST", CARTS, her, {"cartItem": [{"productOffering": {"id": "po-mobile-unlimited"}}]})
    assert status == 201, cart
    first = api.call("POST", ORDERS, her, {"shoppingCart": {"id": cart["id"]}})
    second = api.call("POST", ORDERS, her, {"shoppingCart": {"id": cart["id"]}})
    assert first[0] == 201 and second[0] in (200, 201), (first, second)
    assert first[1]["id"] == second[1]["id"] and one_off(second[1]) == [{"unit": "EUR", "value": 100}]
    assert bureau_calls == [cid] and len(stored_items("order")) == 1


def test_contract_products_without_a_named_customer_are_refused(demo, bureau_calls):
    """Capture qualifies an order without a customer first (no address: 422 notQualified), so the
    guard is shown on the checkout hook itself."""
    from chalicelib.basket.service import catalogue
    from chalicelib.credit import service
    from chalicelib.errors import ApiError

    plan = catalogue.offering("po-mobile-unlimited")
    items = [{"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": plan["id"]}}]
    with pytest.raises(ApiError) as refused:
        service.order_checkout(None, None, items, {"1": plan}, {}, [])
    assert (refused.value.status, refused.value.code, refused.value.items) == (422, "creditCheckRequired", ("1",))
    assert bureau_calls == []


def test_an_expired_decision_is_asked_again(api, demo, agent, andrea, bureau_calls):
    past = tmf.now() - dt.timedelta(days=200)
    expired = {"creditProfileDate": tmf.iso(past), "decision": "refuse", "@type": "CreditProfile",
               "validFor": {"startDateTime": tmf.iso(past), "endDateTime": tmf.iso(past + dt.timedelta(days=90))}}
    status, doc, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent, {"creditProfile": [expired]})
    assert status == 200, doc
    status, placed, _ = api.call("POST", ORDERS, andrea, andrea_order("po-mobile-unlimited"))
    assert status == 201, placed
    assert bureau_calls == ["cust-andrea"]
    assert [p["decision"] for p in profiles(api, agent, "cust-andrea")] == ["approve", "refuse"]


def test_an_agents_decision_on_the_record_is_honoured(api, demo, agent, andrea, bureau_calls):
    now = tmf.now()
    refused = {"creditProfileDate": tmf.iso(now), "decision": "refuse", "@type": "CreditProfile",
               "validFor": {"startDateTime": tmf.iso(now), "endDateTime": tmf.iso(now + dt.timedelta(days=30))}}
    assert api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent, {"creditProfile": [refused]})[0] == 200
    status, error, _ = api.call("POST", ORDERS, andrea, andrea_order("po-mobile-unlimited"))
    assert (status, error["code"]) == (422, "creditRefused") and bureau_calls == []


def test_qualification_answers_credit_reasons_for_known_customers(api, demo, customer, andrea, web, headers):
    def results(who, *offerings, **extra):
        status, doc, _ = api.call("POST", QUALIFY, who, {"productOfferingQualificationItem": [
            {"id": str(n), "productOffering": {"id": o}} for n, o in enumerate(offerings, 1)], **extra})
        assert status == 201, doc
        return {i["productOffering"]["id"]: (i["qualificationItemResult"],
                                             [r["code"] for r in i.get("eligibilityUnavailabilityReason", [])])
                for i in doc["productOfferingQualificationItem"]}

    cid, her = customer("Rita Refuse")
    assert results(her, "po-mobile-unlimited", "po-phone-x-case") == {
        "po-mobile-unlimited": ("undetermined", ["creditCheckRequired"]), "po-phone-x-case": ("qualified", [])}
    assert api.call("POST", ORDERS, her, order("po-mobile-unlimited"))[1]["code"] == "creditRefused"
    assert results(her, "po-mobile-unlimited", "po-phone-x-case") == {
        "po-mobile-unlimited": ("unqualified", ["creditRefused"]), "po-phone-x-case": ("qualified", [])}
    assert results(andrea, "po-mobile-unlimited") == {"po-mobile-unlimited": ("qualified", [])}
    assert results(web, "po-mobile-unlimited", place=[{"postCode": "BS1 4DJ"}]) == {
        "po-mobile-unlimited": ("qualified", [])}     # anonymous: about the offering and the place only


def test_agents_see_the_decision_in_the_360_view(api, demo, customer, agent, headers):
    cid, her = customer("Lee Limit")
    status, view, _ = api.call("GET", f"{CUSTOMER}/customer/{cid}/view360", agent)
    assert status == 200 and view["creditCheck"] == {"valid": False, "explanation": view["creditCheck"]["explanation"]}
    assert api.call("POST", ORDERS, her, order("po-mobile-unlimited"))[0] == 201
    status, view, _ = api.call("GET", f"{CUSTOMER}/customer/{cid}/view360", agent)
    shown = view["creditCheck"]
    assert shown["valid"] and shown["decision"] == "lineLimit" and shown["lineLimit"] == 1
    assert "at most 1 contract line" in shown["explanation"] and shown["validFor"]["endDateTime"][:10] in shown["explanation"]
    status, view, _ = api.call("GET", f"{CUSTOMER}/customer/cust-andrea/view360", agent)
    assert view["creditCheck"]["decision"] == "approve" and view["creditCheck"]["valid"]


def test_only_agents_set_a_credit_profile_and_only_she_reads_hers(api, demo, andrea, agent, web, headers):
    now = tmf.now()
    mine = {"creditProfileDate": tmf.iso(now), "decision": "approve",
            "validFor": {"startDateTime": tmf.iso(now), "endDateTime": tmf.iso(now + dt.timedelta(days=900))}}
    before = profiles(api, agent, "cust-andrea")
    status, error, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", andrea, {"creditProfile": [mine]})
    assert status == 403 and "creditProfile" in error["message"]
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    for path in ("customer/cust-andrea", "customer/cust-andrea/view360"):
        assert api.call("GET", f"{CUSTOMER}/{path}", stacy)[0] == 404               # never another's
        assert api.call("GET", f"{CUSTOMER}/{path}", web)[0] == 403                 # a channel reads no customer
    assert api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", stacy, {"creditProfile": [mine]})[0] == 404
    assert api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", web, {"creditProfile": [mine]})[0] == 403
    status, doc, _ = api.call("GET", f"{CUSTOMER}/customer/cust-andrea", andrea)      # her own: yes
    assert status == 200 and doc["creditProfile"] == before
    assert profiles(api, agent, "cust-andrea") == before


GOOD = {"creditProfileDate": "2026-12-01T09:00:00Z", "decision": "approve",
        "validFor": {"startDateTime": "2026-12-01T09:00:00Z", "endDateTime": "2027-12-01T09:00:00Z"}}


@pytest.mark.parametrize("value", ["approve", [1], [GOOD] * 21, GOOD, [{"decision": "approve"}],
                                   [{k: v for k, v in GOOD.items() if k != "validFor"}],
                                   [{**GOOD, "decision": "aprove"}], [{**GOOD, "lineLimit": -1}],
                                   [{**GOOD, "creditScore": "high"}], [{**GOOD, "validFor": "forever"}]])
def test_a_malformed_credit_profile_is_refused(api, demo, agent, value):
    before = profiles(api, agent, "cust-andrea")
    status, error, _ = api.call("PATCH", f"{CUSTOMER}/customer/cust-andrea", agent, {"creditProfile": value})
    assert status == 400 and error["@type"] == "Error", error
    assert profiles(api, agent, "cust-andrea") == before
