"""Every TMF list without an attribute filter pages in DynamoDB (issue 16, documents.paged): one
page costs the same calls and the same items returned with 10 or 60 documents stored (FEW, MANY) (offset+limit
read, the total a COUNT Query that returns none); walking the pages gives every document once, in
the list's order, with the right total; a customer sees only hers; a filtered list still reads its
candidates and pages them; bad paging is a clear 400. The lists are bench/lists.py's LISTS."""
from __future__ import annotations

import pytest

from bench.lists import AGENT as AGENT_CLAIMS
from bench.lists import CUSTOMER, LIMIT, LISTS, OFFSET, OTHER, Listed, customer
from tests.support import tmf_spec
from tests.lists.bounded import FEW, MANY, assert_bad_paging_refused, assert_same_cost, page_costs, walk

OWNED = [x for x in LISTS if x.owned]


@pytest.fixture
def as_(headers):
    return lambda claims: headers(**{"role": claims["role"]}, **{k: v for k, v in claims.items() if k != "role"})


def _order(listed: Listed, ns: range, newest_first: bool) -> range:
    return range(ns.stop - 1, ns.start - 1, -1) if newest_first else ns


@pytest.mark.parametrize("listed", LISTS, ids=lambda x: x.name)
def test_a_page_of_everything_costs_the_same_at_few_and_many(api, as_, aws, listed):
    costs = page_costs(api, listed.path, as_(listed.everyone), lambda a, b: listed.seed(CUSTOMER, a, b),
                       query=listed.fields)
    assert_same_cost(costs, listed.table, queries=1 + listed.keys + listed.skips)
    for (page, _, _), stored in zip(costs, (FEW, MANY)):
        ns = _order(listed, range(stored), listed.newest_first)[OFFSET:OFFSET + LIMIT]
        assert [d["id"] for d in page] == listed.ids(CUSTOMER, ns)
    if listed.spec:
        assert tmf_spec.load(listed.spec[0]).problems(costs[1][0], "GET", listed.spec[1], 200) == []


@pytest.mark.parametrize("listed", OWNED, ids=lambda x: x.name)
def test_a_page_of_her_own_costs_the_same_and_shows_only_hers(api, as_, aws, listed):
    listed.seed(OTHER, 0, 30)
    costs = page_costs(api, listed.path, as_(customer(CUSTOMER)), lambda a, b: listed.seed(CUSTOMER, a, b),
                       query=listed.fields)
    assert_same_cost(costs, listed.table)
    ns = _order(listed, range(MANY), listed.own_newest_first)[OFFSET:OFFSET + LIMIT]
    assert [d["id"] for d in costs[1][0]] == listed.ids(CUSTOMER, ns)


@pytest.mark.parametrize("listed", LISTS, ids=lambda x: x.name)
def test_pages_walk_every_document_once_with_the_right_total(api, as_, aws, listed):
    listed.seed(CUSTOMER, 0, 23)
    listed.seed(OTHER, 0, 5)
    seen, totals = walk(api, listed.path, as_(listed.everyone), 5)
    assert len(seen) == len(set(seen)) == 28 and totals == {28}
    assert set(seen) == set(listed.ids(CUSTOMER, range(23)) + listed.ids(OTHER, range(5)))
    if listed.owned:
        for cid, count, step in ((CUSTOMER, 23, 7), (OTHER, 5, 2)):
            assert walk(api, listed.path, as_(customer(cid)), step) == \
                (listed.ids(cid, _order(listed, range(count), listed.own_newest_first)), {count})
    status, body, headers = api.call("GET", f"{listed.path}?offset=500&limit=5", as_(listed.everyone))
    assert (status, body, headers["X-Total-Count"]) == (200, [], "28")


@pytest.mark.parametrize("listed", LISTS, ids=lambda x: x.name)
def test_a_filtered_list_reads_its_candidates_and_pages_them(api, as_, aws, listed):
    listed.seed(CUSTOMER, 0, 12)
    listed.seed(CUSTOMER, 50, 53, odd=True)   # left out by the filter
    status, body, headers = api.call("GET", f"{listed.path}?{listed.filter}&offset=10&limit=5&fields=id",
                                     as_(listed.everyone))
    ns = _order(listed, range(12), listed.newest_first)[10:]
    assert status == 200 and [d["id"] for d in body] == listed.ids(CUSTOMER, ns)
    assert headers["X-Total-Count"] == "12"


@pytest.mark.parametrize("listed", LISTS, ids=lambda x: x.name)
def test_bad_paging_is_a_400(api, as_, aws, listed):
    assert_bad_paging_refused(api, listed.path, as_(listed.everyone))
    if listed.owned:
        assert_bad_paging_refused(api, listed.path, as_(customer(CUSTOMER)))


def _named(name: str) -> Listed:
    return next(x for x in LISTS if x.name == name)


def test_a_customers_orders_leave_out_her_cancellations_and_cancellations_page_too(api, as_, aws):
    from chalicelib.ordering import store

    orders = _named("productOrder")
    orders.seed(CUSTOMER, 0, 9)
    cancels = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"
    for n in range(3):   # in her by-owner partition, newest of all: the kind filter drops them
        store.insert({"id": f"cancel-{n}", "href": f"http://localhost{cancels}/cancel-{n}", "@type": "CancelProductOrder",
                      "state": "done", "creationDate": f"2026-02-01T00:00:0{n}.000Z",
                      "productOrder": {"id": orders.ids(CUSTOMER, range(n, n + 1))[0]},
                      "relatedParty": [{"id": CUSTOMER, "role": "customer"}]}, kind="cancelProductOrder")
    assert walk(api, orders.path, as_(customer(CUSTOMER)), 4) == (orders.ids(CUSTOMER, range(8, -1, -1)), {9})
    assert walk(api, cancels, as_(AGENT_CLAIMS), 2) == (["cancel-0", "cancel-1", "cancel-2"], {3})


def test_a_stack_pages_the_products_it_provides_only(api, as_, aws):
    from bench.lists import _product
    from chalicelib.inventory import store

    products = _named("product")
    products.seed(CUSTOMER, 0, 6)                       # csp-stack-a's
    for n in range(10, 15):
        store.insert(products.href(_product(n, OTHER, False, stack="csp-stack-b")))
    stack_b = as_({"role": "stack", "sub": "csp-stack-b", "stack": "csp-stack-b"})
    assert walk(api, products.path, stack_b, 2) == (products.ids(OTHER, range(10, 15)), {5})
    costs = page_costs(api, products.path, stack_b, lambda a, b: [
        store.insert(products.href(_product(n, OTHER, False, stack="csp-stack-b"))) for n in range(100 + a, 100 + b)])
    assert costs[1][1] - costs[0][1] == MANY - FEW and costs[0][2].counts == costs[1][2].counts
    assert costs[0][2].items_returned == costs[1][2].items_returned


def test_a_channel_still_sees_live_promotions_only(api, as_, web, aws):
    promotions = _named("promotion")
    promotions.seed(CUSTOMER, 0, 6)
    promotions.seed(CUSTOMER, 6, 8, odd=True)   # drafts
    seen, totals = walk(api, promotions.path, web, 4)
    assert seen == promotions.ids(CUSTOMER, range(6)) and totals == {6}
    assert walk(api, promotions.path, as_(promotions.everyone), 4)[1] == {8}


def _anonymous(day: int, first: int, last: int) -> list[str]:
    """Anonymous web baskets n = first .. last-1 started `day` days ago (n seconds after midnight),
    stored; their ids newest first."""
    import datetime as dt

    from bench.lists import _basket, _put_basket
    from chalicelib import tmf

    midnight = tmf.now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=day)
    docs = [_basket(n + 1000 * day, "", False, tmf.iso(midnight + dt.timedelta(seconds=n))) for n in range(first, last)]
    for doc in docs:
        _put_basket(_named("shoppingCart").href(doc), "")
    return [d["id"] for d in reversed(docs)]


def test_a_channel_pages_its_anonymous_baskets_of_today_then_yesterday(api, web, aws):
    today, yesterday = _anonymous(0, 0, 6), _anonymous(1, 0, 5)
    _anonymous(3, 0, 3)   # older: in no list
    assert walk(api, _named("shoppingCart").path, web, 4) == (today + yesterday, {11})


def test_a_channels_page_costs_the_same_at_few_and_many_baskets(api, web, aws):
    carts = _named("shoppingCart")
    costs = page_costs(api, carts.path, web, lambda a, b: _anonymous(0, a, b), query=carts.fields)
    assert_same_cost(costs, carts.table, queries=3)   # a COUNT per day, then today's page


def test_her_payments_and_refunds_share_her_key_and_each_list_pages_its_own(api, as_, aws):
    payments, refunds = _named("payment"), _named("refund")
    payments.seed(CUSTOMER, 0, 7)
    refunds.seed(CUSTOMER, 0, 5)   # the same times as her payments: interleaved under her by-owner key
    her = as_(customer(CUSTOMER))
    assert walk(api, payments.path, her, 3) == (payments.ids(CUSTOMER, range(7)), {7})
    assert walk(api, refunds.path, her, 2) == (refunds.ids(CUSTOMER, range(5)), {5})
    assert walk(api, refunds.path, as_(AGENT_CLAIMS), 4) == (refunds.ids(CUSTOMER, range(5)), {5})


def test_a_channel_still_lists_only_the_reservations_it_made_for_visitors(api, as_, aws):
    from chalicelib.stock import store

    reservations = _named("reserveProductStock")
    reservations.seed(CUSTOMER, 0, 3)
    visitors = [{**reservations.href(reservations.make(n, "visitor", False)), "relatedParty": [],
                 "channel": [{"id": channel, "role": "salesChannel"}]} for n, channel in ((0, "web"), (1, "app"))]
    for doc in visitors:
        assert store.reserve(doc, {})
    web = as_({"role": "channel", "channel": "web", "sub": "web"})
    assert walk(api, reservations.path, web, 2) == ([visitors[0]["id"]], {1})



# --- the list window (OMNISHOP_LIST_WINDOW): a COUNT stops after window+1 items ---------------------
WINDOW = 15


@pytest.fixture
def window(monkeypatch):
    monkeypatch.setenv("OMNISHOP_LIST_WINDOW", str(WINDOW))
    return WINDOW


def _at(listed: Listed, offset: int, limit: int) -> str:
    return f"{listed.path}?offset={offset}&limit={limit}{'&' + listed.fields if listed.fields else ''}"


def _read(api, path: str, who: dict[str, str]) -> tuple[int, list | dict, dict, int]:
    """GET `path`: (status, body, headers, the DynamoDB items it read)."""
    from bench.harness import Calls

    calls = Calls()
    with calls.counting():
        status, body, headers = api.call("GET", path, who)
    return status, body, headers, calls.items_read


def _past_the_window(body: dict, offset: int) -> None:
    assert body["code"] == "offsetPastWindow" and body["status"] == "400" and body["@type"] == "Error", body
    assert f"offset {offset} is past the list window" in body["message"] and "filter" in body["message"], body


@pytest.mark.parametrize("listed", LISTS, ids=lambda x: x.name)
def test_past_the_window_a_list_says_no_total_and_reads_a_bounded_count(api, as_, aws, window, listed):
    """10 documents: the total exact, as before (and an offset past the end 200 []); MANY: no
    X-Total-Count, a Link to the next page with every other parameter kept; the COUNT reads
    window+1 items where it read 10, nothing else changes; offsets at or past the window are 400
    after reading no more than the count; the last page inside the window links no further."""
    import urllib.parse

    from tests.lists.bounded import next_link

    who = as_(listed.everyone)
    api.call("GET", f"{listed.path}?limit=1", who)   # the caller's first request reads its session
    listed.seed(CUSTOMER, 0, 10)
    status, body, headers, small = _read(api, _at(listed, OFFSET, LIMIT), who)
    assert status == 200 and [d["id"] for d in body] == listed.ids(CUSTOMER, _order(listed, range(10), listed.newest_first)[OFFSET:OFFSET + LIMIT])
    assert (headers["X-Total-Count"], headers["X-Result-Count"], "Link" in headers) == ("10", str(LIMIT), False)
    others = small - (10 + OFFSET + LIMIT)   # what the request reads besides the list (its access check)
    assert others >= 0, small
    status, body, headers = api.call("GET", _at(listed, 500, LIMIT), who)
    assert (status, body, headers["X-Total-Count"]) == (200, [], "10")

    listed.seed(CUSTOMER, FEW, MANY)
    status, body, headers, big = _read(api, _at(listed, OFFSET, LIMIT), who)
    order = _order(listed, range(MANY), listed.newest_first)
    assert status == 200 and [d["id"] for d in body] == listed.ids(CUSTOMER, order[OFFSET:OFFSET + LIMIT])
    assert "X-Total-Count" not in headers and headers["X-Result-Count"] == str(LIMIT), headers
    assert big == WINDOW + 1 + OFFSET + LIMIT + others, (big, small)
    following = next_link(headers)
    assert following is not None and following.startswith(listed.path + "?")
    assert urllib.parse.parse_qs(following.split("?", 1)[1]) == {
        "offset": [str(OFFSET + LIMIT)], "limit": [str(LIMIT)], **urllib.parse.parse_qs(listed.fields)}
    if listed.spec:
        assert tmf_spec.load(listed.spec[0]).problems(body, "GET", listed.spec[1], 200) == []

    status, body, headers, last = _read(api, _at(listed, WINDOW - 1, LIMIT), who)
    assert status == 200 and [d["id"] for d in body] == listed.ids(CUSTOMER, order[WINDOW - 1:WINDOW - 1 + LIMIT])
    assert "X-Total-Count" not in headers and "Link" not in headers, headers
    assert last == WINDOW + 1 + WINDOW - 1 + LIMIT + others, last
    for offset in (WINDOW, 5_000_000):
        status, body, _, deep = _read(api, _at(listed, offset, LIMIT), who)
        assert status == 400, body
        _past_the_window(body, offset)
        assert deep == WINDOW + 1 + others, deep


@pytest.mark.parametrize("listed", LISTS, ids=lambda x: x.name)
def test_the_links_walk_the_window_without_gaps_or_repeats(api, as_, aws, window, listed):
    from tests.lists.bounded import follow

    listed.seed(CUSTOMER, 0, 40)
    ids, answers = follow(api, f"{listed.path}?limit=4", as_(listed.everyone))
    assert ids == listed.ids(CUSTOMER, _order(listed, range(40), listed.newest_first)[:16]), ids
    assert len(answers) == 4 and "Link" not in answers[-1]
    if listed.owned:   # her own list past the window, beside another customer's
        listed.seed(OTHER, 0, 20)
        ids, answers = follow(api, f"{listed.path}?limit=5", as_(customer(OTHER)))
        assert ids == listed.ids(OTHER, _order(listed, range(20), listed.own_newest_first)[:15]), ids
        status, body, _ = api.call("GET", f"{listed.path}?offset={WINDOW}", as_(customer(OTHER)))
        assert status == 400, body
        _past_the_window(body, WINDOW)


@pytest.mark.parametrize("listed", [x for x in LISTS if x.name in ("campaign", "qualificationRule", "quote")],
                         ids=lambda x: x.name)
def test_a_list_of_exactly_the_window_has_its_total_and_one_more_has_none(api, as_, aws, window, listed):
    who = as_(listed.everyone)
    listed.seed(CUSTOMER, 0, WINDOW)
    status, body, headers = api.call("GET", _at(listed, WINDOW, 5), who)
    assert (status, body, headers["X-Total-Count"], "Link" in headers) == (200, [], str(WINDOW), False)
    listed.seed(CUSTOMER, WINDOW, WINDOW + 1)
    status, body, headers = api.call("GET", _at(listed, WINDOW - 5, 5), who)
    assert status == 200 and len(body) == 5 and "X-Total-Count" not in headers and "Link" not in headers
    status, body, _ = api.call("GET", _at(listed, WINDOW, 5), who)
    assert status == 400, body


def test_a_channels_days_past_the_window_read_on_into_the_day_whose_count_ran_out(api, web, aws, window):
    """Today's baskets counted (12), yesterday's counted until the window ran out (4 of 10): the
    total is not known, and the pages run through today's into yesterday's without a gap."""
    from tests.lists.bounded import follow

    today, yesterday = _anonymous(0, 0, 12), _anonymous(1, 0, 10)
    carts = _named("shoppingCart")
    ids, _ = follow(api, f"{carts.path}?limit=4&fields=id", web)
    assert ids == (today + yesterday)[:16]
    status, body, headers = api.call("GET", f"{carts.path}?offset=10&limit=5&fields=id", web)
    assert [d["id"] for d in body] == today[10:] + yesterday[:3] and "X-Total-Count" not in headers
