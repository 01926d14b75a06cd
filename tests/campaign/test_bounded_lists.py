"""Campaign lists page in DynamoDB (issue 16): the list (by name) costs the same calls and
offset+limit campaigns whatever the number stored; pages walk every campaign once; filters still
work; bad paging is a 400."""
from __future__ import annotations

from chalicelib.campaign import store
from tests.campaign.conftest import BASE
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk

CAMPAIGNS = f"{BASE}/campaign"


def campaign(n: int, status: str = "active") -> dict:
    cid = f"camp-{n:04d}"
    return {"id": cid, "href": f"http://localhost{CAMPAIGNS}/{cid}", "@type": "Campaign", "name": f"Campaign {n:04d}",
            "lifecycleStatus": status}


def seed(first: int, last: int) -> None:
    for n in range(first, last):
        store.write(campaign(n), None)


def ids(first: int, last: int) -> list[str]:
    return [campaign(n)["id"] for n in range(first, last)]


def test_a_campaign_list_costs_the_same_at_10_and_200(api, marketing, aws):
    costs = page_costs(api, CAMPAIGNS, marketing, seed)
    assert_same_cost(costs, "campaign")
    assert [c["id"] for c in costs[0][0]] == [c["id"] for c in costs[1][0]] == ids(3, 7)


def test_campaign_pages_walk_every_campaign_once_and_the_total_is_right(api, marketing, agent, aws):
    seed(0, 23)
    assert walk(api, CAMPAIGNS, marketing, 7) == (ids(0, 23), {23})
    assert walk(api, CAMPAIGNS, agent, 23) == (ids(0, 23), {23})
    store.write(campaign(99, status="retired"), None)
    status, body, headers = api.call("GET", f"{CAMPAIGNS}?lifecycleStatus=active&offset=20&limit=5&fields=id", marketing)
    assert status == 200 and [c["id"] for c in body] == ids(20, 23) and headers["X-Total-Count"] == "23"
    status, body, headers = api.call("GET", f"{CAMPAIGNS}?offset=500&limit=5", marketing)
    assert (status, body, headers["X-Total-Count"]) == (200, [], "24")


def test_bad_paging_of_campaigns_is_a_400(api, marketing, aws):
    assert_bad_paging_refused(api, CAMPAIGNS, marketing)
