"""Quote versions, quotes from a basket, and quote events on the hub."""
from tests.quote.conftest import ANDREA, CARTS, QUOTES, new_quote, stored, valid
from tests.support.orders import item


def test_a_sent_quote_changed_is_a_new_version_and_the_old_one_is_kept(api, demo, agent, andrea):
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2), customer=ANDREA))
    qid = doc["id"]
    _, sent, _ = api.call("PATCH", f"{QUOTES}/{qid}", agent, {"state": "approved"})
    assert sent["state"] == "approved" and sent["version"] == "1"
    status, changed, _ = api.call("PATCH", f"{QUOTES}/{qid}", agent, {"discount": {"percentage": 5}})
    assert status == 200 and changed["version"] == "2" and changed["state"] == "inProgress" and valid(changed)
    status, old, _ = api.call("GET", f"{QUOTES}/{qid}?version=1", andrea)
    assert status == 200 and old == sent and valid(old)
    assert api.call("GET", f"{QUOTES}/{qid}?version=7", andrea)[0] == 404
    assert sorted(r["pk"]["S"] for r in stored()) == sorted([qid, f"{qid}#v1"])
    _, listed, _ = api.call("GET", QUOTES, andrea)
    assert [q["id"] for q in listed] == [qid] and listed[0]["version"] == "2"      # versions are not listed apart
    status, stale, _ = api.call("PATCH", f"{QUOTES}/{qid}", {**agent, "If-Match": '"1"'}, {"description": "x"})
    assert status == 412


def test_a_customer_quotes_her_own_basket(api, demo, andrea):
    _, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-mobile-unlimited", 2), item("po-phone-x")]})
    status, doc, _ = api.call("POST", QUOTES, andrea, {"shoppingCart": {"id": cart["id"]}})
    assert status == 201 and valid(doc), doc
    assert doc["shoppingCart"]["id"] == cart["id"] and [i["quantity"] for i in doc["quoteItem"]] == [2, 1]
    assert doc["relatedParty"] == [{"id": ANDREA, "role": "customer", "@referredType": "Customer"}]
    status, error, _ = api.call("POST", QUOTES, andrea, {"shoppingCart": {"id": cart["id"]}, "quoteItem": []})
    assert status == 400


def test_quote_events_on_the_hub(api, demo, agent, pump, monkeypatch):
    from chalicelib.hub import service as hub

    published = []
    monkeypatch.setattr(hub, "publish", lambda api_name, events: published.append((api_name, events)) or 0)
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(("po-mobile-unlimited", 2), customer=ANDREA))
    api.call("PATCH", f"{QUOTES}/{doc['id']}", agent, {"state": "cancelled"})
    pump.drain()
    kinds = [e["eventType"] for name, events in published if name == "quoteManagement" for e in events]
    # cancelled: its state, and effectiveQuoteCompletionDate (an attribute) set
    assert kinds == ["QuoteCreateEvent", "QuoteStateChangeEvent", "QuoteAttributeValueChangeEvent"]
    event = next(e for _, events in published for e in events if e["eventType"] == "QuoteStateChangeEvent")
    assert event["event"]["quote"]["state"] == "cancelled"
    assert valid({k: v for k, v in event.items() if not k.startswith("_")}, "QuoteStateChangeEvent")
