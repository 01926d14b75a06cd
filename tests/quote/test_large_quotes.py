"""Quotes of 1,000 business lines (issue 13 part 4): lines beyond 50 kept in pages of the
quote-page table (chalicelib/pages.py), each page and the header within the 64 KB a stored
document may be; the 1,001st line refused with nothing written; a change to one line rewrites
its page only; a version kept as sent keeps its own pages; one order from a 1,000-line quote,
decomposed per stack and site within DynamoDB's transaction limits."""
import json

from chalicelib.customer.domain import MAX_DOCUMENT_BYTES
from tests.quote.conftest import QUOTES, new_quote, stored, valid
from tests.support.stored import stored_items

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
SITES = ("acme-bristol", "acme-bath")


def _lines(count, quantity=1000, **extra):
    return [{"productOffering": {"id": "po-business-mobile"}, "quantity": quantity,
             "product": {"place": [{"id": SITES[n % 2], "role": "site"}]},
             "itemTerm": [{"duration": {"amount": 24}}], **extra} for n in range(count)]


def _send(api, path, agent, manager):
    """Submit the quote; a sales manager approves it when a rule asks for one."""
    status, sent, _ = api.call("PATCH", path, agent, {"state": "approved"})
    if sent.get("state") == "pending":
        status, sent, _ = api.call("PATCH", path, manager, {"state": "approved", "stateReason": "fleet"})
    assert status == 200 and sent["state"] == "approved", sent
    return sent


def _pages(key):
    return {int(r["n"]["N"]): int(r["v"]["N"]) for r in stored_items("quote-page") if r["pk"]["S"] == key}


def test_a_1000_line_quote_is_a_header_and_twenty_pages_and_the_1001st_line_is_refused(api, demo, agent):
    before = stored(), stored_items("quote-page")
    status, error, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(1001)))
    assert status == 400 and (stored(), stored_items("quote-page")) == before, error
    status, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(1000)))
    assert status == 201, doc
    assert len(doc["quoteItem"]) == 1000 and _pages(doc["id"]) == {n: 1 for n in range(20)} and valid(doc)
    records = [r for r in stored() if r["pk"]["S"] == doc["id"]] + \
        [r for r in stored_items("quote-page") if r["pk"]["S"] == doc["id"]]
    sizes = sorted(len(r.get("body", r.get("items"))["S"]) for r in records)
    print(f"1,000-line quote: {len(records)} records, largest {sizes[-1]} bytes (limit {MAX_DOCUMENT_BYTES})")
    assert sizes[-1] < MAX_DOCUMENT_BYTES
    status, read, _ = api.call("GET", f"{QUOTES}/{doc['id']}", agent)
    assert status == 200 and [i["id"] for i in read["quoteItem"]] == [i["id"] for i in doc["quoteItem"]] and valid(read)
    assert read["quoteTotalPrice"] == doc["quoteTotalPrice"]


def test_one_line_changed_rewrites_its_page_and_a_sent_version_keeps_its_own(api, demo, agent, manager):
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(120, quantity=1)))
    path = f"{QUOTES}/{doc['id']}"
    items = [{k: v for k, v in i.items() if k in ("id", "productOffering", "quantity", "product", "itemTerm")}
             for i in doc["quoteItem"]]
    items[70] = {**items[70], "quantity": 5}
    status, changed, _ = api.call("PATCH", path, agent, {"quoteItem": items})
    assert status == 200, changed
    assert _pages(doc["id"]) == {0: 1, 1: 2, 2: 1}        # lines 51-100 changed; the others not written
    assert changed["quoteItem"][70]["quantity"] == 5
    # sent, then changed: version 1 is kept as sent, with its own pages
    _send(api, path, agent, manager)
    items[0] = {**items[0], "quantity": 7}
    status, second, _ = api.call("PATCH", path, agent, {"quoteItem": items})
    assert status == 200 and second["version"] == "2", second
    assert set(_pages(f"{doc['id']}#v1")) == {0, 1, 2}
    status, first, _ = api.call("GET", f"{path}?version=1", agent)
    assert status == 200 and valid(first) and len(first["quoteItem"]) == 120 and first["quoteItem"][0]["quantity"] == 1
    assert first["quoteItem"][70]["quantity"] == 5


def test_one_order_from_a_1000_line_quote_splits_per_stack_site_and_page(api, demo, agent, manager, acme):
    from chalicelib.ordering import fulfilment, store

    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(1000)))
    path = f"{QUOTES}/{doc['id']}"
    sent = _send(api, path, agent, manager)
    status, accepted, _ = api.call("PATCH", path, acme, {"state": "accepted", "version": sent["version"]})
    assert status == 200 and accepted["state"] == "accepted", accepted
    before = len(stored_items("order"))
    status, order, _ = api.call("POST", ORDERS, acme, {"quote": [{"id": doc["id"]}]})
    assert status == 201, order
    assert len(order["productOrderItem"]) == 1000 and len(stored_items("order")) == before + 1
    status, again, _ = api.call("POST", ORDERS, acme, {"quote": [{"id": doc["id"]}]})   # the same order, once
    assert again["id"] == order["id"] and len(stored_items("order")) == before + 1

    plan = fulfilment.decompose(order["id"])
    children = store.load_many(c for wave in plan["waves"] for c in wave)
    sizes = sorted(len(c.doc["productOrderItem"]) for c in children.values())
    assert sizes == [100] * 10
    assert sum(c.doc["productOrderItem"][0]["quantity"] for c in children.values()) == 10 * 1000
    again = fulfilment.decompose(order["id"])             # a retried step: the same child orders
    assert [sorted(wave) for wave in again["waves"]] == [sorted(wave) for wave in plan["waves"]]
    assert len(json.dumps(store.load(order["id"]).doc)) > 400_000   # more than one item could hold


def _json_patch(api, path, who, ops, raw=None):
    headers = {**who, "Content-Type": "application/json-patch+json"}
    response = api.client.http.patch(path, headers=headers, body=raw if raw is not None else json.dumps(ops))
    return response.status_code, json.loads(response.body) if response.body else None


def test_a_json_patch_changes_one_line_without_sending_the_others(api, demo, agent):
    """RFC 6902 (TMF630): the request names one line of the quote; it is the merge patch of what it
    changes, so the same rules apply (prices, approval, versions)."""
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(120, quantity=1)))
    path = f"{QUOTES}/{doc['id']}"
    status, changed = _json_patch(api, path, agent, [
        {"op": "test", "path": "/quoteItem/101/quantity", "value": 1},
        {"op": "replace", "path": "/quoteItem/101/quantity", "value": 9},
        {"op": "add", "path": "/description", "value": "fleet for two sites"}])
    assert status == 200, changed
    assert changed["quoteItem"][101]["quantity"] == 9 and changed["description"] == "fleet for two sites" and valid(changed)
    assert [i["quantity"] for n, i in enumerate(changed["quoteItem"]) if n != 101] == [1] * 119
    assert changed["quoteTotalPrice"] != doc["quoteTotalPrice"]           # priced again
    assert _pages(doc["id"]) == {0: 1, 1: 1, 2: 2}
    # the same operations once more: the test op no longer holds, nothing is written
    before = stored(), stored_items("quote-page")
    status, error = _json_patch(api, path, agent, [{"op": "test", "path": "/quoteItem/101/quantity", "value": 1},
                                                   {"op": "replace", "path": "/quoteItem/101/quantity", "value": 9}])
    assert (status, error["code"]) == (400, "invalidJsonPatch")
    assert (stored(), stored_items("quote-page")) == before
    # what is already so: answered as it stands, nothing written
    status, same = _json_patch(api, path, agent, [{"op": "replace", "path": "/quoteItem/101/quantity", "value": 9}])
    assert status == 200 and same["quoteItem"][101]["quantity"] == 9 and (stored(), stored_items("quote-page")) == before


def test_bad_json_patches_are_400_and_write_nothing(api, demo, agent):
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(60, quantity=1)))
    path = f"{QUOTES}/{doc['id']}"
    before = stored(), stored_items("quote-page")
    for ops, raw, code in [
        ({"op": "replace"}, None, "invalidJsonPatch"),                                       # not a list
        ([], None, "invalidJsonPatch"),
        ([{"op": "replace", "path": "/quoteItem/0/quantity", "value": 2}] * 101, None, "invalidJsonPatch"),
        ([{"path": "/description", "value": "x"}], None, "invalidJsonPatch"),                  # no op
        ([{"op": "replace", "path": "/id", "value": "mine"}], None, "invalidJsonPatch"),      # read-only field
        ([{"op": "replace", "path": "/quoteTotalPrice", "value": []}], None, "invalidJsonPatch"),
        ([{"op": "replace", "path": "/quoteItem/60/quantity", "value": 2}], None, "invalidJsonPatch"),   # no line 60
        ([{"op": "move", "from": "/quoteItem/0", "path": "/quoteItem/0/x"}], None, "invalidJsonPatch"),
        ([{"op": "frobnicate", "path": "/description"}], None, "invalidJsonPatch"),
        ([{"op": "replace", "path": "/quoteItem/0/quantity", "value": 1001}], None, "invalidInput"),   # the rules still hold
        ([{"op": "remove", "path": "/quoteItem"}], None, None),                                         # a quote keeps lines
        (None, '[{"op": "replace", "path": "/description", "value": "x"}', "malformedJson"),
    ]:
        status, error = _json_patch(api, path, agent, ops, raw)
        assert status == 400 and (code is None or error["code"] == code), (ops, raw, error)
        assert (stored(), stored_items("quote-page")) == before, ops


def test_twenty_json_patches_at_once_each_applied_or_refused_never_lost(api, demo, agent):
    """Twenty agents each change another line of one quote at once: each answer is 200 (its line
    is in the quote after) or 409 quoteChanged (it is not); nothing acknowledged is lost."""
    from tests.support.concurrency import at_once

    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(120, quantity=1)))
    path = f"{QUOTES}/{doc['id']}"
    answers = at_once(20, lambda n: _json_patch(api, path, agent, [
        {"op": "replace", "path": f"/quoteItem/{n * 6}/quantity", "value": 2 + n}]))
    assert all(status in (200, 409) for status, _ in answers), answers
    assert any(status == 200 for status, _ in answers)
    _, final, _ = api.call("GET", path, agent)
    for n, (status, body) in enumerate(answers):
        assert (final["quoteItem"][n * 6]["quantity"] == 2 + n) == (status == 200), (n, status, body)
        assert status == 200 or body["code"] == "quoteChanged"


def test_another_customers_quote_is_not_found_by_json_patch_either(api, demo, agent, headers):
    _, doc, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(60, quantity=1)))
    other = headers("customer", channel="web", customerId="cust-andrea", sub="andrea")
    before = stored(), stored_items("quote-page")
    status, error = _json_patch(api, f"{QUOTES}/{doc['id']}", other,
                                [{"op": "replace", "path": "/quoteItem/0/quantity", "value": 2}])
    assert status == 404 and (stored(), stored_items("quote-page")) == before, error


def test_a_json_patch_is_the_merge_patch_of_what_it_changes_and_leaves_the_quote_read_alone():
    """Without AWS: ops inside one line copy that line only; ops that move lines copy them all;
    either way the quote as read is never changed (a retry reads it again)."""
    import copy

    from chalicelib.quote import domain

    current = {"id": "q", "description": "a",
               "quoteItem": [{"id": str(i), "quantity": 1, "product": {"x": [1]}} for i in range(5)]}
    read = copy.deepcopy(current)
    fields = ("quoteItem", "description", "discount")
    inside = domain.from_json_patch(current, [{"op": "replace", "path": "/quoteItem/2/quantity", "value": 9},
                                              {"op": "add", "path": "/quoteItem/3/product/x/-", "value": 2}], fields)
    assert [(i["quantity"], i["product"]["x"]) for i in inside["quoteItem"]] == \
        [(1, [1]), (1, [1]), (9, [1]), (1, [1, 2]), (1, [1])] and set(inside) == {"quoteItem"}
    moved = domain.from_json_patch(current, [{"op": "add", "path": "/quoteItem/0", "value": {"id": "n"}},
                                             {"op": "replace", "path": "/quoteItem/1/quantity", "value": 7}], fields)
    assert moved["quoteItem"][:2] == [{"id": "n"}, {"id": "0", "quantity": 7, "product": {"x": [1]}}]
    assert domain.from_json_patch(current, [{"op": "add", "path": "/discount", "value": {"percentage": 5}}],
                                  fields) == {"discount": {"percentage": 5}}
    assert domain.from_json_patch(current, [{"op": "replace", "path": "/description", "value": "a"}], fields) == {}
    assert current == read


def test_a_list_reads_a_large_quotes_lines_only_for_what_it_shows(api, demo, agent, manager):
    from bench.harness import Calls
    from chalicelib import settings

    _, large, _ = api.call("POST", QUOTES, agent, new_quote(*_lines(120, quantity=1)))
    api.call("POST", QUOTES, agent, new_quote(*_lines(3, quantity=1)))
    pages_table = settings.table_name("quote-page")

    def listed(path, who=agent):
        calls = Calls()
        with calls.counting():
            status, body, _ = api.call("GET", path, who)
        assert status == 200, body
        return body, calls.on_table(pages_table)

    body, read = listed(f"{QUOTES}?fields=id,state")
    assert large["id"] in [q["id"] for q in body] and read == {}
    body, read = listed(f"{QUOTES}?fields=id,quoteItem")
    assert len(next(q for q in body if q["id"] == large["id"])["quoteItem"]) == 120 and read == {"Query": 1}
    assert all(valid(q) for q in listed(QUOTES)[0])
    body, read = listed(f"{QUOTES}?fields=id&limit=1&offset=0")
    assert len(body) == 1 and read == {}


def test_a_customer_json_patches_her_own_quote_but_agrees_no_terms(api, demo, agent, acme):
    """Raj changes a quantity of his quote in progress by JSON Patch although a line carries its
    offering's own 24-month term (it is sent back unchanged: he asks for nothing); a discount,
    another term, or the same discount on another offering is an agent's to agree: 403, nothing
    written."""
    from tests.quote.conftest import ACME

    status, doc, _ = api.call("POST", QUOTES, acme, new_quote(("po-business-mobile", 2), ("po-mobile-unlimited", 1)))
    assert status == 201 and doc["quoteItem"][1].get("itemTerm"), doc
    path = f"{QUOTES}/{doc['id']}"
    status, changed = _json_patch(api, path, acme, [{"op": "replace", "path": "/quoteItem/0/quantity", "value": 3}])
    assert status == 200 and changed["quoteItem"][0]["quantity"] == 3 and valid(changed), changed
    # an agent's discount on line 1, then Raj tries to move it, or to give himself more
    status, _ = _json_patch(api, path, agent, [{"op": "add", "path": "/quoteItem/1/discount", "value": {"percentage": 5}}])
    assert status == 200
    before = stored(), stored_items("quote-page")
    for ops in ([{"op": "add", "path": "/discount", "value": {"percentage": 5}}],
                [{"op": "replace", "path": "/quoteItem/1/discount/percentage", "value": 10}],
                [{"op": "replace", "path": "/quoteItem/1/itemTerm/0/duration/amount", "value": 36}],
                [{"op": "replace", "path": "/quoteItem/1/productOffering", "value": {"id": "po-business-mobile"}}]):
        status, error = _json_patch(api, path, acme, ops)
        assert (status, error["code"]) == (403, "forbidden"), (ops, error)
        assert (stored(), stored_items("quote-page")) == before, ops
    assert ACME in {p["id"] for p in changed["relatedParty"]}
