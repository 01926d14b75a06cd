"""Promotion lists page in DynamoDB (issue 16): a marketer's or agent's list (every promotion, by
name) costs the same calls and offset+limit promotions whatever the number stored; pages walk
every promotion once; a channel still sees live ones only; bad paging is a 400."""
from __future__ import annotations

from chalicelib.promotion import store
from tests.promotion.conftest import PROMOTIONS, valid
from tests.support.bounded import assert_bad_paging_refused, assert_same_cost, page_costs, walk


def promotion(n: int, status: str = "active") -> dict:
    rid = f"promo-{n:04d}"
    return {"id": rid, "href": f"http://localhost{PROMOTIONS}/{rid}", "@type": "Promotion", "name": f"Promo {n:04d}",
            "lifecycleStatus": status, "promotionType": "Discount",
            "validFor": {"startDateTime": "2026-01-01T00:00:00.000Z", "endDateTime": "2027-01-01T00:00:00.000Z"}}


def seed(first: int, last: int) -> None:
    for n in range(first, last):
        assert store.insert(promotion(n)) == 1


def ids(first: int, last: int) -> list[str]:
    return [promotion(n)["id"] for n in range(first, last)]


def test_a_promotion_list_costs_the_same_at_10_and_200(api, marketing, aws):
    costs = page_costs(api, PROMOTIONS, marketing, seed)
    assert_same_cost(costs, "promotion")
    assert [p["id"] for p in costs[0][0]] == [p["id"] for p in costs[1][0]] == ids(3, 7)
    assert valid(costs[1][0], "GET", "/promotion", 200)


def test_promotion_pages_walk_every_promotion_once_and_the_total_is_right(api, marketing, agent, web, aws):
    seed(0, 23)
    store.insert({**promotion(99), "lifecycleStatus": "draft"})
    assert walk(api, PROMOTIONS, marketing, 7) == (ids(0, 23) + ids(99, 100), {24})
    assert walk(api, PROMOTIONS, agent, 24) == (ids(0, 23) + ids(99, 100), {24})
    seen, totals = walk(api, PROMOTIONS, web, 5)   # a channel: live promotions only, filtered as before
    assert promotion(99)["id"] not in seen and len(seen) == len(set(seen)) and totals == {len(seen)}
    status, body, headers = api.call("GET", f"{PROMOTIONS}?offset=500&limit=5", marketing)
    assert (status, body, headers["X-Total-Count"]) == (200, [], "24")


def test_bad_paging_of_promotions_is_a_400(api, marketing, aws):
    assert_bad_paging_refused(api, PROMOTIONS, marketing)
