"""communicationMessage lists page in DynamoDB (issue 16): an agent's list and a customer's own
cost the same calls and offset+limit messages whatever the number stored; pages walk every message
once, newest first; a customer sees only theirs; filtered lists still work; bad paging is a 400."""
from __future__ import annotations

from chalicelib import db
from chalicelib.notify import store
from chalicelib.notify.domain import MessageRequest
from tests.support import tmf_spec
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk

MESSAGES = "/tmf-api/communicationManagement/v4/communicationMessage"


def message(n: int, customer: str = "cust-andrea", kind: str = "SMS") -> dict:
    mid = f"msg-{customer}-{n:04d}"
    return {"id": mid, "href": f"http://localhost{MESSAGES}/{mid}", "@type": "CommunicationMessage",
            "messageType": kind, "content": f"message {n}", "state": "completed",
            "creationDate": f"2026-01-01T00:00:{n // 100:02d}.{n % 100:02d}0Z",
            "receiver": [{"id": customer, "@type": "Receiver"}], "sender": {"id": "omnishop", "@type": "Sender"}}


def seed(customer: str = "cust-andrea"):
    def add(first: int, last: int) -> None:
        for n in range(first, last):
            with db.transaction() as tx:
                store.insert_in(tx, message(n, customer),
                                MessageRequest(customer_id=customer, purpose="service", content=f"message {n}"))
    return add


def test_an_agents_message_list_costs_the_same_at_10_and_200_messages(api, agent, aws):
    costs = page_costs(api, MESSAGES, agent, seed())
    assert_same_cost(costs, "notify")
    # newest first: messages 6 .. 3 of 10, 196 .. 193 of 200
    assert [m["id"] for m in costs[0][0]] == [message(n)["id"] for n in range(6, 2, -1)]
    assert [m["id"] for m in costs[1][0]] == [message(n)["id"] for n in range(196, 192, -1)]
    spec = tmf_spec.load("TMF681-Communication-v4.0.0")
    assert spec.problems(costs[1][0], "GET", "/communicationMessage", 200) == []


def test_a_customers_own_message_list_costs_the_same_and_shows_only_theirs(api, andrea, aws):
    seed("cust-stacy")(0, 30)
    costs = page_costs(api, MESSAGES, andrea, seed())
    assert_same_cost(costs, "notify")
    assert [m["id"] for m in costs[1][0]] == [message(n)["id"] for n in range(196, 192, -1)]


def test_message_pages_walk_every_message_once_and_the_total_is_right(api, agent, andrea, stacy, aws):
    seed("cust-andrea")(0, 23)
    seed("cust-stacy")(0, 5)
    ids, totals = walk(api, MESSAGES, andrea, 7)
    assert ids == [message(n)["id"] for n in range(22, -1, -1)] and totals == {23}
    ids, totals = walk(api, MESSAGES, stacy, 2)
    assert ids == [message(n, "cust-stacy")["id"] for n in range(4, -1, -1)] and totals == {5}
    ids, totals = walk(api, MESSAGES, agent, 5)
    assert len(ids) == len(set(ids)) == 28 and totals == {28}
    assert set(ids) == {message(n)["id"] for n in range(23)} | {message(n, "cust-stacy")["id"] for n in range(5)}
    status, body, headers = api.call("GET", f"{MESSAGES}?offset=500&limit=5", agent)
    assert (status, body, headers["X-Total-Count"]) == (200, [], "28")


def test_a_filtered_message_list_reads_its_candidates_and_pages_them(api, agent, aws):
    seed()(0, 12)
    with db.transaction() as tx:
        store.insert_in(tx, message(99, kind="Email"), MessageRequest(customer_id="cust-andrea", purpose="service",
                                                                      content="an email"))
    status, body, headers = api.call("GET", f"{MESSAGES}?messageType=SMS&offset=10&limit=5&fields=id", agent)
    assert status == 200 and [m["id"] for m in body] == [message(1)["id"], message(0)["id"]]
    assert headers["X-Total-Count"] == "12"


def test_bad_paging_of_messages_is_a_400(api, agent, andrea, aws):
    assert_bad_paging_refused(api, MESSAGES, agent)
    assert_bad_paging_refused(api, MESSAGES, andrea)
