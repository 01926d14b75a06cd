"""Orders of up to 1,000 business lines (issue 13 part 4): its items kept in pages under the order
(chalicelib/pages.py), child orders of at most a page each per stack and site, all within
DynamoDB's limits (400 KB an item, 100 actions and 4 MB a transaction); a change to one item
rewrites one page; a reader never sees one version's header with another's items."""
from __future__ import annotations

import pytest

from bench.harness import Calls
from chalicelib import pages
from chalicelib.customer.domain import site_of
from tests.support.concurrency import at_once
from tests.support.orders import settle
from tests.support.stored import stored_items

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
SITES = ("acme-bristol", "acme-bath")


@pytest.fixture
def buyer(headers):
    return headers("customer", channel="web", customerId="cust-acme", sub="raj", partyId="party-acme-raj")


def _fleet_basket(api, buyer, lines):
    """A business basket of `lines` mobile lines, half for each of Acme's two sites (99 a change)."""
    _, doc, _ = api.call("POST", CARTS, buyer, {})
    for start in range(0, lines, 99):
        status, body, _ = api.call("PATCH", f"{CARTS}/{doc['id']}?fields=id", buyer, {"cartItem": [
            {"productOffering": {"id": "po-business-mobile"},
             "product": {"place": [{"id": SITES[n % 2], "role": "site"}]}}
            for n in range(start, min(lines, start + 99))]})
        assert status == 200, body
    return doc["id"]


def _pages(order_id):
    return {int(r["n"]["N"]): int(r["v"]["N"]) for r in stored_items("order-page") if r["pk"]["S"] == order_id}


def test_a_250_line_order_is_stored_in_pages_and_splits_by_stack_site_and_page(api, buyer, agent, demo, stacks, pump):
    """The whole way, with the stacks: paged at capture, split, completed. (1,000 lines: the
    quote tests order and split one; bench quote prints its figures.)"""
    basket = _fleet_basket(api, buyer, 250)
    status, order, _ = api.call("POST", ORDERS, buyer, {"shoppingCart": {"id": basket}})
    assert status == 201, order
    assert len(order["productOrderItem"]) == 250
    assert _pages(order["id"]) == {0: 1, 1: 1, 2: 1}
    header = next(r for r in stored_items("order") if r["pk"]["S"] == order["id"])
    assert "productOrderItem" not in header["body"]["S"] and len(header["body"]["S"]) < 20_000
    status, read, _ = api.call("GET", f"{ORDERS}/{order['id']}", buyer)
    assert status == 200 and [i["id"] for i in read["productOrderItem"]] == [i["id"] for i in order["productOrderItem"]]
    status, listed, _ = api.call("GET", f"{ORDERS}?fields=id,productOrderItem", buyer)
    assert len(next(o for o in listed if o["id"] == order["id"])["productOrderItem"]) == 250

    done = settle(pump, order["id"], timeout=180)
    assert done["state"] == "completed" and len(done["productOrderItem"]) == 250
    assert {i["state"] for i in done["productOrderItem"]} == {"completed"}
    children = [api.call("GET", f"{ORDERS}/{r['id']}", agent)[1] for r in done["orderRelationship"]
                if r["relationshipType"] == "child"]
    # 125 lines at each site, for the mobile stack: child orders of 100 and 25 per site
    per_site = {}
    for child in children:
        site = child["description"].rsplit(" ", 1)[-1]
        per_site.setdefault(site, []).append(len(child["productOrderItem"]))
        assert {site_of(i) for i in child["productOrderItem"]} == {site}, child["productOrderItem"][0]
    assert {site: sorted(sizes) for site, sizes in per_site.items()} == {s: [25, 100] for s in SITES}
    assert sorted(i["id"] for c in children for i in c["productOrderItem"]) == sorted(i["id"] for i in order["productOrderItem"])
    # no child order is paged; the parent's pages moved only where its items did
    assert all(r["pk"]["S"] == order["id"] for r in stored_items("order-page"))


def test_one_item_changed_rewrites_its_page_only(api, buyer, demo):
    from chalicelib.ordering import fulfilment

    basket = _fleet_basket(api, buyer, 250)
    _, order, _ = api.call("POST", ORDERS, buyer, {"shoppingCart": {"id": basket}})
    assert _pages(order["id"]) == {0: 1, 1: 1, 2: 1}
    target = order["productOrderItem"][150]["id"]

    def note(found, at):
        return {**found.doc, "productOrderItem": [{**i, "state": "held"} if i["id"] == target else i
                                                  for i in found.doc["productOrderItem"]]}

    calls = Calls()
    with calls.counting():
        fulfilment.change_order(order["id"], note)
    assert _pages(order["id"]) == {0: 1, 1: 2, 2: 1}
    assert dict(calls.counts) == {"dynamodb:GetItem": 1, "dynamodb:Query": 1, "dynamodb:TransactWriteItems": 1}
    status, read, _ = api.call("GET", f"{ORDERS}/{order['id']}", buyer)
    assert [i["state"] for i in read["productOrderItem"] if i["id"] == target] == ["held"]


def test_twenty_writers_on_one_large_order_lose_nothing(api, buyer, demo):
    """Twenty item changes at once, each on another item: every one acknowledged is there after."""
    from chalicelib.errors import Conflict
    from chalicelib.ordering import fulfilment, store

    basket = _fleet_basket(api, buyer, 220)
    _, order, _ = api.call("POST", ORDERS, buyer, {"shoppingCart": {"id": basket}})
    targets = [order["productOrderItem"][n * 11]["id"] for n in range(20)]

    def mark(n):
        def mutate(found, at):
            return {**found.doc, "productOrderItem": [{**i, "note": [{"text": f"w{n}"}]} if i["id"] == targets[n] else i
                                                      for i in found.doc["productOrderItem"]]}
        return fulfilment.change_order(order["id"], mutate)

    answers = at_once(20, mark)
    # each one written, or refused whole after its retries (409 busy: its sender tries again later)
    refused = [n for n, a in enumerate(answers) if isinstance(a, Exception)]
    assert all(isinstance(answers[n], Conflict) for n in refused), answers
    assert len(refused) < 20
    items = {i["id"]: i for i in store.load(order["id"]).doc["productOrderItem"]}
    assert [items[t].get("note") for t in targets] == [None if n in refused else [{"text": f"w{n}"}] for n in range(20)]


def test_a_reader_between_a_header_and_its_moved_pages_reads_again(api, buyer, demo, monkeypatch):
    """A page newer than the header read before it (a writer moved in between) is never shown
    with that header: the read starts again."""
    from chalicelib.ordering import store

    basket = _fleet_basket(api, buyer, 150)
    _, order, _ = api.call("POST", ORDERS, buyer, {"shoppingCart": {"id": basket}})
    found = store.load(order["id"])
    real, reads = pages.Pages.whole, []

    def whole_after_a_write(self, key, header, count, version):
        if not reads:   # the first read: another writer moves the order between header and pages
            doc = {**found.doc, "productOrderItem": [{**i, "state": "held"} for i in found.doc["productOrderItem"]]}
            store.replace(doc, found.version, was=found)
        reads.append(int(version))
        return real(self, key, header, count, version)

    monkeypatch.setattr(pages.Pages, "whole", whole_after_a_write)
    again = store.load(order["id"])
    assert reads == [found.version, found.version + 1]
    assert again.version == found.version + 1 and {i["state"] for i in again.doc["productOrderItem"]} == {"held"}


def test_more_than_a_document_holds_is_a_clear_422_and_writes_nothing(demo):
    from chalicelib.errors import Unprocessable
    from chalicelib.ordering import store

    doc = {"id": "too-big", "state": "acknowledged", "orderDate": "2026-12-01T00:00:00Z",
           "productOrderItem": [{"id": str(n)} for n in range(pages.MAX_PAGES * pages.PER_PAGE + 1)]}
    with pytest.raises(Unprocessable) as refused:
        store.insert(doc)
    assert refused.value.code == "tooManyItems"
    assert not [r for r in stored_items("order") if r["pk"]["S"] == "too-big"] and not stored_items("order-page")


def test_a_list_reads_a_large_orders_items_only_for_what_it_shows(api, buyer, agent, demo):
    from chalicelib import settings

    basket = _fleet_basket(api, buyer, 150)
    _, order, _ = api.call("POST", ORDERS, buyer, {"shoppingCart": {"id": basket}})
    pages_table = settings.table_name("order-page")

    def listed(path, who):
        calls = Calls()
        with calls.counting():
            status, body, _ = api.call("GET", path, who)
        assert status == 200, body
        return body, calls.on_table(pages_table)

    body, read = listed(f"{ORDERS}?fields=id,state", buyer)
    assert [o["id"] for o in body] == [order["id"]] and read == {}
    body, read = listed(f"{ORDERS}?fields=id,state", agent)
    assert order["id"] in [o["id"] for o in body] and read == {}
    body, read = listed(f"{ORDERS}?fields=id,productOrderItem", buyer)
    assert len(body[0]["productOrderItem"]) == 150 and read == {"Query": 1}
    body, read = listed(f"{ORDERS}?productOrderItem.state=acknowledged&fields=id", buyer)   # a filter on the items
    assert [o["id"] for o in body] == [order["id"]] and read == {"Query": 1}
