"""Payment at checkout (TMF676): an order with one-off charges goes to its stacks only once its
payment is authorized; a declined or expired payment leaves it pending with the reason and its
handsets released; the provider's callback is trusted only signed, recent and once; a paid order
cancelled is refunded once. Orders with no one-off charge are not held. Each bad input: a clear
4xx and nothing changed."""
import time

from chalicelib.payment import domain
from tests.payment.conftest import CALLBACK, PAYMENTS, level, order, read_order, REFUNDS, payment_for, signed, valid  # noqa: F401
from tests.support.names import CANCELS, CENTRAL, ORDERS, STOCK  # noqa: F401
from tests.support.orders import settle, workflow_status

PHONE = "po-phone-x"


def test_an_order_with_a_handset_goes_to_its_stacks_only_once_paid(api, shop, andrea, agent, pump, stacks):
    placed = order(api, andrea, PHONE)
    pump.drain()
    assert workflow_status(placed["id"]) is None and read_order(api, andrea, placed["id"])["state"] == "acknowledged"
    status, paid, headers = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 201, paid
    assert valid(paid, "Payment") and paid["status"] == "authorized" and paid["authorizationCode"].startswith("SIM-")
    assert paid["id"] == domain.order_payment_id(placed["id"]) and headers["Location"] == paid["href"]
    assert paid["payer"]["id"] == "cust-andrea"
    assert settle(pump, placed["id"])["state"] == "completed"
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "authorized"


def test_paying_twice_is_a_conflict_and_takes_nothing_more(api, shop, andrea, agent, pump):
    placed = order(api, andrea, PHONE)
    assert api.call("POST", PAYMENTS, andrea, payment_for(placed))[0] == 201
    for who in (andrea, agent):
        status, error, _ = api.call("POST", PAYMENTS, who, payment_for(placed, token="tok-mastercard"))
        assert status == 409 and error["code"] == "alreadyPaid", error
    listed = api.call("GET", PAYMENTS, agent)[1]
    assert [p["id"] for p in listed] == [domain.order_payment_id(placed["id"])]


def test_a_declined_payment_leaves_the_order_pending_and_releases_the_handset(api, shop, andrea, agent, pump, stacks):
    placed = order(api, andrea, PHONE)
    assert level(api, agent) == 49
    status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
    assert status == 201 and paid["status"] == "denied" and "declined" in paid["statusReason"], paid
    assert valid(paid, "Payment")
    pump.drain()
    after = read_order(api, andrea, placed["id"])
    assert after["state"] == "pending" and "declined" in after["note"][-1]["text"]
    assert level(api, agent) == 50 and workflow_status(placed["id"]) is None
    # another card: the handset is held again with the new payment, and the order goes on
    status, again, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-mastercard"))
    assert status == 201 and again["status"] == "authorized" and valid(again, "Payment"), again
    assert again["id"] == domain.order_payment_id(placed["id"], 2) != paid["id"]
    assert level(api, agent) == 49
    status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 409 and error["code"] == "alreadyPaid"                 # paid: a third is a conflict
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "denied"   # the first kept
    assert settle(pump, placed["id"])["state"] == "completed"


def test_a_customer_step_is_confirmed_by_the_signed_callback_once(api, shop, andrea, pump, stacks):
    placed = order(api, andrea, PHONE)
    status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-3ds"))
    assert status == 201 and paid["status"] == "pendingAuthorization" and "bank" in paid["statusReason"], paid
    body = {"eventId": "evt-1", "paymentId": paid["id"], "outcome": "authorized"}
    raw, headers = signed(body)
    for forged in ({**headers, "Provider-Signature": headers["Provider-Signature"][:-4] + "0000"},
                   {k: v for k, v in headers.items() if k != "Provider-Signature"},
                   signed(body, secret="not-the-providers")[1],
                   signed(body, timestamp=int(time.time()) - 3600)[1]):     # a replay of an old callback
        status, error, _ = api.call("POST", CALLBACK, forged, raw)
        assert status == 401, error
    pump.drain()
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "pendingAuthorization"
    assert workflow_status(placed["id"]) is None
    status, answer, _ = api.call("POST", CALLBACK, headers, raw)
    assert status == 200 and answer == {"paymentId": paid["id"], "status": "authorized"}
    again = api.call("POST", CALLBACK, headers, raw)
    assert again[:2] == (200, answer)                                        # delivered twice: the same
    status, error, _ = api.call("POST", CALLBACK, *reversed(signed({**body, "outcome": "denied"})))
    assert status == 422 and error["code"] == "idempotencyKeyReused"          # the same event, changed
    denied = {"eventId": "evt-2", "paymentId": paid["id"], "outcome": "denied"}
    assert api.call("POST", CALLBACK, *reversed(signed(denied)))[1]["status"] == "authorized"   # settled: stays
    assert settle(pump, placed["id"])["state"] == "completed"


def test_an_expired_customer_step_fails_the_payment_and_releases_the_handset(api, shop, andrea, agent, pump):
    from chalicelib import tmf
    from chalicelib.payment import service

    placed = order(api, andrea, PHONE)
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-3ds"))[1]
    assert service.sweep() == 0 and level(api, agent) == 49                  # not due yet
    later = tmf.iso(tmf.now().replace(year=tmf.now().year + 1))
    assert service.sweep(later) == 1 and service.sweep(later) == 0
    failed = api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]
    assert failed["status"] == "failed" and "expired" in failed["statusReason"]
    pump.drain()
    assert read_order(api, andrea, placed["id"])["state"] == "pending" and level(api, agent) == 50
    late = signed({"eventId": "evt-late", "paymentId": paid["id"], "outcome": "authorized"})
    assert api.call("POST", CALLBACK, late[1], late[0])[1]["status"] == "failed"   # too late: nothing changes
    assert workflow_status(placed["id"]) is None


def test_cancelling_a_paid_order_refunds_it_once(api, shop, andrea, headers, pump, stacks, monkeypatch):
    # The stacks take the child order and report nothing by themselves (a simulated stack could
    # complete it before the cancel reached it, on a loaded machine): the stack confirms the cancel.
    from chalicelib.catalog.domain import STACKS
    from tests.support.orders import children_of, load_order, report_stack

    monkeypatch.setenv("OMNISHOP_SIMULATED_STACKS_SILENT", ",".join(STACKS))
    placed = order(api, andrea, PHONE)
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed))[1]
    status, _, _ = api.call("POST", CANCELS, andrea, {"productOrder": {"id": placed["id"]}})
    assert status == 201
    # paid, its workflow may already have sent it to a stack: then it is cancelled (and refunded)
    # when the stack confirms, not by the cancel request itself
    settle(pump, placed["id"], done=("cancelled", "assessingCancellation", "pendingCancellation"), finished=False)
    for child in [load_order(c).doc for c in children_of(load_order(placed["id"]))]:
        if child.get("state") != "cancelled":
            report_stack(child, "cancelled")
    assert settle(pump, placed["id"], done=("cancelled",))["state"] == "cancelled"
    refunds = api.call("GET", REFUNDS, andrea)[1]
    assert len(refunds) == 1 and refunds[0]["payment"]["id"] == paid["id"] and valid(refunds[0], "Refund")
    assert refunds[0]["totalAmount"] == paid["totalAmount"]
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "canceled"
    from chalicelib.payment import service
    assert service.refund_order(placed["id"]) is False
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    assert api.call("GET", REFUNDS, stacy)[1] == []
    assert api.call("GET", f"{REFUNDS}/{refunds[0]['id']}", stacy)[0] == 404


def test_orders_without_one_off_charges_are_not_held(api, shop, andrea, pump, stacks):
    from chalicelib.payment import service, store

    placed = order(api, andrea, "po-mobile-unlimited")
    pump.drain()
    assert workflow_status(placed["id"]) is not None
    assert store.load_order(placed["id"]) is None and service.sweep("2999-01-01T00:00:00.000Z") == 0   # no window
    status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, amount={"unit": "EUR", "value": 1}))
    assert status == 422 and error["code"] == "nothingToPay"
    assert settle(pump, placed["id"])["state"] == "completed"   # its workflow ends inside the test


def test_another_customer_neither_sees_nor_pays(api, shop, andrea, headers, agent):
    stacy = headers("customer", channel="web", customerId="cust-stacy", sub="cust-stacy")
    placed = order(api, andrea, PHONE)
    status, error, _ = api.call("POST", PAYMENTS, stacy, payment_for(placed))
    assert status == 404, error
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed))[1]
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", stacy)[0] == 404
    assert api.call("GET", PAYMENTS, stacy)[1] == []
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", agent)[0] == 200
    body = {**payment_for(placed), "payer": {"id": "cust-stacy", "role": "customer"}}
    assert api.call("POST", PAYMENTS, andrea, body)[0] == 404


def test_bad_payments_are_refused_and_nothing_is_taken(api, shop, andrea, agent, web):
    from tests.support.stored import stored_items

    placed = order(api, andrea, PHONE)
    cases = [
        (b"not json", 400), (b"[1, 2]", 400), (b'{"account": {"id": "a"}, "paymentMethod": {}, "totalAmount": ' +
                                                 b'{"value": "' + b"9" * 2_000_000 + b'"}}', 413),
        (payment_for(placed, amount={"unit": "EUR", "value": 1}), 422),            # not the order's total
        (payment_for(placed, amount={"unit": "EUR", "value": -99}), 400),
        (payment_for(placed, token=None) | {"paymentMethod": {}}, 422),            # no card token
        ({"paymentMethod": {"id": "tok-visa"}, "totalAmount": {"value": 99}}, 400),  # no account
        (payment_for({**placed, "id": "no-such-order"}), 404),
    ]
    for body, expected in cases:
        status, error, _ = api.call("POST", PAYMENTS, andrea, body)
        assert status == expected, (body if not isinstance(body, bytes) else body[:40], error)
        assert error["@type"] == "Error" or "code" in error
    assert api.call("POST", PAYMENTS, web, payment_for(placed))[0] == 403
    # no payment: only the order's payment record its checkout wrote (its payment window)
    assert [i["kind"]["S"] for i in stored_items("payment")] == ["orderPayment"]


def test_a_payment_with_nothing_to_charge_is_recorded_failed(api, shop, agent):
    status, doc, _ = api.call("POST", PAYMENTS, agent, {"account": {"id": "15463151"}, "paymentMethod": {},
                                                        "totalAmount": {}})
    assert status == 201 and doc["status"] == "failed" and valid(doc, "Payment"), doc
    assert api.call("GET", f"{PAYMENTS}?id={doc['id']}&fields=status", agent)[1] == [
        {"id": doc["id"], "href": doc["href"], "status": "failed"}]


def test_cancelling_before_the_bank_step_drops_the_payment(api, shop, andrea, agent, pump):
    placed = order(api, andrea, PHONE)
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-3ds"))[1]
    assert api.call("POST", CANCELS, andrea, {"productOrder": {"id": placed["id"]}})[0] == 201
    dropped = api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]
    assert dropped["status"] == "canceled" and "nothing was charged" in dropped["statusReason"]
    late = signed({"eventId": "evt-after-cancel", "paymentId": paid["id"], "outcome": "authorized"})
    assert api.call("POST", CALLBACK, late[1], late[0])[1]["status"] == "canceled"
    assert api.call("GET", REFUNDS, andrea)[1] == [] and level(api, agent) == 50
    assert workflow_status(placed["id"]) is None


def test_a_cancelled_order_takes_no_payment(api, shop, andrea):
    placed = order(api, andrea, PHONE)
    assert api.call("POST", CANCELS, andrea, {"productOrder": {"id": placed["id"]}})[0] == 201
    status, error, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 409 and error["code"] == "orderNotPayable", error


def test_a_declined_payment_also_frees_the_engineer_slots_of_its_order(api, shop, andrea, pump):
    """Home Security needs an engineer: its booking is confirmed by the order; a declined payment
    leaves the order pending and the slot free for others (once, even if the decline is replayed)."""
    from chalicelib.appointment import store as appointment_store
    from chalicelib.ordering import fulfilment as ordering
    from tests.support.appointments import installed

    [booking] = installed("cust-andrea", "po-home-security")
    placed = order(api, andrea, "po-home-security")
    assert appointment_store.load(booking["id"])[0]["status"] == "confirmed"
    status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-declined"))
    assert status == 201 and paid["status"] == "denied", paid
    pump.drain()
    assert read_order(api, andrea, placed["id"])["state"] == "pending"
    assert appointment_store.load(booking["id"])[0]["status"] == "cancelled"
    ordering.payment_refused(placed["id"], "declined again")   # a replayed decline changes nothing more
    assert appointment_store.load(booking["id"])[0]["status"] == "cancelled"


def test_malformed_signatures_are_refused_not_crashed_on(api, shop, andrea):
    """The callback needs no login: whatever its signature header holds, the answer is 401."""
    placed = order(api, andrea, PHONE)
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed, token="tok-3ds"))[1]
    raw, _ = signed({"eventId": "evt-x", "paymentId": paid["id"], "outcome": "authorized"})
    now = int(time.time())
    for header in ("t=1" + "0" * 400 + ",v1=" + "a" * 64, f"t={now},v1=" + "é" * 64, f"t={now},v1=zz",
                   "t=-5,v1=" + "a" * 64, "t=,v1=", "garbage", f"t={now}"):
        status, error, _ = api.call("POST", CALLBACK, {"Content-Type": "application/json",
                                                       "Provider-Signature": header}, raw)
        assert status == 401 and error["@type"] == "Error", (header[:40], status, error)
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "pendingAuthorization"


def test_a_confirmation_that_beats_the_providers_answer_is_never_undone(api, shop, andrea, pump, stacks,
                                                                      monkeypatch):
    """The provider's callback can arrive before its own reply to the authorize call: the payment
    stays authorized, is not put back to wait, and the sweep neither voids nor expires it."""
    from chalicelib.payment import provider, service

    placed = order(api, andrea, PHONE)
    voided = []
    original = provider.SimulatedProvider.authorize

    def authorize_then_confirmed_meanwhile(self, rid, amount, token):
        outcome = original(self, rid, amount, "tok-3ds")   # "waiting for the bank" ...
        service._settle(rid, "authorized", None, "SIM-EARLY")   # ... but the callback came first
        return outcome

    monkeypatch.setattr(provider.SimulatedProvider, "authorize", authorize_then_confirmed_meanwhile)
    monkeypatch.setattr(provider.SimulatedProvider, "void", lambda self, rid: voided.append(rid))
    status, paid, _ = api.call("POST", PAYMENTS, andrea, payment_for(placed))
    assert status == 201 and paid["status"] == "authorized", paid
    assert service.sweep(at="2999-01-01T00:00:00.000Z") == 0 and voided == []
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", andrea)[1]["status"] == "authorized"
    # its workflow ends inside the test: one left running would outlive moto and poison later tests
    assert settle(pump, placed["id"])["state"] == "completed"
