"""Stock rules without AWS (chalicelib/stock/domain.py)."""
import datetime as dt

import pytest

from chalicelib.stock import domain

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)


def item(iid, amount, stock=None, offering=None):
    out = {"id": iid, "quantityRequested": {"amount": amount}}
    if stock:
        out["productStockRequested"] = {"id": stock}
    if offering:
        out["requestedProduct"] = {"productOffering": {"id": offering}}
    return out


def test_items_on_one_stock_add_up_and_an_offering_is_taken_where_the_reservation_says():
    assert domain.holds([item("1", 2, "a--central-warehouse"), item("2", 3, offering="a")], "central-warehouse") == \
        {"a--central-warehouse": 5}
    assert domain.holds([item("1", 1, offering="a")], "store-cork-patrick") == {"a--store-cork-patrick": 1}
    assert domain.holds([item("1", 1, "s"), item("2", 1)], "central-warehouse") == {}   # one names nothing


def test_a_reservation_holds_until_its_end_and_a_rejected_one_holds_nothing():
    body = {"reserveProductStockItem": [item("1", 2, "s")]}
    held = domain.new_reservation(body, "r", "h", NOW, "central-warehouse", {"s": "hs"}, "cust-a", None)
    assert held["validFor"]["endDateTime"] == "2026-12-01T09:30:00.000Z" and domain.held_quantities(held) == {"s": 2}
    assert domain.customer_of(held) == "cust-a" and "place" not in held    # the item named its stock
    assert domain.held_quantities(domain.ended(held, domain.RELEASED, "t")) == {}
    rejected = domain.new_reservation(body, "r", "h", NOW, "central-warehouse", None, None, "web")
    assert rejected["status"] == domain.REJECTED and domain.held_quantities(rejected) == {}
    assert domain.channel_of(rejected) == "web"


def test_who_sees_a_reservation():
    mine = {"relatedParty": [{"id": "cust-a", "role": "customer"}], "channel": [{"id": "web"}]}
    visitor = {"channel": [{"id": "web"}]}
    assert domain.reservation_visible(mine, "customer", "cust-a", "web")
    assert not domain.reservation_visible(mine, "customer", "cust-b", "web")
    assert not domain.reservation_visible(mine, "channel", None, "web")       # it names a customer
    assert domain.reservation_visible(visitor, "channel", None, "web")
    assert not domain.reservation_visible(visitor, "channel", None, "app")
    assert domain.reservation_visible(mine, "agent", None, None)


def test_what_names_a_stock_does_not_change():
    stock = domain.new_stock({"productStockLevel": {"amount": 1}, "productStockStatusType": "available",
                              "stockedProduct": {"productOffering": {"id": "a"}}}, "a--central-warehouse", "h", "t0")
    assert stock["place"]["id"] == "central-warehouse" and stock["productStockLevel"]["units"] == "unit"
    assert domain.stock_patched(stock, {"productStockLevel": {"amount": 7}}, "t1")["productStockLevel"]["amount"] == 7
    assert domain.stock_patched(stock, {"stockedProduct": {}}, "t1")["stockedProduct"] == stock["stockedProduct"]
    for patch in ({"stockedProduct": {"productOffering": {"id": "b"}}}, {"place": {"id": "store-cork-patrick"}},
                  {"id": "x"}, {"creationDate": "t9"}):
        with pytest.raises(ValueError):
            domain.stock_patched(stock, patch, "t1")


def test_an_orders_add_items_ask_for_their_stores_or_the_central_stock():
    items = [{"id": "1", "action": "add", "productOffering": {"id": "po-phone-x"}, "quantity": 2},
             {"id": "2", "action": "add", "productOffering": {"id": "po-phone-x"},
              "product": {"place": [{"id": "store-cork-patrick", "role": "pickUpStore"}]}},
             {"id": "3", "action": "modify", "productOffering": {"id": "po-phone-x"}},
             {"id": "4", "action": "add", "product": {"id": "prod-1"}}]
    asked = domain.order_stock_items(items)
    assert [(i["id"], i["productStockRequested"]["id"], i["quantityRequested"]["amount"]) for i in asked] == \
        [("1", "po-phone-x--central-warehouse", 2), ("2", "po-phone-x--store-cork-patrick", 1)]
    held = domain.for_order(domain.new_reservation({"reserveProductStockItem": asked}, "o-stock", "h", NOW,
                                                   "central-warehouse", {i["productStockRequested"]["id"]: "h" for i in asked},
                                                   None, None), {"id": "o", "href": "oh"})
    assert domain.order_of(held) == "o" and "endDateTime" not in held["validFor"]
