"""Quote lists page in DynamoDB (issue 16): an agent's list and a customer's own cost the same
calls and offset+limit quotes whatever the number stored; pages walk every quote once; a customer
sees only theirs; filtered lists still read their candidates; bad paging is a 400."""
from __future__ import annotations

from chalicelib.quote import store
from tests.quote.conftest import ACME, ANDREA, QUOTES, valid
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk


def quote(n: int, customer: str = ACME, state: str = "inProgress") -> dict:
    qid = f"q-{customer}-{n:04d}"
    return {"id": qid, "href": f"http://localhost{QUOTES}/{qid}", "@type": "Quote", "state": state,
            "quoteDate": f"2026-01-01T00:00:{n // 100:02d}.{n % 100:02d}0Z", "version": "1",
            "quoteItem": [{"id": "1", "action": "add", "state": "inProgress", "quantity": 1,
                           "productOffering": {"id": "po-mobile-basic"}}],
            "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Customer"}]}


def seed(customer: str = ACME):
    def add(first: int, last: int) -> None:
        for n in range(first, last):
            assert store.insert(quote(n, customer)) == 1
    return add


def test_an_agents_quote_list_costs_the_same_at_10_and_200_quotes(api, agent, aws):
    costs = page_costs(api, QUOTES, agent, seed())
    assert_same_cost(costs, "quote")
    assert [q["id"] for q in costs[0][0]] == [q["id"] for q in costs[1][0]] == [quote(n)["id"] for n in range(3, 7)]
    assert all(valid(q) for q in costs[1][0])


def test_a_customers_own_quote_list_costs_the_same_and_shows_only_theirs(api, acme, aws):
    seed(ANDREA)(0, 30)
    costs = page_costs(api, QUOTES, acme, seed())
    assert_same_cost(costs, "quote")
    assert [q["id"] for q in costs[1][0]] == [quote(n)["id"] for n in range(3, 7)]


def test_quote_pages_walk_every_quote_once_and_the_total_is_right(api, agent, acme, headers, aws):
    andrea = headers("customer", channel="web", customerId=ANDREA, sub=ANDREA)
    seed(ACME)(0, 23)
    seed(ANDREA)(0, 5)
    ids, totals = walk(api, QUOTES, acme, 7)
    assert ids == [quote(n)["id"] for n in range(23)] and totals == {23}
    ids, totals = walk(api, QUOTES, andrea, 2)
    assert ids == [quote(n, ANDREA)["id"] for n in range(5)] and totals == {5}
    ids, totals = walk(api, QUOTES, agent, 5)
    assert len(ids) == len(set(ids)) == 28 and totals == {28}
    assert set(ids) == {quote(n)["id"] for n in range(23)} | {quote(n, ANDREA)["id"] for n in range(5)}
    status, body, headers_ = api.call("GET", f"{QUOTES}?offset=500&limit=5", agent)
    assert (status, body, headers_["X-Total-Count"]) == (200, [], "28")


def test_a_filtered_quote_list_reads_its_candidates_and_pages_them(api, agent, aws):
    seed()(0, 12)
    store.insert(quote(99, state="accepted"))
    status, body, headers = api.call("GET", f"{QUOTES}?state=inProgress&offset=10&limit=5&fields=id", agent)
    assert status == 200 and [q["id"] for q in body] == [quote(10)["id"], quote(11)["id"]]
    assert headers["X-Total-Count"] == "12"


def test_bad_paging_of_quotes_is_a_400(api, agent, acme, aws):
    assert_bad_paging_refused(api, QUOTES, agent)
    assert_bad_paging_refused(api, QUOTES, acme)
