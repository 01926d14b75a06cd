"""An order nobody pays does not hold its handsets and engineer slots for ever (the payment window
and the sweep); a declined or expired order can be paid again, its holds taken back with the new
payment or a clear 409 and nothing charged; concurrent re-pays, sweeps and callbacks are one;
an account payment that charges needs an Idempotency-Key."""
import concurrent.futures

from chalicelib.auth import Caller
from chalicelib.errors import ApiError
from chalicelib.payment import domain
from tests.payment.conftest import CALLBACK, PAYMENTS, level, order, read_order, payment_for, signed, valid  # noqa: F401
from tests.support.names import CANCELS, CENTRAL, ORDERS, STOCK  # noqa: F401
from tests.support.orders import settle, workflow_status

PHONE = "po-phone-x"
LATER = "2999-01-01T00:00:00.000Z"
ANDREA = Caller(sub="cust-andrea", role="customer", customer_id="cust-andrea", channel="web")


def at_once(fn, n=8):
    """`fn(i)` from n threads at once: each answer, or (status, code) for an ApiError."""
    def run(i):
        try:
            return fn(i)
        except ApiError as exc:
            return exc.status, exc.code

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def appointment_status(booking_id):
    from chalicelib.appointment import store

    return store.load(booking_id)[0]["status"]


def test_an_order_nobody_pays_releases_its_handset_and_slot_when_its_window_ends(api, shop, andrea, agent, pump,
                                                                                 stacks):
    from chalicelib.payment import service
    from tests.support.appointments import installed

    [booking] = installed("cust-andrea", "po-home-security")
    placed = order(api, andrea, PHONE, "po-home-security")
    assert level(api, agent) == 49 and appointment_status(booking["id"]) == "confirmed"
    assert service.sweep() == 0 and read_order(api, andrea, placed["id"])["state"] == "acknowledged"   # not due
    # the sweep may run twice at once: one of them closes the window, the order is refused once
    assert sorted(at_once(lambda _: service.sweep(LATER), 4)) == [0, 0, 0, 1]
    assert service.sweep(LATER) == 0
    pump.drain()
    after = read_order(api, andrea, placed["id"])
    assert after["state"] == "pending" and "no payment was made within" in after["note"][-1]["text"], after
    assert [n["text"] for n in after["note"]].count(after["note"][-1]["text"]) == 1
    assert level(api, agent) == 50 and appointment_status(booking["id"]) == "cancelled"
    assert workflow_status(placed["id"]) is None
    # she comes back and pays: the handset and the slot are taken back with the payment
    status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 201 and paid["status"] == "authorized" and valid(paid, "Payment"), paid
    assert level(api, agent) == 49 and appointment_status(booking["id"]) == "confirmed"
    assert read_order(api, andrea, placed["id"])["state"] in ("acknowledged", "inProgress", "completed")
    assert service.sweep(LATER) == 0                                           # paid: nothing more to expire
    assert settle(pump, placed["id"])["state"] == "completed"


def test_a_paid_order_is_never_expired_by_its_window(api, shop, andrea, agent, pump, stacks):
    from chalicelib.payment import service

    placed = order(api, andrea, PHONE)
    assert api.call("POST", PAYMENTS, andrea, payment_for(placed))[1]["status"] == "authorized"
    assert service.sweep(LATER) == 0 and level(api, agent) == 49
    assert settle(pump, placed["id"])["state"] == "completed"


def test_two_repays_at_once_are_one_payment(api, shop, andrea, agent, pump, stacks):
    from chalicelib.payment import service
    from chalicelib.payment import store as payments

    placed = order(api, andrea, PHONE)
    assert api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))[1]["status"] == "denied"
    pump.drain()
    assert level(api, agent) == 50
    answers = at_once(lambda i: service.create(payment_for(placed, token=f"tok-card-{i}"), ANDREA)[0]["status"])
    assert answers.count("authorized") == 1, answers
    assert all(a == "authorized" or a[0] == 409 for a in answers), answers
    assert level(api, agent) == 49                                              # held again once
    mine = [p for p in payments.listed(domain.PAYMENT) if p["paymentItem"][0]["item"]["id"] == placed["id"]]
    assert sorted(p["status"] for p in mine) == ["authorized", "denied"]
    assert settle(pump, placed["id"])["state"] == "completed"


def test_paying_again_when_the_handset_is_gone_is_a_409_and_charges_nothing(api, shop, andrea, agent, pump):
    from chalicelib.payment import provider
    from chalicelib.payment import store as payments
    from chalicelib.stock import store as stock_store

    placed = order(api, andrea, PHONE)
    api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
    pump.drain()
    doc, version = stock_store.load_stock(CENTRAL)
    stock_store.replace_stock({**doc, "productStockLevel": {**doc["productStockLevel"], "amount": 0}}, version)
    charged = []
    original = provider.SimulatedProvider.authorize

    def counting(self, rid, amount, token):
        charged.append(rid)
        return original(self, rid, amount, token)

    provider.SimulatedProvider.authorize = counting
    try:
        status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-visa"))
    finally:
        provider.SimulatedProvider.authorize = original
    assert status == 409 and error["code"] == "insufficientStock" and CENTRAL in error["message"], error
    assert "nothing was charged" in error["message"] and charged == []
    assert payments.load(domain.order_payment_id(placed["id"], 2)) is None
    assert read_order(api, andrea, placed["id"])["state"] == "pending" and level(api, agent) == 0


def test_paying_again_when_the_slot_was_taken_is_a_409_naming_it(api, shop, andrea, agent, pump):
    from chalicelib.appointment import domain as appointment_domain
    from chalicelib.appointment.models import SlotRecord
    from chalicelib.payment import store as payments
    from tests.support.appointments import installed

    [booking] = installed("cust-andrea", "po-home-security")
    placed = order(api, andrea, PHONE, "po-home-security")
    api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
    pump.drain()
    assert appointment_status(booking["id"]) == "cancelled" and level(api, agent) == 50
    slot = appointment_domain.slot_of(booking)
    SlotRecord(f"slot#{slot}").update(actions=[SlotRecord.taken.set(9)])       # others booked every engineer
    status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 409 and error["code"] == "slotTaken" and booking["id"] in error["message"], error
    assert payments.load(domain.order_payment_id(placed["id"], 2)) is None
    assert level(api, agent) == 50 and appointment_status(booking["id"]) == "cancelled"   # nothing half-held
    assert read_order(api, andrea, placed["id"])["state"] == "pending"


def test_paid_cancelled_and_other_customers_orders_are_not_paid_again(api, shop, andrea, headers, pump):
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    placed = order(api, andrea, PHONE)
    api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
    pump.drain()
    assert api.call("POST", PAYMENTS, stacy, payment_for(placed))[0] == 404
    assert api.call("POST", CANCELS, andrea,
                    {"productOrder": {"id": placed["id"]}})[0] == 201
    status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 409 and error["code"] == "orderNotPayable", error


def test_attempts_are_bounded(api, shop, andrea, pump):
    placed = order(api, andrea, PHONE)
    for _ in range(domain.MAX_ATTEMPTS):
        status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
        assert status == 201 and paid["status"] == "denied", paid
        pump.drain()
    status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
    assert status == 409 and error["code"] == "tooManyAttempts", error


def test_the_same_callback_at_once_settles_once(api, shop, andrea, pump, stacks):
    from chalicelib.payment import service

    placed = order(api, andrea, PHONE)
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-3ds"))[1]
    raw, headers = signed({"eventId": "evt-race", "paymentId": paid["id"], "outcome": "authorized"})
    answers = at_once(lambda _: api.call("POST", CALLBACK, headers, raw)[:2], 4)
    ok = [a for a in answers if a[0] == 200]
    assert ok and all(a == (200, {"paymentId": paid["id"], "status": "authorized"}) for a in ok), answers
    assert all(a[0] in (200, 409) for a in answers), answers                   # 409: the same event in progress
    # two sweeps and the settle racing: still one outcome
    assert at_once(lambda _: service.sweep(LATER), 3) == [0, 0, 0]
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "authorized"
    assert settle(pump, placed["id"])["state"] == "completed"


def test_an_account_payment_that_charges_needs_an_idempotency_key(api, shop, agent):
    body = {"account": {"id": "ba-andrea"}, "paymentMethod": {"id": "tok-visa"},
            "totalAmount": {"unit": "EUR", "value": 20.0}}
    status, error, _ = api.call("POST", PAYMENTS, agent, body)
    assert status == 400 and error["code"] == "idempotencyKeyRequired" and "Idempotency-Key" in error["message"]
    keyed = {**agent, "Idempotency-Key": "top-up-1"}
    first = api.call("POST", PAYMENTS, keyed, body)
    again = api.call("POST", PAYMENTS, keyed, body)
    assert first[0] == again[0] == 201 and first[1] == again[1] and first[1]["status"] == "authorized", first
    other = api.call("POST", PAYMENTS, {**agent, "Idempotency-Key": "top-up-2"}, body)[1]
    assert other["id"] != first[1]["id"]
    listed = api.call("GET", f"{PAYMENTS}?account.id=ba-andrea", agent)[1]
    assert sorted(p["id"] for p in listed) == sorted([first[1]["id"], other["id"]])


def test_a_repay_finishes_a_refusal_whose_follow_up_was_lost(api, shop, andrea, agent, pump, stacks, monkeypatch):
    """The decline was recorded but its follow-up (release, pending) never ran (a crash): paying
    again releases and holds again in order, so the handset is held once, not twice."""
    from chalicelib.ordering import fulfilment as ordering

    placed = order(api, andrea, PHONE)
    refused = ordering.payment_refused
    monkeypatch.setattr(ordering, "payment_refused", lambda order_id, message: None)   # lost
    assert api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))[1]["status"] == "denied"
    monkeypatch.setattr(ordering, "payment_refused", refused)
    pump.drain()
    assert read_order(api, andrea, placed["id"])["state"] == "acknowledged" and level(api, agent) == 49
    status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-visa"))
    assert status == 201 and paid["status"] == "authorized", paid
    assert level(api, agent) == 49
    assert "paid again" in read_order(api, andrea, placed["id"])["note"][-1]["text"]
    assert settle(pump, placed["id"])["state"] == "completed"
