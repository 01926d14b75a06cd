"""partyInteraction lists page in DynamoDB (issue 16): an agent's list and a customer's own cost
the same calls and offset+limit interactions whatever the number stored; pages walk every
interaction once, newest first; a customer sees only theirs; filters still work; bad paging 400."""
from __future__ import annotations

from chalicelib.customer import store
from tests.customer.conftest import PI
from tests.support import tmf_spec
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk

INTERACTIONS = f"{PI}/partyInteraction"


def interaction(n: int, customer: str = "cust-andrea", reason: str = "call") -> tuple[dict, str]:
    at = f"2026-01-01T00:00:{n // 100:02d}.{n % 100:02d}0Z"
    iid = f"pi-{customer}-{n:04d}"
    return {"id": iid, "href": f"http://localhost{INTERACTIONS}/{iid}", "@type": "PartyInteraction",
            "reason": reason, "status": "completed", "interactionDate": {"startDateTime": at},
            "relatedParty": [{"id": customer, "href": f"http://localhost/tmf-api/customerManagement/v4/customer/{customer}",
                              "role": "customer", "@referredType": "Individual"}]}, at


def seed(customer: str = "cust-andrea", reason: str = "call"):
    def add(first: int, last: int) -> None:
        for n in range(first, last):
            doc, at = interaction(n, customer, reason)
            assert store.insert_interaction(store.customer_pk(customer), doc, at)
    return add


def ids(first: int, last: int, customer: str = "cust-andrea") -> list[str]:
    step = 1 if last >= first else -1
    return [interaction(n, customer)[0]["id"] for n in range(first, last, step)]


def test_an_agents_interaction_list_costs_the_same_at_10_and_200(api, agent, aws):
    costs = page_costs(api, INTERACTIONS, agent, seed())
    assert_same_cost(costs, "customer")
    assert [i["id"] for i in costs[0][0]] == ids(6, 2) and [i["id"] for i in costs[1][0]] == ids(196, 192)
    spec = tmf_spec.load("TMF683-PartyInteraction-v4.0.0")
    assert spec.problems(costs[1][0], "GET", "/partyInteraction", 200) == []


def test_a_customers_own_interaction_list_costs_the_same_and_shows_only_theirs(api, as_customer, aws):
    seed("cust-stacy")(0, 30)
    costs = page_costs(api, INTERACTIONS, as_customer("cust-andrea"), seed())
    assert_same_cost(costs, "customer")
    assert [i["id"] for i in costs[1][0]] == ids(196, 192)


def test_interaction_pages_walk_every_interaction_once_and_the_total_is_right(api, agent, as_customer, aws):
    seed("cust-andrea")(0, 23)
    seed("cust-stacy")(0, 5)
    assert walk(api, INTERACTIONS, as_customer("cust-andrea"), 7) == (ids(22, -1), {23})
    assert walk(api, INTERACTIONS, as_customer("cust-stacy"), 2) == (ids(4, -1, "cust-stacy"), {5})
    seen, totals = walk(api, INTERACTIONS, agent, 5)
    assert len(seen) == len(set(seen)) == 28 and totals == {28}
    assert set(seen) == set(ids(0, 23)) | set(ids(0, 5, "cust-stacy"))
    status, body, headers = api.call("GET", f"{INTERACTIONS}?offset=500&limit=5", agent)
    assert (status, body, headers["X-Total-Count"]) == (200, [], "28")


def test_a_filtered_interaction_list_reads_its_candidates_and_pages_them(api, agent, aws):
    seed()(0, 12)
    seed("cust-stacy", reason="visit")(0, 3)
    status, body, headers = api.call("GET", f"{INTERACTIONS}?reason=call&offset=10&limit=5&fields=id", agent)
    assert status == 200 and [i["id"] for i in body] == ids(1, -1)
    assert headers["X-Total-Count"] == "12"


def test_bad_paging_of_interactions_is_a_400(api, agent, as_customer, aws):
    assert_bad_paging_refused(api, INTERACTIONS, agent)
    assert_bad_paging_refused(api, INTERACTIONS, as_customer("cust-andrea"))
