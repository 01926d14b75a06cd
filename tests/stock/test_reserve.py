"""TMF687 reserveProductStock over HTTP and through the service: a reservation takes stock in
one conditional transaction (never oversold: 20 buyers of the last unit, one reservation),
all items or none, expires (the sweep, or the next buyer of that stock, gives it back), is
released once however often it is asked, and is seen only by whom it belongs to."""
import concurrent.futures
import datetime as dt
import json
import time

import pytest

from chalicelib import tmf
from chalicelib.stock import domain
from tests.stock.conftest import CENTRAL, CORK, DUBLIN, RESERVE, STOCK, reservation, stored, valid


def level(api, who, sid):
    return api.call("GET", f"{STOCK}/{sid}", who)[1]["productStockLevel"]["amount"]


def held(api, who, sid):
    """What reservations hold of a stock now (from the reservations, not the level)."""
    _, items, _ = api.call("GET", f"{RESERVE}?status=reserved", who)
    return sum(domain.held_quantities(r).get(sid, 0) for r in items)


def by_offering(location, amount=1, offering="po-phone-x"):
    return {"place": {"id": location, "role": "stockLocation"}, "reserveProductStockItem": [
        {"id": "1", "quantityRequested": {"amount": amount}, "requestedProduct": {"productOffering": {"id": offering}}}]}


def test_a_reservation_takes_stock_and_a_release_gives_it_back_once(api, demo, web, agent):
    status, made, headers = api.call("POST", RESERVE, web, by_offering("store-dublin-grafton", 3))
    assert status == 201 and valid(made, "ReserveProductStock") and headers["Location"] == made["href"]
    assert made["reserveProductStockState"] == "done" and made["status"] == "reserved"
    item = made["reserveProductStockItem"][0]
    assert item["productStockReserved"]["id"] == DUBLIN and item["quantityReserved"]["amount"] == 3
    end = tmf.parse_datetime(made["validFor"]["endDateTime"], "end")
    assert dt.timedelta(minutes=29) < end - tmf.now() <= dt.timedelta(minutes=30)
    assert level(api, agent, DUBLIN) == 1 and held(api, agent, DUBLIN) == 3
    record = next(i for i in stored() if i["pk"]["S"] == made["id"])
    assert "expires" not in record and record["due"]["S"] == "held"      # a hold is never deleted by TTL
    for _ in range(3):   # the same release again (a retry, a replay) gives nothing back twice
        status, released, _ = api.call("PATCH", f"{RESERVE}/{made['id']}", web, {"status": "released"})
        assert status == 200 and released["status"] == "released"
        assert level(api, agent, DUBLIN) == 4 and held(api, agent, DUBLIN) == 0
    assert api.call("GET", f"{RESERVE}/{made['id']}", web)[1]["status"] == "released"
    record = next(i for i in stored() if i["pk"]["S"] == made["id"])
    kept = int(record["expires"]["N"]) - time.time()          # released: kept 90 days, then TTL deletes it
    assert "due" not in record and 89 * 86400 < kept <= 90 * 86400


def test_twenty_buyers_of_the_last_unit_one_reservation(aws, demo):
    from chalicelib.auth import Caller
    from chalicelib.errors import ApiError
    from chalicelib.stock import service

    def buy(n):
        buyer = Caller(sub=f"cust-{n}", role="channel", channel="web")
        try:
            service.reserve(reservation((CORK, 1)), buyer)
            return 201
        except ApiError as exc:
            return (exc.status, exc.code)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(buy, range(20)))
    assert answers.count(201) == 1, answers
    assert all(a in (201, (409, "insufficientStock"), (409, "transactionConflict")) for a in answers), answers
    assert service.read_stock(CORK, Caller(sub="a", role="agent"))[0]["productStockLevel"]["amount"] == 0
    holding = [i for i in stored() if i.get("due", {}).get("S") == "held"]
    assert len(holding) == 1


def test_all_items_or_none(api, demo, web, agent):
    before = stored()
    status, error, _ = api.call("POST", RESERVE, web, reservation((DUBLIN, 2), (CORK, 2)))
    assert status == 409 and error["code"] == "insufficientStock" and CORK in error["message"]
    assert stored() == before and level(api, agent, DUBLIN) == 4
    status, error, _ = api.call("POST", RESERVE, web, reservation((DUBLIN, 1), ("po-nothing--central-warehouse", 1)))
    assert status == 422 and error["code"] == "unknownStock"
    assert stored() == before
    status, made, _ = api.call("POST", RESERVE, web, reservation((DUBLIN, 2), (DUBLIN, 2), (CORK, 1)))
    assert status == 201 and level(api, agent, DUBLIN) == 0 and level(api, agent, CORK) == 0
    assert domain.held_quantities(made) == {DUBLIN: 4, CORK: 1}


def test_an_item_naming_no_product_is_a_rejected_reservation_holding_nothing(api, demo, admin, agent):
    body = {"reserveProductStockItem": [{"id": "1", "quantityRequested": {"amount": 1}}]}   # the kit's
    status, made, _ = api.call("POST", RESERVE, admin, body)
    assert status == 201 and made["reserveProductStockState"] == "terminatedWithError" and made["status"] == "rejected"
    assert made["reserveProductStockItem"][0]["quantityReserved"]["amount"] == 0
    assert [level(api, agent, s) for s in (CENTRAL, DUBLIN, CORK)] == [50, 4, 1]
    assert api.call("PATCH", f"{RESERVE}/{made['id']}", admin, {"status": "released"})[1]["status"] == "rejected"
    assert [level(api, agent, s) for s in (CENTRAL, DUBLIN, CORK)] == [50, 4, 1]


def test_expired_holds_go_back_once(aws, demo, api, web, agent):
    from chalicelib.stock import service
    from functions import stock_sweep

    _, made, _ = api.call("POST", RESERVE, web, reservation((DUBLIN, 4)))
    assert level(api, agent, DUBLIN) == 0
    assert service.sweep(tmf.now_iso()) == 0           # not yet due
    later = tmf.iso(tmf.now() + dt.timedelta(minutes=31))
    assert service.sweep(later) == 1 and service.sweep(later) == 0
    assert level(api, agent, DUBLIN) == 4
    assert api.call("GET", f"{RESERVE}/{made['id']}", web)[1]["status"] == "expired"
    status, after, _ = api.call("PATCH", f"{RESERVE}/{made['id']}", web, {"status": "released"})
    assert status == 200 and after["status"] == "expired" and level(api, agent, DUBLIN) == 4
    assert stock_sweep.handler({}, None) == {"expired": 0}


def test_the_next_buyer_of_a_stock_ends_its_expired_holds_first(aws, demo, api, web, agent, monkeypatch):
    _, first, _ = api.call("POST", RESERVE, web, reservation((CORK, 1)))
    assert api.call("POST", RESERVE, web, reservation((CORK, 1)))[0] == 409
    monkeypatch.setattr(tmf, "now", lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=31))
    status, second, _ = api.call("POST", RESERVE, web, reservation((CORK, 1)))
    assert status == 201 and level(api, agent, CORK) == 0
    assert api.call("GET", f"{RESERVE}/{first['id']}", web)[1]["status"] == "expired"


def test_the_same_request_twice_with_an_idempotency_key_holds_once(api, demo, web, agent):
    keyed = {**web, "Idempotency-Key": "basket-42-checkout"}
    first = api.call("POST", RESERVE, keyed, reservation((DUBLIN, 1)))
    again = api.call("POST", RESERVE, keyed, reservation((DUBLIN, 1)))
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    assert level(api, agent, DUBLIN) == 3


def test_who_reserves_and_who_sees_it(api, demo, headers, web, andrea, agent, admin):
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    app = headers("channel", channel="app", sub="app")
    for refused in (headers("marketing", sub="m"), headers("stack", sub="csp-stack-b", stack="csp-stack-b")):
        assert api.call("POST", RESERVE, refused, reservation((CORK, 1)))[0] == 403
        assert api.call("GET", RESERVE, refused)[0] == 403
    status, mine, _ = api.call("POST", RESERVE, andrea, reservation((DUBLIN, 1)))
    assert status == 201 and domain.customer_of(mine) == "cust-andrea"
    other = reservation((DUBLIN, 1), relatedParty=[{"id": "cust-stacy", "role": "customer"}])
    assert api.call("POST", RESERVE, andrea, other)[0] == 403
    assert api.call("POST", RESERVE, web, other)[1]["code"] == "identifyCustomer"
    _, visitor, _ = api.call("POST", RESERVE, web, reservation((DUBLIN, 1)))
    for who, sees in ((andrea, {mine["id"]}), (stacy, set()), (web, {visitor["id"]}), (app, set()),
                      (agent, {mine["id"], visitor["id"]}), (admin, {mine["id"], visitor["id"]})):
        assert {r["id"] for r in api.call("GET", RESERVE, who)[1]} == sees
    for who, rid in ((stacy, mine["id"]), (app, visitor["id"]), (web, mine["id"])):
        assert api.call("GET", f"{RESERVE}/{rid}", who)[0] == 404
        assert api.call("PATCH", f"{RESERVE}/{rid}", who, {"status": "released"})[0] == 404
    assert level(api, agent, DUBLIN) == 2
    assert api.call("PATCH", f"{RESERVE}/{mine['id']}", agent, {"status": "released"})[0] == 200
    assert level(api, agent, DUBLIN) == 3


BAD = [
    ("not json", b"{", 400),
    ("too deep", b'{"a":' * 40 + b"1" + b"}" * 40, 400),
    ("no items", {}, 400),
    ("empty items", {"reserveProductStockItem": []}, 400),
    ("too many items", reservation(*[(DUBLIN, 1)] * 21), 400),
    ("zero", reservation((DUBLIN, 0)), 400),
    ("negative", reservation((DUBLIN, -1)), 400),
    ("fraction", reservation((DUBLIN, 0.5)), 400),
    ("no quantity", {"reserveProductStockItem": [{"id": "1", "productStockRequested": {"id": DUBLIN}}]}, 400),
    ("no item id", {"reserveProductStockItem": [{"quantityRequested": {"amount": 1}}]}, 400),
    ("same item id twice", {"reserveProductStockItem": [{"id": "1", "quantityRequested": {"amount": 1}}] * 2}, 400),
    ("unknown place", by_offering("store-moon"), 422),
    ("more than held", reservation((DUBLIN, 5)), 409),
]


@pytest.mark.parametrize("name,body,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_reservations_are_4xx_and_hold_nothing(api, demo, web, name, body, expected):
    before = stored()
    status, error, _ = api.call("POST", RESERVE, web, body)
    assert status == expected and error["@type"] == "Error", error
    assert stored() == before


def test_bad_releases_change_nothing(api, demo, web, agent):
    _, made, _ = api.call("POST", RESERVE, web, reservation((DUBLIN, 1)))
    for patch in ({"status": "reserved"}, {"status": "released", "note": "x"}, {"reserveProductStockState": "done"}, {}):
        assert api.call("PATCH", f"{RESERVE}/{made['id']}", web, patch)[0] == 400, patch
    assert api.call("PATCH", f"{RESERVE}/{made['id']}", web, json.dumps([1]))[0] == 400
    assert level(api, agent, DUBLIN) == 3
