"""Bad input to quotes: each a clear 4xx with a TMF error body, and nothing written. Accepting an
expired quote, a version that is not the latest sent, ordering a quote that is not accepted, a
discount beyond what an approver may grant, another customer's quote, and malformed bodies."""
import datetime as dt

import pytest

from chalicelib import tmf
from tests.quote.conftest import ANDREA, BASE, ORDERS, QUOTES, new_quote, stored, valid


def _error(status, body, code=None):
    assert body["@type"] == "Error" and body["status"] == str(status) and body["message"], body
    assert valid(body, "Error")
    if code:
        assert body["code"] == code, body
    return True


def _sent(api, agent, customer=ANDREA, **extra):
    """An approved (sent) quote: no rule fires."""
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2), customer=customer, **extra))
    status, doc, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", agent, {"state": "approved"})
    assert status == 200 and doc["state"] == "approved", doc
    return doc


@pytest.mark.parametrize("body, code", [
    ({"relatedParty": [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}]}, "invalidInput"),
    (new_quote(("po-mobile-unlimited", 1001)), "invalidInput"),
    (new_quote(("po-mobile-unlimited", 1), discount={"percentage": 150}), "invalidInput"),
    (new_quote(*[("po-mobile-unlimited", 1)] * 1001), "invalidInput"),
    (new_quote(("po-mobile-unlimited", 1), state="accepted"), "readOnlyField"),
    (new_quote(("po-no-such-offering", 1)), None),
    ({"quoteItem": [{"productOffering": {"id": "po-mobile-unlimited"}}]}, "identifyCustomer"),
    (new_quote(("po-mobile-unlimited", 1), customer="cust-nobody"), "unknownCustomer"),
])
def test_bad_bodies_are_refused_and_nothing_is_written(api, demo, agent, body, code):
    before = stored()
    status, error, _ = api.call("POST", QUOTES, agent, body)
    assert status in (400, 422) and _error(status, error, code)
    assert stored() == before


def test_a_discount_beyond_what_any_approver_may_grant_is_refused(api, demo, agent):
    before = stored()
    status, error, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2), discount={"percentage": 20},
                                                                 quoteItem=[{"productOffering": {"id": "po-mobile-unlimited"},
                                                                             "discount": {"percentage": 10}}]))
    assert status == 422 and _error(422, error, "discountBeyondLimit")   # 10% then 20%: 28% > 25%
    assert stored() == before


def test_only_agents_agree_discounts(api, demo, andrea):
    before = stored()
    status, error, _ = api.call("POST", QUOTES, andrea, new_quote(("po-mobile-unlimited", 1), discount={"percentage": 5}))
    assert status == 403 and _error(403, error, "forbidden")
    assert stored() == before


def test_an_approver_may_not_grant_beyond_their_own_limit(api, demo, agent, headers, monkeypatch):
    from chalicelib.quote import domain

    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2), customer=ANDREA,
                                                          discount={"percentage": 20}))
    _, doc, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", agent, {"state": "approved"})
    assert doc["state"] == "pending"
    rules = {**domain.approval_rules(), "maxDiscountPercent": {"agent": 10, "sales-manager": 15, "director": 30}}
    monkeypatch.setattr(domain, "approval_rules", lambda: rules)
    before = stored()
    status, error, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", headers("sales-manager", sub="mgr"), {"state": "approved"})
    assert status == 403 and _error(403, error) and "beyond what role 'sales-manager' may grant" in error["message"]
    assert stored() == before


def test_another_customers_quote_is_not_found_to_her(api, demo, agent, headers):
    doc = _sent(api, agent)
    stacy = headers("customer", channel="app", customerId="cust-stacy", sub="cust-stacy")
    before = stored()
    for method, path, body in (("GET", f"{QUOTES}/{doc['id']}", None),
                               ("PATCH", f"{QUOTES}/{doc['id']}", {"state": "accepted", "version": "1"}),
                               ("POST", ORDERS, {"quote": [{"id": doc["id"]}]})):
        status, error, _ = api.call(method, path, stacy, body)
        assert status == 404 and _error(404, error), (method, path)
    assert api.call("GET", QUOTES, stacy)[1] == []
    assert stored() == before


def test_ordering_a_quote_not_accepted_is_refused(api, demo, agent, andrea):
    doc = _sent(api, agent)
    before = stored()
    status, error, _ = api.call("POST", ORDERS, andrea, {"quote": [{"id": doc["id"]}]})
    assert status == 409 and _error(409, error, "quoteNotAccepted")
    assert stored() == before
    assert api.call("GET", f"{ORDERS}/quote-{doc['id']}", andrea)[0] == 404


def test_accepting_needs_the_latest_version(api, demo, agent, andrea):
    doc = _sent(api, agent)
    qid = doc["id"]
    status, changed, _ = api.call("PATCH", f"{QUOTES}/{qid}", agent,
                                  {"quoteItem": [{"productOffering": {"id": "po-mobile-unlimited"}, "quantity": 3}]})
    assert status == 200 and changed["version"] == "2" and changed["state"] == "inProgress"
    _, changed, _ = api.call("PATCH", f"{QUOTES}/{qid}", agent, {"state": "approved"})
    before = stored()
    status, error, _ = api.call("PATCH", f"{QUOTES}/{qid}", andrea, {"state": "accepted", "version": "1"})
    assert status == 409 and _error(409, error, "notLatestVersion")
    status, error, _ = api.call("PATCH", f"{QUOTES}/{qid}", andrea, {"state": "accepted"})
    assert status == 400 and _error(400, error, "versionRequired")
    assert stored() == before
    status, done, _ = api.call("PATCH", f"{QUOTES}/{qid}", andrea, {"state": "accepted", "version": "2"})
    assert status == 200 and done["state"] == "accepted"


def test_accepting_an_expired_quote_is_refused_and_the_sweep_cancels_it(api, demo, agent, andrea, monkeypatch):
    from chalicelib.quote import service

    doc = _sent(api, agent)
    later = tmf.now() + dt.timedelta(days=31)
    monkeypatch.setattr(tmf, "now", lambda: later)
    before = stored()
    status, error, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", andrea, {"state": "accepted", "version": "1"})
    assert status == 409 and _error(409, error, "quoteExpired")
    assert stored() == before
    assert service.sweep(tmf.iso(later)) == 1 and service.sweep(tmf.iso(later)) == 0
    _, swept, _ = api.call("GET", f"{QUOTES}/{doc['id']}", andrea)
    assert swept["state"] == "cancelled" and swept["stateReason"] == "expired"
    status, error, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", andrea, {"state": "accepted", "version": "1"})
    assert status == 409 and _error(409, error, "invalidStateTransition")


def test_roles_and_moves_the_life_cycle_does_not_allow(api, demo, agent, andrea, headers):
    doc = _sent(api, agent)
    manager = headers("sales-manager", sub="mgr")
    before = stored()
    cases = [(andrea, {"state": "pending"}, 409), (agent, {"state": "accepted", "version": "1"}, 403),
             (andrea, {"quoteItem": [{"productOffering": {"id": "po-tv-max"}}]}, 409),
             (manager, {"quoteItem": [{"productOffering": {"id": "po-tv-max"}}]}, 403),
             (agent, {"state": "approved", "description": "x"}, 400), (agent, {"id": "other"}, 400),
             (headers("marketing", sub="m"), {"state": "cancelled"}, 403)]
    for who, patch, status in cases:
        got, error, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", who, patch)
        assert got == status and _error(status, error), (patch, error)
    assert stored() == before
    _, pending, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2), customer=ANDREA,
                                                              discount={"percentage": 12}))
    _, pending, _ = api.call("PATCH", f"{QUOTES}/{pending['id']}", agent, {"state": "approved"})
    status, error, _ = api.call("PATCH", f"{QUOTES}/{pending['id']}", manager, {"state": "rejected"})
    assert status == 400 and _error(400, error, "reasonRequired")
    status, done, _ = api.call("PATCH", f"{QUOTES}/{pending['id']}", manager,
                               {"state": "rejected", "stateReason": "margin too thin"})
    assert status == 200 and done["state"] == "rejected" and done["authorization"][0]["state"] == "declined"
    assert done["authorization"][0]["reason"] == "margin too thin"


def test_links_that_are_not_quote_links_are_refused(api, demo, agent):
    from chalicelib.notify import links

    doc = _sent(api, agent)
    before = stored()
    for token in ("garbage", links.sign("basket.approve", f"{doc['id']}.v1"), links.sign("quote.accept", "no-version")):
        for method, path in (("GET", f"{BASE}/quoteLink/{token}"), ("POST", f"{BASE}/quoteLink/{token}/accept")):
            status, error, _ = api.call(method, path, {})
            assert status in (400, 410) and _error(status, error), (token, error)
    assert stored() == before


def test_null_items_another_channel_and_odd_versions_are_refused_not_crashed_on(api, demo, agent, andrea):
    """A quote's channel fixes its prices: it is not changed by PATCH (another channel's prices, or
    a malformed value that broke every later change); null items are a 400; ?version= takes digits."""
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2)))
    before = stored()
    for patch, code in (({"quoteItem": None}, "invalidInput"), ({"channel": [{"id": "store"}]}, "readOnlyField"),
                        ({"channel": "x"}, "readOnlyField")):
        status, error, _ = api.call("PATCH", f"{QUOTES}/{doc['id']}", agent, patch)
        assert status == 400 and _error(status, error, code), (patch, error)
    assert stored() == before
    for version in ("²", "9" * 5000, "-1", "1.0"):
        status, error, _ = api.call("GET", f"{QUOTES}/{doc['id']}?version={version}", agent)
        assert status == 404 and _error(status, error), (version[:10], status, error)
