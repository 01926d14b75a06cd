"""Checkout holds handsets (chalicelib/ordering capture): an order's handsets are reserved in the
same transaction as the order, from the central warehouse or the store named for
click-and-collect; a short stock refuses the order (409, nothing written); cancelling the order,
or its failing, gives the stock back once; its completing consumes the hold. Plans and services
hold nothing."""

from chalicelib.stock import domain
from tests.stock.conftest import CENTRAL, CORK, RESERVE, STOCK, stored
from tests.support.names import CANCELS, ORDERS  # noqa: F401
from tests.support.orders import andrea_order, order_item, settle
from tests.support.stored import stored_items


def level(api, who, sid):
    return api.call("GET", f"{STOCK}/{sid}", who)[1]["productStockLevel"]["amount"]


def collect_in_cork(iid="1"):
    return order_item(iid, "po-phone-x", product={"place": [{"id": "store-cork-patrick", "role": "pickUpStore"}]})


def test_checkout_holds_the_handset_and_cancelling_gives_it_back_once(api, shop, andrea, agent):
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-phone-x", "po-phone-x-plan-24"))
    assert status == 201, order
    assert level(api, agent, CENTRAL) == 49
    status, held, _ = api.call("GET", f"{RESERVE}/{domain.order_reservation_id(order['id'])}", andrea)
    assert status == 200 and held["status"] == "reserved" and domain.held_quantities(held) == {CENTRAL: 1}
    assert held["relatedEntity"][0]["id"] == order["id"] and "endDateTime" not in held["validFor"]
    from chalicelib import tmf
    from chalicelib.stock import service
    assert service.sweep(tmf.iso(tmf.now().replace(year=tmf.now().year + 1))) == 0   # an order's hold does not expire
    assert level(api, agent, CENTRAL) == 49
    for who in (andrea, agent):   # an order's hold goes back only with the order
        status, error, _ = api.call("PATCH", f"{RESERVE}/{held['id']}", who, {"status": "released"})
        assert status == 422 and error["code"] == "orderReservation"
    assert level(api, agent, CENTRAL) == 49
    status, cancelled, _ = api.call("POST", CANCELS, andrea, {"productOrder": {"id": order["id"]}})
    assert status == 201, cancelled
    assert level(api, agent, CENTRAL) == 50
    assert api.call("GET", f"{RESERVE}/{held['id']}", andrea)[1]["status"] == "released"
    assert api.call("POST", CANCELS, andrea, {"productOrder": {"id": order["id"]}})[0] == 422
    assert level(api, agent, CENTRAL) == 50


def test_click_and_collect_takes_the_stores_unit_and_the_next_order_is_refused(api, shop, andrea, headers, agent):
    body = {"productOrderItem": [collect_in_cork()],
            "relatedParty": [{"id": "cust-andrea", "role": "customer", "@referredType": "Customer"}]}
    status, order, _ = api.call("POST", ORDERS, andrea, body)
    assert status == 201, order
    assert level(api, agent, CORK) == 0 and level(api, agent, CENTRAL) == 50
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    orders, reservations = len(stored_items("order")), len(stored())
    status, error, _ = api.call("POST", ORDERS, stacy, {"productOrderItem": [collect_in_cork()]})
    assert status == 409 and error["code"] == "insufficientStock", error
    assert len(stored_items("order")) == orders and len(stored()) == reservations and level(api, agent, CORK) == 0


def test_plans_and_services_hold_nothing(api, shop, andrea, agent):
    before = stored()
    status, order, _ = api.call("POST", ORDERS, andrea, andrea_order("po-mobile-unlimited"))
    assert status == 201, order
    assert stored() == before


def test_a_completed_order_consumes_its_hold_and_a_failed_one_gives_it_back(api, shop, andrea, agent, stacks, pump):
    _, shipped, _ = api.call("POST", ORDERS, andrea, andrea_order("po-phone-x"))
    assert settle(pump, shipped["id"])["state"] == "completed"
    held = api.call("GET", f"{RESERVE}/{domain.order_reservation_id(shipped['id'])}", andrea)[1]
    assert held["status"] == "consumed" and level(api, agent, CENTRAL) == 49
    failing = {"productOrderItem": [order_item("1", "po-phone-x", product={"productCharacteristic": [
        {"name": "simulateFailure", "value": "true"}]})]}
    _, failed, _ = api.call("POST", ORDERS, andrea, failing)
    assert level(api, agent, CENTRAL) == 48
    assert settle(pump, failed["id"])["state"] == "failed"
    held = api.call("GET", f"{RESERVE}/{domain.order_reservation_id(failed['id'])}", andrea)[1]
    assert held["status"] == "released" and level(api, agent, CENTRAL) == 49
