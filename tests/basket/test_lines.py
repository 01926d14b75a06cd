"""A basket's lines as records of their own (issue 13 part 4): a change reads and writes only the
lines it names, whatever the basket holds; business baskets of 1,000 lines; the limits of one
change; lines gone after their basket; hub events that carry a small basket's items."""
import json

import pytest

from bench.harness import Calls
from chalicelib import settings
from chalicelib.basket import lines
from infra.local.listener import Listener
from tests.basket.conftest import BASE, CARTS
from tests.support.orders import item
from tests.support.stored import stored_items
from tests.support.concurrency import at_once

ACME = "cust-acme"


@pytest.fixture
def buyer(headers):
    """Raj, Acme's buyer: a business customer's contact."""
    return headers("customer", channel="web", customerId=ACME, sub="raj", partyId="party-acme-raj")


def _line(lid, oid="po-a", qty=1, status="active"):
    return {"id": lid, "productOffering": {"id": oid, "name": oid.upper()}, "quantity": qty, "status": status}


# --- the composition, without AWS ----------------------------------------------------------------
def test_the_composition_follows_every_kind_of_line_change():
    comp = lines.changed(lines.empty(), {}, {i["id"]: i for i in (_line("1", "po-a", 2), _line("2", "po-a", 3),
                                                                   _line("3", "po-b"))})
    assert comp["offerings"] == {"po-a": {"quantity": 5, "lines": 2, "name": "PO-A"},
                                 "po-b": {"quantity": 1, "lines": 1, "name": "PO-B"}}
    assert lines.line_count(comp) == 3 and lines.active_lines(comp) == 3
    # quantity changed, one deleted, one made inactive, one added
    after = lines.changed(comp, {"1": _line("1", "po-a", 2), "3": _line("3", "po-b"), "2": _line("2", "po-a", 3)},
                          {"1": _line("1", "po-a", 7), "3": None, "2": _line("2", "po-a", 3, "inactive"),
                           "4": _line("4", "po-c")})
    assert after["offerings"] == {"po-a": {"quantity": 7, "lines": 1, "name": "PO-A"},
                                  "po-c": {"quantity": 1, "lines": 1, "name": "PO-C"}}
    assert lines.line_count(after) == 3 and lines.active_lines(after) == 2
    assert [i["quantity"] for i in lines.sale(after)] == [7, 1]
    # the same change again (a retry recomputes it from what was read): the same result
    assert lines.changed(comp, {"1": _line("1", "po-a", 2)}, {"1": _line("1", "po-a", 7)}) == \
        lines.changed(comp, {"1": _line("1", "po-a", 2)}, {"1": _line("1", "po-a", 7)})


def test_places_follow_each_other_and_are_never_given_twice():
    numbers, comp = lines.places(lines.empty(), 3)
    more, comp = lines.places(comp, 2)
    assert numbers == [1, 2, 3] and more == [4, 5]


# --- through the API ---------------------------------------------------------------------------
def _calls(fn):
    calls = Calls()
    with calls.counting():
        result = fn()
    return calls, result


def test_adding_one_line_costs_the_same_calls_at_1_and_at_120_lines(api, buyer, demo):
    status, doc, _ = api.call("POST", CARTS, buyer, {"cartItem": [item("po-mobile-unlimited")]})
    assert status == 201, doc
    path = f"{CARTS}/{doc['id']}?fields=cartTotalPrice"
    add = {"cartItem": [item("po-mobile-unlimited")]}
    small, answer = _calls(lambda: api.call("PATCH", path, buyer, add))
    assert answer[0] == 200 and set(answer[1]) == {"id", "cartTotalPrice"}, answer
    for _ in range(2):
        assert api.call("PATCH", path, buyer, {"cartItem": [item("po-mobile-unlimited")] * 59})[0] == 200
    large, answer = _calls(lambda: api.call("PATCH", path, buyer, add))
    assert answer[0] == 200
    db = lambda c: {k: v for k, v in c.counts.items() if k.startswith("dynamodb:")}  # noqa: E731
    assert db(small) == db(large) and small.items_read == large.items_read
    basket_calls = {k: v for k, v in large.tables.items() if "basket" in k[0]}
    assert basket_calls == {(settings.table_name("basket"), "GetItem"): 1}     # the header; no line read
    assert large.counts["dynamodb:TransactWriteItems"] == 1                     # header + the new line
    _, whole, _ = api.call("GET", f"{CARTS}/{doc['id']}", buyer)
    assert len(whole["cartItem"]) == 1 + 1 + 2 * 59 + 1
    monthly = next(p for p in whole["cartTotalPrice"] if p.get("recurringChargePeriod") == "month")
    assert monthly == next(p for p in answer[1]["cartTotalPrice"] if p.get("recurringChargePeriod") == "month")


def test_a_business_basket_holds_1000_lines_and_not_one_more(api, buyer, demo, monkeypatch):
    status, doc, _ = api.call("POST", CARTS, buyer, {})
    path = f"{CARTS}/{doc['id']}?fields=id"
    for _ in range(10):
        status, body, _ = api.call("PATCH", path, buyer, {"cartItem": [item("po-mobile-unlimited")] * 99})
        assert status == 200, body
    status, body, _ = api.call("PATCH", path, buyer, {"cartItem": [item("po-mobile-unlimited", quantity=1000)] * 10})
    assert status == 200, body
    assert len(stored_items("basket-line")) == 1000
    before = stored_items("basket"), len(stored_items("basket-line"))
    status, error, _ = api.call("PATCH", path, buyer, {"cartItem": [item("po-mobile-unlimited")]})
    assert status == 422 and error["code"] == "basketFull" and "at most 1000" in error["message"]
    status, error, _ = api.call("PATCH", path, buyer, {"cartItem": [item("po-mobile-unlimited", quantity=1001)]})
    assert status == 400 and error["code"] == "quantityOutOfRange"
    assert (stored_items("basket"), len(stored_items("basket-line"))) == before
    _, whole, _ = api.call("GET", f"{CARTS}/{doc['id']}", buyer)
    assert len(whole["cartItem"]) == 1000 and whole["cartItem"][-1]["quantity"] == 1000
    monthly = next(p for p in whole["cartTotalPrice"] if p.get("recurringChargePeriod") == "month")
    unit = whole["cartItem"][0]["itemPrice"][0]["price"]["taxIncludedAmount"]["value"]
    assert monthly["price"]["taxIncludedAmount"]["value"] == unit * (990 + 10 * 1000)


def test_a_consumer_keeps_the_consumer_limits(api, andrea, demo):
    status, error, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max", quantity=11)]})
    assert status == 400 and error["code"] == "quantityOutOfRange"
    status, error, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max")] * (settings.basket_max_items() + 1)})
    assert status == 422 and error["code"] == "basketFull"
    assert stored_items("basket") == [] and stored_items("basket-line") == []


def test_one_change_names_at_most_99_lines_and_a_bigger_one_writes_nothing(api, buyer, demo):
    status, doc, _ = api.call("POST", CARTS, buyer, {"cartItem": [item("po-mobile-unlimited")]})
    before = stored_items("basket"), stored_items("basket-line")
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", buyer,
                                {"cartItem": [item("po-mobile-unlimited")] * 100})
    assert status == 400 and error["code"] == "tooManyItemChanges" and "send it in parts" in error["message"]
    assert (stored_items("basket"), stored_items("basket-line")) == before


def test_lines_keep_the_order_they_were_added_in_and_changes_touch_only_theirs(api, andrea, demo):
    status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    path = f"{CARTS}/{doc['id']}"
    first, second = (i["id"] for i in doc["cartItem"])
    status, doc, _ = api.call("PATCH", path, andrea, {"cartItem": [item("po-fast-charger")]})
    assert [i["productOffering"]["id"] for i in doc["cartItem"]] == ["po-tv-max", "po-phone-x", "po-fast-charger"]
    written = {r["line"]["S"]: int(r["v"]["N"]) for r in stored_items("basket-line")}
    assert written[first] == written[second] == 1 and sorted(written.values()) == [1, 1, 2]
    status, doc, _ = api.call("PATCH", path, andrea, {"cartItem": [{"id": first, "quantity": 2}]})
    assert status == 200 and doc["cartItem"][0]["quantity"] == 2
    written = {r["line"]["S"]: int(r["v"]["N"]) for r in stored_items("basket-line")}
    assert written[first] == 3 and written[second] == 1
    status, doc, _ = api.call("PATCH", path, andrea, {"cartItem": [{"id": second, "action": "delete"}] * 2})
    assert status == 200 and [i["id"] for i in doc["cartItem"]] == [first, doc["cartItem"][1]["id"]]
    assert len(stored_items("basket-line")) == 2


def test_twenty_writers_at_once_lose_no_line(api, andrea, demo):
    status, doc, _ = api.call("POST", CARTS, andrea, {})
    path = f"{CARTS}/{doc['id']}?fields=id"
    answers = at_once(20, lambda _: api.call("PATCH", path, andrea, {"cartItem": [item("po-fast-charger")]}))
    acked = [a for a in answers if a[0] == 200]
    assert {a[0] for a in answers} <= {200, 409}
    etags = [a[2]["ETag"] for a in acked]
    assert len(set(etags)) == len(etags)
    _, whole, hdrs = api.call("GET", f"{CARTS}/{doc['id']}", andrea)
    assert len(whole["cartItem"]) == len(acked) == len(stored_items("basket-line"))
    assert hdrs["ETag"] == f'"{1 + len(acked)}"'


def test_a_deleted_basket_takes_its_lines_with_it_and_a_replay_is_harmless(api, andrea, demo, pump):
    from functions import basket_events
    from infra import resources
    from infra.local import lambdas
    from tests.support.streams import stream_records

    status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    status, kept, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-fast-charger")]})
    assert len(stored_items("basket-line")) == 3
    assert api.call("DELETE", f"{CARTS}/{doc['id']}", andrea)[0] == 204
    pump.drain()
    assert [r["pk"]["S"] for r in stored_items("basket-line")] == [kept["id"]]
    context = lambdas.context_for(resources.function("basket-events"))
    assert basket_events.handler({"Records": stream_records("basket")}, context) == {"batchItemFailures": []}
    assert [r["pk"]["S"] for r in stored_items("basket-line")] == [kept["id"]]
    assert api.call("GET", f"{CARTS}/{kept['id']}", andrea)[1]["cartItem"][0]["productOffering"]["id"] == \
        "po-fast-charger"


def test_hub_events_carry_a_small_baskets_items_and_a_large_ones_header(api, andrea, agent, demo, pump, monkeypatch):
    monkeypatch.setenv("OMNISHOP_HUB_EVENT_MAX_ITEMS", "2")
    with Listener() as listener:
        assert api.call("POST", f"{BASE}/hub", agent, {"callback": listener.url})[0] == 201
        status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max")]})
        pump.drain()
        path = f"{CARTS}/{doc['id']}"
        api.call("PATCH", path, andrea, {"cartItem": [item("po-phone-x")]})
        pump.drain()
        api.call("PATCH", path, andrea, {"cartItem": [item("po-fast-charger")]})
        pump.drain()
        api.call("PATCH", path, andrea, {"contactMedium": []})
        pump.drain()
        events = list(listener.events)
    carts = [e["event"]["shoppingCart"] for e in events]
    assert [e["eventType"] for e in events][0] == "ShoppingCartCreateEvent"
    assert [len(c.get("cartItem", [])) for c in carts[:2]] == [1, 2]
    assert carts[0]["cartItem"][0]["itemPrice"] and "itemCount" not in carts[0] and "linesAt" not in carts[0]
    assert all("cartItem" not in c and c["cartTotalPrice"] for c in carts[2:])   # 3 lines: the header
    changed = [e.get("fieldPath") or "" for e in events if e["eventType"] == "ShoppingCartAttributeValueChangeEvent"]
    assert "cartItem" in changed[0]
    assert len(json.dumps(events)) < 256 * 1024


def test_a_write_refused_at_a_stale_version_writes_no_line(api, andrea, demo):
    """The header's version condition fails: the transaction's line puts and deletes are not
    applied either (moto's rollback of a table with a range key: infra/local/moto_fixes.py)."""
    from chalicelib.basket import store

    status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    found = store.load_header(doc["id"])
    first = doc["cartItem"][0]
    before = stored_items("basket"), stored_items("basket-line")
    with pytest.raises(store.StaleVersion):
        store.write(found.doc, found.version - 1, found.facts, 2_000_000_000, found.composition,
                    [(1, {**first, "quantity": 5}), (9, {**first, "id": "new-line"})], [doc["cartItem"][1]["id"]])
    assert (stored_items("basket"), stored_items("basket-line")) == before


def test_a_visitor_basket_that_does_not_fit_is_kept_apart_at_login_never_failing_it(api, web, andrea, demo,
                                                                                    monkeypatch):
    """At login a visitor's baskets merge into hers; one whose lines would go over the limit is
    adopted as it is (a merge that could never be written would fail every delivery of the login
    record). A repeat changes nothing."""
    from chalicelib.basket import service

    monkeypatch.setenv("OMNISHOP_BASKET_MAX_ITEMS", "4")
    visitor = "visitor-fit"
    _, mine, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    party = [{"id": visitor, "role": "visitor"}]
    _, small, _ = api.call("POST", CARTS, web, {"relatedParty": party, "cartItem": [item("po-fast-charger")]})
    _, large, _ = api.call("POST", CARTS, web, {"relatedParty": party,
                                                "cartItem": [item("po-broadband-500"), item("po-phone-x-case")]})
    assert service.adopt_visitor_baskets(visitor, "cust-andrea") == 2
    _, hers, _ = api.call("GET", f"{CARTS}?fields=id,cartItem", andrea)
    held = {b["id"]: sorted(i["productOffering"]["id"] for i in b["cartItem"]) for b in hers}
    # the newest visitor basket first: it fits (4 lines); the older one would make 5: kept apart
    assert held == {mine["id"]: ["po-broadband-500", "po-phone-x", "po-phone-x-case", "po-tv-max"],
                    small["id"]: ["po-fast-charger"]}
    assert large["id"] not in held
    before = stored_items("basket"), stored_items("basket-line")
    assert service.adopt_visitor_baskets(visitor, "cust-andrea") == 0
    assert (stored_items("basket"), stored_items("basket-line")) == before


def test_a_list_filtered_on_items_reads_the_lines_and_shows_only_hers(api, andrea, headers, demo):
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    _, tv, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max")]})
    api.call("POST", CARTS, andrea, {"cartItem": [item("po-phone-x")]})
    api.call("POST", CARTS, stacy, {"cartItem": [item("po-tv-max")]})
    status, found, _ = api.call("GET", f"{CARTS}?cartItem.productOffering.id=po-tv-max", andrea)
    assert status == 200 and [b["id"] for b in found] == [tv["id"]]
    assert found[0]["cartItem"][0]["itemPrice"]                       # listed whole, priced
    def listed_with(fields):
        return _calls(lambda: api.call("GET", f"{CARTS}?fields={fields}", andrea))

    without, (status, listed, _) = listed_with("cartTotalPrice")
    assert status == 200 and len(listed) == 2 and all(set(b) == {"id", "cartTotalPrice"} for b in listed)
    assert (settings.table_name("basket-line"), "Query") not in without.tables    # no line read
    with_items, (status, listed, _) = listed_with("cartItem")
    assert status == 200 and all(b["cartItem"] for b in listed)
    assert with_items.tables[(settings.table_name("basket-line"), "Query")] == 2


def test_a_list_shows_each_basket_whole_from_the_index_without_reading_it_again(api, andrea, headers, demo):
    """Listing baskets whole: the index Query carries each header with its facts and composition,
    so a listed basket costs one Query of its lines and no GetItem; it shows as a GET shows it,
    fits TMF663, and only hers are listed (a basket stored whole before shows its items unread)."""
    from tests.support import tmf_spec

    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    _, tv, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    _, phone, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-phone-x")]})
    _, old, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-fast-charger")]})
    _as_stored_whole(old["id"])
    api.call("POST", CARTS, stacy, {"cartItem": [item("po-tv-max")]})
    calls, (status, listed, _) = _calls(lambda: api.call("GET", CARTS, andrea))
    assert status == 200 and {b["id"] for b in listed} == {tv["id"], phone["id"], old["id"]}
    assert (settings.table_name("basket"), "GetItem") not in calls.tables, calls.summary()
    assert calls.tables[(settings.table_name("basket-line"), "Query")] == 2   # the basket stored whole: none
    spec = tmf_spec.load("TMF663-ShoppingCart-v4.0.0")
    assert spec.problems(listed, "GET", "/shoppingCart", 200) == []
    for basket in listed:
        _, got, _ = api.call("GET", f"{CARTS}/{basket['id']}", andrea)
        assert basket == got
    _, single, _ = api.call("GET", f"{CARTS}?id={tv['id']}", stacy)
    assert single == []                                               # not hers: not listed


def test_a_change_reads_the_customer_once_when_her_facts_are_old(api, andrea, demo):
    """Facts older than OMNISHOP_BASKET_CUSTOMER_FACTS_SECONDS are read again once per change,
    not once for the item limits, again for the status check and again for the prices."""
    from chalicelib.basket import store

    status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max")]})
    found = store.load_header(doc["id"])
    store.write(found.doc, found.version, {**found.facts, "at": "2020-01-01T00:00:00.000Z"}, 2_000_000_000,
                found.composition)
    calls, answer = _calls(lambda: api.call("PATCH", f"{CARTS}/{doc['id']}?fields=id", andrea,
                                            {"cartItem": [item("po-phone-x")], "status": "active"}))
    assert answer[0] == 200, answer
    assert calls.tables[(settings.table_name("customer"), "GetItem")] == 1
    assert store.load_header(doc["id"]).facts["at"] != "2020-01-01T00:00:00.000Z"   # refreshed


def test_a_merge_reads_the_target_lines_once(api, web, andrea, demo):
    from chalicelib.basket import service

    api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    api.call("POST", CARTS, web, {"relatedParty": [{"id": "visitor-once", "role": "visitor"}],
                                  "cartItem": [item("po-fast-charger")]})
    calls, adopted = _calls(lambda: service.adopt_visitor_baskets("visitor-once", "cust-andrea"))
    assert adopted == 1 and "dynamodb:BatchGetItem" not in calls.counts


def _as_stored_whole(basket_id):
    """Store a basket the way it was stored before its lines were records (session 10): its items
    in the header's body, no composition, no line record."""
    from chalicelib.basket import store
    from chalicelib.basket.models import BasketLine, BasketRecord

    found, items = store.load_header(basket_id), store.lines(basket_id)
    rec = BasketRecord.get(basket_id, consistent_read=True)
    BasketRecord(basket_id, owner=rec.owner, listed=rec.listed, sort=rec.sort, status=rec.status,
                 open_owner=rec.open_owner, body={**found.doc, "cartItem": items}, facts=found.facts,
                 expires=rec.expires, version=rec.version).save(add_version_condition=False)
    for item_ in items:
        BasketLine(basket_id, item_["id"]).delete()
    return [i["id"] for i in items]


def test_a_basket_stored_whole_before_is_read_and_changed_without_losing_an_item(api, andrea, demo):
    status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max"), item("po-phone-x")]})
    ids = _as_stored_whole(doc["id"])
    assert stored_items("basket-line") == []
    path = f"{CARTS}/{doc['id']}"
    _, seen, _ = api.call("GET", path, andrea)
    assert [i["id"] for i in seen["cartItem"]] == ids and seen["cartItem"][0]["itemPrice"]
    status, changed, _ = api.call("PATCH", path, andrea, {"cartItem": [item("po-fast-charger")]})
    assert status == 200, changed
    assert [i["id"] for i in changed["cartItem"]][:2] == ids and len(changed["cartItem"]) == 3
    assert len(stored_items("basket-line")) == 3                      # its items are lines now
    _, again, _ = api.call("GET", path, andrea)
    assert [i["productOffering"]["id"] for i in again["cartItem"]] == ["po-tv-max", "po-phone-x", "po-fast-charger"]


def test_a_basket_stored_whole_before_is_ordered_with_its_items(api, andrea, demo):
    from tests.support.appointments import installed

    orders = "/tmf-api/productOrderingManagement/v4/productOrder"
    status, doc, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-tv-max")]})
    installed("cust-andrea", "po-tv-max")
    _as_stored_whole(doc["id"])
    status, order, _ = api.call("POST", orders, andrea, {"shoppingCart": {"id": doc["id"]}})
    assert status == 201, order
    assert [i["productOffering"]["id"] for i in order["productOrderItem"]] == ["po-tv-max"]
    _, ordered, _ = api.call("GET", f"{CARTS}/{doc['id']}", andrea)
    assert ordered["status"] == "ordered" and [i["productOffering"]["id"] for i in ordered["cartItem"]] == ["po-tv-max"]


def test_a_line_naming_a_site_not_the_customers_is_refused_and_writes_nothing(api, buyer, andrea, demo):
    """Acme's basket takes lines for its own sites only; a person's has no sites to name."""
    def sited(site):
        return {"productOffering": {"id": "po-business-mobile"}, "product": {"place": [{"id": site, "role": "site"}]}}

    status, doc, _ = api.call("POST", CARTS, buyer, {"cartItem": [sited("acme-bristol")]})
    assert status == 201, doc
    before = stored_items("basket"), stored_items("basket-line")
    status, error, _ = api.call("PATCH", f"{CARTS}/{doc['id']}", buyer,
                                {"cartItem": [sited("acme-bath"), sited("acme-leeds")]})
    assert (status, error["code"]) == (422, "unknownSite") and "cartItem.1" in error["message"], error
    assert (stored_items("basket"), stored_items("basket-line")) == before
    status, error, _ = api.call("POST", CARTS, andrea, {"cartItem": [{**item("po-tv-max"),
                                                                       "product": {"place": [{"id": "acme-bath", "role": "site"}]}}]})
    assert (status, error["code"]) == (422, "unknownSite"), error
    assert (stored_items("basket"), stored_items("basket-line")) == before
