"""Product inventory lists page in DynamoDB (issue 16): an agent's list, a customer's own and a
stack's cost the same calls and offset+limit products whatever the number stored; pages walk every
product once; each caller sees only theirs; filters still work; bad paging is a 400."""
from __future__ import annotations

from chalicelib.inventory import store
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk
from tests.support.names import PRODUCTS
from tests.support.products import valid_product


def product(n: int, customer: str = "cust-andrea", stack: str = "csp-stack-a", status: str = "active") -> dict:
    pid = f"prod-{customer}-{n:04d}"
    return {"id": pid, "href": f"http://localhost{PRODUCTS}/{pid}", "@type": "Product", "name": f"Line {n}",
            "status": status, "startDate": f"2026-01-01T00:00:{n // 100:02d}.{n % 100:02d}0Z",
            "productOffering": {"id": "po-mobile-basic"},
            "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Customer"},
                             {"id": stack, "name": stack, "role": "fulfilmentStack", "@referredType": "Organization"}]}


def seed(customer: str = "cust-andrea", stack: str = "csp-stack-a"):
    def add(first: int, last: int) -> None:
        for n in range(first, last):
            assert store.insert(product(n, customer, stack)) == 1
    return add


def ids(first: int, last: int, customer: str = "cust-andrea") -> list[str]:
    return [product(n, customer)["id"] for n in range(first, last)]


def test_an_agents_product_list_costs_the_same_at_10_and_200(api, agent, aws):
    costs = page_costs(api, PRODUCTS, agent, seed())
    assert_same_cost(costs, "inventory")
    assert [p["id"] for p in costs[0][0]] == [p["id"] for p in costs[1][0]] == ids(3, 7)
    assert all(valid_product(p) for p in costs[1][0])


def test_a_customers_and_a_stacks_product_lists_cost_the_same_and_show_only_theirs(api, headers, aws):
    seed("cust-stacy", "csp-stack-b")(0, 30)
    andrea = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    assert_same_cost(page_costs(api, PRODUCTS, andrea, seed()), "inventory")
    partner = headers("stack", sub="iot-partner-x", stack="iot-partner-x")
    costs = page_costs(api, PRODUCTS, partner, seed("cust-bob", "iot-partner-x"))
    assert_same_cost(costs, "inventory")
    assert [p["id"] for p in costs[1][0]] == ids(3, 7, "cust-bob")


def test_product_pages_walk_every_product_once_and_the_total_is_right(api, agent, headers, aws):
    seed("cust-andrea")(0, 23)
    seed("cust-stacy", "csp-stack-b")(0, 5)
    andrea = headers("customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    assert walk(api, PRODUCTS, andrea, 7) == (ids(0, 23), {23})
    assert walk(api, PRODUCTS, headers("stack", sub="csp-stack-b", stack="csp-stack-b"), 2) == \
        (ids(0, 5, "cust-stacy"), {5})
    seen, totals = walk(api, PRODUCTS, agent, 5)
    assert len(seen) == len(set(seen)) == 28 and totals == {28}
    assert set(seen) == set(ids(0, 23)) | set(ids(0, 5, "cust-stacy"))
    status, body, headers_ = api.call("GET", f"{PRODUCTS}?offset=500&limit=5", agent)
    assert (status, body, headers_["X-Total-Count"]) == (200, [], "28")


def test_a_filtered_product_list_reads_its_candidates_and_pages_them(api, agent, aws):
    seed()(0, 12)
    store.insert(product(99, status="terminated"))
    status, body, headers = api.call("GET", f"{PRODUCTS}?status=active&offset=10&limit=5&fields=id", agent)
    assert status == 200 and [p["id"] for p in body] == ids(10, 12)
    assert headers["X-Total-Count"] == "12"


def test_bad_paging_of_products_is_a_400(api, agent, headers, aws):
    assert_bad_paging_refused(api, PRODUCTS, agent)
    assert_bad_paging_refused(api, PRODUCTS, headers("customer", channel="web", customerId="cust-andrea", sub="x"))
