"""Refunds (TMF676 Refund): claimed before the provider is asked, the provider's answer recorded
(a failed refund is `failed` with the reason and asked again by the sweep, never shown done); an
agent refunds part of a payment, never more in all than it took, even at once; idempotent."""
import concurrent.futures

from chalicelib.auth import Caller
from chalicelib.errors import ApiError
from tests.payment.conftest import PAYMENTS, REFUNDS, payment_for, valid  # noqa: F401
from tests.support.orders import andrea_order, settle

LATER = "2999-01-01T00:00:00.000Z"
AGENT = Caller(sub="agent-007", role="agent", channel="callcenter")


def paid_order(api, andrea, pump, token="tok-visa"):
    from tests.support.names import ORDERS

    placed = api.call("POST", ORDERS, andrea, andrea_order("po-phone-x"))[1]
    paid = api.call("POST", PAYMENTS, andrea, payment_for(placed, token=token))[1]
    return placed, paid


def refund_body(paid, value, **extra):
    return {"account": paid["account"], "paymentMethod": {"id": paid["paymentMethod"]["id"]},
            "totalAmount": {"unit": paid["totalAmount"]["unit"], "value": value},
            "payment": {"id": paid["id"], "@referredType": "Payment"}, **extra}


def test_an_agent_refunds_part_of_a_payment_never_more_than_it_took(api, shop, andrea, agent, pump, stacks):
    placed, paid = paid_order(api, andrea, pump)
    total = paid["totalAmount"]["value"]
    status, part, headers = api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "r-1"}, refund_body(paid, 10.0))
    assert status == 201 and part["status"] == "done" and valid(part, "Refund"), part
    assert part["totalAmount"] == {"unit": "EUR", "value": 10.0} and headers["Location"] == part["href"]
    assert part["authorizationCode"].startswith("SIM-")
    again = api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "r-1"}, refund_body(paid, 10.0))
    assert again[:2] == (201, part)                                            # a retry: the same refund
    status, error, _ = api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "r-2"}, refund_body(paid, total))
    assert status == 422 and error["code"] == "refundExceedsPayment", error
    rest = round(total - 10.0, 2)
    assert api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "r-3"}, refund_body(paid, rest))[0] == 201
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", agent)[1]["refundedAmount"]["value"] == total
    status, error, _ = api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "r-4"}, refund_body(paid, 0.01))
    assert status == 422 and error["code"] == "refundExceedsPayment"
    assert len(api.call("GET", REFUNDS, andrea)[1]) == 2                       # she sees hers
    assert settle(pump, placed["id"])["state"] == "completed"


def test_concurrent_refunds_cannot_over_refund(api, shop, andrea, pump, stacks):
    from chalicelib.payment import service

    placed, paid = paid_order(api, andrea, pump)
    total = paid["totalAmount"]["value"]
    share = round(total / 3 + 0.01, 2)                                         # only two of them fit

    def refund(i):
        try:
            return service.refund(refund_body(paid, share), AGENT, f"k-{i}")[0]["status"]
        except ApiError as exc:
            return exc.status, exc.code

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(refund, range(6)))
    assert answers.count("done") == 2, answers
    assert all(a == "done" or a in ((422, "refundExceedsPayment"), (409, "busy"), (409, "transactionConflict"))
               for a in answers), answers
    refunded = api.call("GET", f"{PAYMENTS}/{paid['id']}", {**andrea})[1]["refundedAmount"]["value"]
    assert abs(refunded - 2 * share) < 1e-9 and refunded <= total
    # the same key at once: one refund
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        same = list(pool.map(lambda _: service.refund(refund_body(paid, 0.5), AGENT, "same")[0]["id"], range(4)))
    assert len(set(same)) == 1
    assert settle(pump, placed["id"])["state"] == "completed"


def test_a_failed_refund_is_failed_then_retried_by_the_sweep(api, shop, andrea, agent, pump, stacks, monkeypatch):
    from chalicelib.payment import provider, service

    placed, paid = paid_order(api, andrea, pump)
    asked, working = [], provider.SimulatedProvider.refund

    def down(self, refund_id, payment_id, amount):
        asked.append(refund_id)
        raise ConnectionError("provider down")

    monkeypatch.setattr(provider.SimulatedProvider, "refund", down)
    status, failed, _ = api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "down"}, refund_body(paid, 5.0))
    assert status == 201 and failed["status"] == "failed" and "could not be reached" in failed["statusReason"]
    assert valid(failed, "Refund") and asked == [failed["id"]]
    # claimed before the provider was asked: a second refund cannot take the same money twice
    assert api.call("GET", f"{PAYMENTS}/{paid['id']}", agent)[1]["refundedAmount"]["value"] == 5.0
    monkeypatch.setattr(provider.SimulatedProvider, "refund",
                        lambda self, rid, pid, amount: provider.Outcome("failed", "card closed"))
    service.sweep(LATER)
    refused = api.call("GET", f"{REFUNDS}/{failed['id']}", agent)[1]
    assert refused["status"] == "failed" and refused["statusReason"] == "card closed"
    monkeypatch.setattr(provider.SimulatedProvider, "refund", working)
    service.sweep(LATER)
    service.sweep(LATER)                                                        # done: asked no more
    done = api.call("GET", f"{REFUNDS}/{failed['id']}", agent)[1]
    assert done["status"] == "done" and "statusReason" not in done and valid(done, "Refund")
    assert settle(pump, placed["id"])["state"] == "completed"


def test_refunds_of_what_was_not_taken_or_by_others_are_refused(api, shop, andrea, agent, headers, pump):
    _, denied = paid_order(api, andrea, pump, token="tok-declined")
    status, error, _ = api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "x"}, refund_body(denied, 1.0))
    assert status == 409 and error["code"] == "notRefundable", error
    assert api.call("POST", REFUNDS, agent, refund_body(denied, 1.0))[1]["code"] == "idempotencyKeyRequired"
    assert api.call("POST", REFUNDS, {**andrea, "Idempotency-Key": "y"}, refund_body(denied, 1.0))[0] == 403
    missing = {**refund_body(denied, 1.0), "payment": {"id": "no-such-payment"}}
    assert api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "z"}, missing)[0] == 404
    assert api.call("POST", REFUNDS, {**agent, "Idempotency-Key": "w"}, {"payment": {"id": denied["id"]}})[0] == 400
    assert api.call("GET", REFUNDS, agent)[1] == []
