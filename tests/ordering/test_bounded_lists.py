"""Order lists page in DynamoDB (issue 16): an agent's list and a customer's own cost two Queries
and offset+limit orders whatever the number stored; pages walk every order once; a customer sees
only theirs; filtered lists still read their candidates."""
from __future__ import annotations

from chalicelib.ordering import store
from tests.support import tmf_spec
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CANCELS = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"


def order(n: int, customer: str = "cust-andrea") -> dict:
    oid = f"po-{customer}-{n:04d}"
    return {"id": oid, "href": f"http://localhost{ORDERS}/{oid}", "@type": "ProductOrder", "state": "completed",
            "orderDate": f"2026-01-01T00:00:{n // 100:02d}.{n % 100:02d}0Z",
            "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Individual"}],
            "productOrderItem": [{"id": "1", "action": "add", "state": "completed", "@type": "ProductOrderItem",
                                  "productOffering": {"id": "po-mobile-basic"}}]}


def seed(customer: str = "cust-andrea"):
    def add(first: int, last: int) -> None:
        for n in range(first, last):
            store.insert(order(n, customer))
    return add


def cancel(n: int) -> None:
    store.insert({"id": f"cancel-{n}", "href": f"http://localhost{CANCELS}/cancel-{n}", "@type": "CancelProductOrder",
                  "state": "done", "creationDate": f"2026-02-01T00:00:0{n}.000Z",
                  "productOrder": {"id": order(n)["id"]}, "relatedParty": order(n)["relatedParty"]},
                 kind="cancelProductOrder")


def test_an_agents_order_list_costs_the_same_at_10_and_200_orders(api, agent, aws):
    costs = page_costs(api, ORDERS, agent, seed())
    assert_same_cost(costs, "order")
    # oldest first: orders 3 .. 6 either way
    assert [o["id"] for o in costs[0][0]] == [o["id"] for o in costs[1][0]] == [order(n)["id"] for n in range(3, 7)]
    spec = tmf_spec.load("TMF622-ProductOrder-v4.0.0")
    assert spec.problems(costs[1][0], "GET", "/productOrder", 200) == []


def test_a_customers_own_order_list_costs_the_same_and_shows_only_theirs(api, andrea, aws):
    seed("cust-stacy")(0, 30)
    costs = page_costs(api, ORDERS, andrea, seed())
    assert_same_cost(costs, "order")
    # newest first: 200 orders stored, so 196 .. 193
    assert [o["id"] for o in costs[1][0]] == [order(n)["id"] for n in range(196, 192, -1)]


def test_order_pages_walk_every_order_once_and_the_total_is_right(api, agent, andrea, stacy, aws):
    seed("cust-andrea")(0, 23)
    seed("cust-stacy")(0, 5)
    cancel(1)
    ids, totals = walk(api, ORDERS, andrea, 7)
    assert ids == [order(n)["id"] for n in range(22, -1, -1)] and totals == {23}
    ids, totals = walk(api, ORDERS, stacy, 2)
    assert ids == [order(n, "cust-stacy")["id"] for n in range(4, -1, -1)] and totals == {5}
    ids, totals = walk(api, ORDERS, agent, 5)
    assert sorted(ids) == sorted([order(n)["id"] for n in range(23)] + [order(n, "cust-stacy")["id"] for n in range(5)])
    assert len(ids) == len(set(ids)) == 28 and totals == {28}
    assert walk(api, CANCELS, agent, 5) == (["cancel-1"], {1})
    status, body, headers = api.call("GET", f"{ORDERS}?offset=500&limit=5", agent)
    assert (status, body, headers["X-Total-Count"]) == (200, [], "28")


def test_a_filtered_order_list_reads_its_candidates_and_pages_them(api, agent, aws):
    seed()(0, 12)
    store.insert({**order(99), "state": "inProgress"})
    status, body, headers = api.call("GET", f"{ORDERS}?state=completed&offset=10&limit=5&fields=id", agent)
    assert status == 200 and [o["id"] for o in body] == [order(10)["id"], order(11)["id"]]
    assert headers["X-Total-Count"] == "12"


def test_bad_paging_of_orders_is_a_400(api, agent, andrea, aws):
    assert_bad_paging_refused(api, ORDERS, agent)
    assert_bad_paging_refused(api, ORDERS, andrea)
