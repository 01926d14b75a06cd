"""TMF676 use cases: pay (an order's one-off charges, or an account), read and list payments and
refunds, the provider's signed callback, the sweep that expires payments waiting for the
customer's step, and what checkout asks: may this order go to its stacks (`order_paid`), refund
a cancelled one (`refund_order`). Rights are chalicelib/access.py's ("payment", "refund"): a
customer pays and sees her own, an agent takes payments for any customer.

An order's payment and what follows from its outcome:
  authorized            -> the order's workflow starts (ordering.service.start_workflow)
  denied / failed       -> the order stays `pending` with the reason in a note, and the handsets
                           its checkout held go back (ordering.service.payment_refused)
  pendingAuthorization  -> nothing yet: the provider's callback (or the sweep, on expiry) decides
Each follow-up is safe to repeat, and is repeated when the same outcome arrives again (a retried
request, a callback delivered twice): a crash between the status write and its follow-up heals.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from chalicelib import access, deferred, idempotency, settings, tmf
from chalicelib.auth import Caller
from chalicelib.customer.domain import check_size, validate_payload
from chalicelib.errors import ApiError, busy, conflict, not_found, unauthorized, unprocessable
from chalicelib.observability import logger
from chalicelib.ordering import domain as order_domain
from chalicelib.payment import domain, provider, store

schemas = deferred.module("chalicelib.payment.schemas")
ordering = deferred.module("chalicelib.ordering.service")

ALWAYS_LISTED = ["href"]      # `fields=` answers id and href (the TMF676 kit asks for both)


def href(resource: str, rid: str) -> str:
    return tmf.href(domain.API_ROOT, resource, rid)


# --- paying ---------------------------------------------------------------------------------------
def _payer(body: Mapping[str, Any], caller: Caller, order: Mapping[str, Any] | None) -> dict[str, Any] | None:
    named = domain.customer_of(body)
    if caller.role == "customer":
        if named not in (None, caller.customer_id):
            raise not_found("customer", named or "")
        named = caller.customer_id
    if order is not None:
        owner = order_domain.customer_of(order)
        if named and owner and named != owner:
            raise unprocessable(f"productOrder {order['id']} is not {named}'s order", "payerMismatch")
        named = owner or named
    return {"id": named, "role": domain.CUSTOMER_ROLE, "@referredType": "Customer"} if named else None


def _payable(order_id: str, body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """The order this payment pays: the caller's to see (404 otherwise), waiting for its payment,
    and the amount its one-off total."""
    order, _ = ordering.read(order_id, caller)
    existing = store.load(domain.order_payment_id(order_id))
    if existing is not None:
        raise _paid(order_id, existing[0])
    due = domain.one_off_due(order)
    if due is None:
        raise unprocessable(f"productOrder {order_id} has no one-off charge to pay (recurring charges are billed)",
                            "nothingToPay")
    if order.get("state") != order_domain.ACKNOWLEDGED or order_domain.parent_of(order):
        raise unprocessable(f"productOrder {order_id} is {order.get('state')}: it takes no payment",
                            "orderNotPayable")
    if not domain.same_money(body.get("totalAmount"), due):
        raise unprocessable(f"totalAmount must be the order's one-off total: {due['value']} {due['unit']}",
                            "amountMismatch")
    if not domain.card_token(body):
        raise unprocessable("paymentMethod.id must name the card token the payment page gave you", "noPaymentMethod")
    return order


def create(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    """POST /payment. An order's one-off charges (paymentItem naming the ProductOrder) are paid
    once: 409 alreadyPaid for a second payment. A payment with nothing to charge (no amount, or
    no card token) is answered 201 `failed`, nothing taken (the TMF676 kit posts one)."""
    access.check(caller, domain.PAYMENT, access.WRITE)
    validate_payload("payment", schemas.Payment, body)
    order_id = domain.ordered_item(body)
    payer = _payer(body, caller, None)        # 404 first for a customer naming another
    order = _payable(order_id, body, caller) if order_id else None
    rid = domain.order_payment_id(order_id) if order_id else tmf.new_id()
    order_ref = {"id": order["id"], "href": order["href"], "@referredType": domain.ORDER_TYPE} if order else None
    at = tmf.now()
    doc = domain.new_payment(body, rid, href(domain.PAYMENT, rid), tmf.iso(at),
                             _payer(body, caller, order) if order else payer, order_ref)
    check_size("payment", doc)
    token, amount = domain.card_token(body), body["totalAmount"]
    if amount.get("value") is None or not token:
        doc = domain.settled(doc, domain.FAILED, doc["statusDate"], "nothing to charge: the payment names no amount "
                             "or no card token (paymentMethod.id); nothing was taken")
        version = store.insert(doc)
        logger.info("payment refused", extra={"paymentId": rid, "by": caller.role, "reason": "nothingToCharge"})
        return doc, version or 1
    deadline = tmf.iso(at + dt.timedelta(seconds=settings.payment_step_seconds()))
    version = store.insert(doc, step_deadline=deadline)   # claims the order: a crash leaves it to the sweep
    if version is None:
        raise _paid(order_id or "", (store.load(rid) or ({"id": rid},))[0])
    outcome = provider.provider().authorize(rid, amount, token)
    doc, version = _settle(rid, outcome.status, outcome.reason, outcome.authorization_code, deadline)
    logger.info("payment", extra={"paymentId": rid, "orderId": order_id, "by": caller.role, "status": doc["status"]})
    return doc, version


def _paid(order_id: str, payment: Mapping[str, Any]) -> ApiError:
    return conflict(f"productOrder {order_id} has a payment already ({payment['id']}, {payment.get('status')}): "
                    "it is paid once", "alreadyPaid")


def _settle(rid: str, status: str, reason: str | None, code: str | None = None,
            deadline: str | None = None) -> tuple[dict[str, Any], int]:
    """Move a payment waiting for its outcome to `status` (once) and do what follows for its
    order; a payment settled already stays as it is (and its follow-up is done again)."""
    for _ in range(3):
        found = store.load(rid)
        if found is None:
            raise not_found(domain.PAYMENT, rid)
        doc, version = found
        if doc.get("status") != domain.PENDING or status == domain.PENDING:
            # only a payment still waiting takes a new reason: one authorized meanwhile (the
            # callback can beat the provider's own answer) is never moved back to waiting
            if (status == domain.PENDING and reason and doc.get("status") == domain.PENDING
                    and doc.get("statusReason") != reason):
                doc = domain.settled(doc, domain.PENDING, doc["statusDate"], reason)
                try:
                    version = store.replace(doc, version, deadline)
                except store.StaleVersion:
                    continue
            _follow(doc)
            return doc, version
        doc = domain.settled(doc, status, tmf.now_iso(), reason, code)
        try:
            version = store.replace(doc, version)
        except store.StaleVersion:
            continue                      # settled meanwhile (the callback, the sweep): read again
        _follow(doc)
        return doc, version
    raise busy(f"payment {rid}")


def _follow(doc: Mapping[str, Any]) -> None:
    order_id = next((i["item"]["id"] for i in doc.get("paymentItem") or []
                     if (i.get("item") or {}).get("@referredType") == domain.ORDER_TYPE), None)
    if not order_id or doc.get("status") not in (domain.AUTHORIZED, domain.DENIED, domain.FAILED):
        return
    if doc["status"] == domain.AUTHORIZED:
        found = ordering.store.load(order_id)
        if found is not None and found.doc.get("state") in (order_domain.CANCELLED, order_domain.FAILED):
            refund_order(order_id)        # confirmed after the order was cancelled: it goes back
        elif found is not None:
            ordering.start_workflow(found.doc)
    else:
        ordering.payment_refused(order_id, f"payment {doc['status']}: {doc.get('statusReason') or 'no reason given'}. "
                                           "The order is not sent and its handsets were released; order again to buy.")


# --- the provider's callback ------------------------------------------------------------------------
def callback(raw_body: bytes, signature: str | None, parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The provider tells the outcome of a customer's step. Trusted only signed and recent (401
    otherwise, nothing changed); the same event again answers the first result and changes
    nothing; an outcome for a payment settled already changes nothing either."""
    why = provider.verify(signature, raw_body)
    if why:
        logger.warning("payment callback refused", extra={"reason": why})
        raise unauthorized(f"provider callback refused: {why}")
    validate_payload("provider callback", schemas.ProviderCallback, parsed)

    def run() -> dict[str, Any]:
        doc, _ = _settle(parsed["paymentId"], parsed["outcome"], parsed.get("reason") or (
            "your bank did not confirm this payment; nothing was charged" if parsed["outcome"] == domain.DENIED
            else None))
        return {"paymentId": doc["id"], "status": doc["status"]}

    return idempotency.once("payment.callback", parsed["eventId"], run,
                            payload=json.dumps(dict(parsed), sort_keys=True))


# --- expiry (payment-sweep schedule) ------------------------------------------------------------------
def sweep(at: str | None = None) -> int:
    """Payments still waiting for the customer's step past their deadline end `failed` (the
    provider drops them first): their orders stay pending, their handsets go back. How many."""
    at = at or tmf.now_iso()
    ended = 0
    for doc, _ in store.waiting_by(at):
        if doc.get("status") != domain.PENDING:
            continue
        # settled first, the provider told after: a confirmation that won meanwhile (the index can
        # lag the table) keeps its payment, and nothing is voided under it
        done, _ = _settle(doc["id"], domain.FAILED, "expired: the payment was not confirmed with the bank in time; "
                          "nothing was charged")
        if done.get("status") == domain.FAILED:
            provider.provider().void(doc["id"])
            ended += 1
    return ended


# --- for checkout and cancellation (chalicelib/ordering) ---------------------------------------------
def order_paid(order: Mapping[str, Any]) -> bool:
    """May the order go to its stacks: it has no one-off charge, or its payment is authorized."""
    if domain.one_off_due(order) is None:
        return True
    found = store.load(domain.order_payment_id(order["id"]))
    return found is not None and found[0].get("status") == domain.AUTHORIZED


def refund_order(order_id: str) -> bool:
    """The order was cancelled (or failed): what its payment took goes back, once (a refund whose
    id derives from the payment); a payment still waiting for the customer's step is dropped.
    False when nothing was taken or it was refunded before."""
    found = store.load(domain.order_payment_id(order_id))
    if found is not None and found[0].get("status") == domain.PENDING:   # not confirmed yet: dropped
        dropped, _ = _settle(found[0]["id"], domain.CANCELED, "the order was cancelled before the payment was "
                             "confirmed; nothing was charged")
        if dropped.get("status") == domain.CANCELED:
            provider.provider().void(dropped["id"])   # told only once it is ours to drop
        found = store.load(found[0]["id"])   # a confirmation that came first is refunded below
    if found is None or found[0].get("status") != domain.AUTHORIZED:
        return False
    payment, version = found
    provider.provider().refund(payment["id"], payment["totalAmount"])   # the provider's key: the payment id
    at = tmf.now_iso()
    rid = domain.refund_id(payment["id"])
    refunded = store.insert(domain.new_refund(payment, href(domain.REFUND, rid), at, f"order {order_id} cancelled"),
                            kind=domain.REFUND) is not None
    try:
        store.replace(domain.settled(payment, domain.CANCELED, at, "refunded: the order was cancelled"), version)
    except store.StaleVersion:
        pass                               # refunded by a concurrent call: its refund record says so
    logger.info("payment refunded" if refunded else "payment refunded before", extra={"orderId": order_id})
    return refunded


# --- reads ------------------------------------------------------------------------------------------
def read(kind: str, rid: str, caller: Caller) -> dict[str, Any]:
    access.check(caller, kind, access.READ)
    found = store.load(rid, kind)
    if found is None or not domain.visible(found[0], caller.role, caller.customer_id):
        raise not_found(kind, rid)
    return found[0]


def search(kind: str, params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    access.check(caller, kind, access.READ)
    docs = store.listed(kind, caller.customer_id or "") if caller.role == "customer" else store.listed(kind)
    return tmf.listed([d for d in docs if domain.visible(d, caller.role, caller.customer_id)], params, ALWAYS_LISTED)
