"""TMF676 use cases: pay (an order's one-off charges, again after a refusal, or an account),
refund (an agent's part of a payment, a cancelled order's whole), read and list payments and
refunds, the provider's signed callback, the sweep (payments waiting for the customer's step
past their deadline, orders unpaid past their payment window, refunds not done), and what
checkout asks: the payment window of a new order (`order_window`), may this order go to its
stacks (`order_paid`), refund a cancelled one (`refund_order`). Rights are chalicelib/access.py's ("payment", "refund"): a
customer pays and sees her own, an agent takes payments for any customer.

An order's payment and what follows from its outcome:
  authorized            -> the order's workflow starts (ordering.fulfilment.start_workflow)
  denied / failed       -> the order stays `pending` with the reason in a note, and the handsets
                           and slots its checkout held go back (ordering.fulfilment.payment_refused);
                           it may be paid again (its holds taken back with that payment)
  pendingAuthorization  -> nothing yet: the provider's callback (or the sweep, on expiry) decides
Each follow-up is safe to repeat, and is repeated when the same outcome arrives again (a retried
request, a callback delivered twice): a crash between the status write and its follow-up heals.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Mapping

from chalicelib.view import ref_id
from chalicelib import access, db, deferred, idempotency, settings, stock, tmf
from chalicelib import ordering as orders   # its public surface
from chalicelib import appointment as appointments
from chalicelib.auth import Caller
from chalicelib.customer.domain import check_size, validate_payload
from chalicelib.errors import ApiError, bad_request, conflict, not_found, unauthorized, unprocessable
from chalicelib.observability import logger
from chalicelib.payment import domain, provider, store

schemas = deferred.module("chalicelib.payment.schemas")
if TYPE_CHECKING:
    from chalicelib.ordering import domain as order_domain
else:   # by the first order paid or expired (a sweep with nothing to expire does not load it)
    order_domain = deferred.module("chalicelib.ordering.domain")

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


@dataclasses.dataclass
class _Claim:
    """What paying an order starts from: the order (its version), its payment record (None when
    it has none yet, and its version), the attempt this payment is, and whether it pays the order
    again after a refusal (its released handsets and slots are then taken back with the payment)."""
    order: dict[str, Any]
    order_version: int
    record: dict[str, Any] | None
    record_version: int | None
    attempt: int
    again: bool


def _current(order_id: str) -> tuple[dict[str, Any] | None, int | None, tuple[dict[str, Any], int] | None]:
    """The order's payment record (and version) and its current payment (None before the first)."""
    found = store.load_order(order_id)
    record, version = (found[0], found[1]) if found else (None, None)
    current = record.get("payment") if record else domain.order_payment_id(order_id)   # an order before records
    return record, version, store.load(current) if current else None


def _payable(order_id: str, body: Mapping[str, Any], caller: Caller) -> _Claim:
    """The order this payment pays: the caller's to see (404 otherwise), not paid (409 alreadyPaid
    while a payment of it waits, is authorized or was refunded), waiting for its payment (409
    orderNotPayable once sent, cancelled or completed), and the amount its one-off total. An order
    whose payment was declined or expired (or nobody paid in time) may be paid again, at most
    domain.MAX_ATTEMPTS times."""
    order, order_version = orders.read(order_id, caller)
    record, version, current = _current(order_id)
    if current is not None and current[0].get("status") not in domain.REFUSED:
        raise _paid(order_id, current[0])
    due = domain.one_off_due(order)
    if due is None:
        raise unprocessable(f"productOrder {order_id} has no one-off charge to pay (recurring charges are billed)",
                            "nothingToPay")
    if not domain.same_money(body.get("totalAmount"), due):
        raise unprocessable(f"totalAmount must be the order's one-off total: {due['value']} {due['unit']}",
                            "amountMismatch")
    if not domain.card_token(body):
        raise unprocessable("paymentMethod.id must name the card token the payment page gave you", "noPaymentMethod")
    again = current is not None or bool((record or {}).get("expired")) or order.get("state") == order_domain.PENDING
    if again and order.get("state") == order_domain.ACKNOWLEDGED:
        # refused (or unpaid in time), its holds not yet released (that follow-up is in flight, or
        # crashed): released now, before they are taken back with this payment
        if current is not None:
            _follow(current[0])
        else:
            orders.payment_refused(order_id, _window_closed())
        order, order_version = orders.read(order_id, caller)
    if order.get("state") not in ((order_domain.PENDING,) if again else (order_domain.ACKNOWLEDGED,)) \
            or order_domain.parent_of(order) or order_domain.children_of(order):
        raise conflict(f"productOrder {order_id} is {order.get('state')}: it takes no payment", "orderNotPayable")
    attempt = (record or {}).get("attempt", 1 if current else 0) + 1
    if attempt > domain.MAX_ATTEMPTS:
        raise conflict(f"productOrder {order_id} was offered {domain.MAX_ATTEMPTS} payments already: order again",
                       "tooManyAttempts")
    return _Claim(order, order_version, record, version, attempt, again)


def _account_payment_id(caller: Caller, idempotency_key: str | None, charging: bool) -> str:
    """An account payment's id: from the caller and their Idempotency-Key (required when it
    charges: a retry without one would charge again; docs/decisions.md)."""
    if not idempotency_key:
        if charging:
            raise bad_request("a payment of an account (no paymentItem naming a ProductOrder) needs an "
                              "Idempotency-Key header: a retry with the same key is the same payment, charged once",
                              "idempotencyKeyRequired")
        return tmf.new_id()
    return domain.account_payment_id(json.dumps([caller.role, caller.sub, caller.customer_id]), idempotency_key)


def _again_writes(claim: _Claim, rid: str) -> list[Callable[[Any], None]]:
    """Paying a refused order again: its handsets and its engineers' slots held again (409 naming
    what is no longer free) and the order back to acknowledged, for the payment's transaction."""
    order_id = claim.order["id"]
    writes = [w for w in (stock.order_rehold(order_id), appointments.order_rehold(claim.order)) if w]
    found = orders.load(order_id)
    if found is None or found.version != claim.order_version:
        raise conflict(f"productOrder {order_id} changed while it was being paid; nothing was charged: retry",
                       "orderChanged")
    at = tmf.now_iso()
    doc = {**order_domain.with_note(found.doc, at, f"paid again (payment {rid}); the order goes on once it is "
                                    "authorized"), "state": order_domain.ACKNOWLEDGED, "lastUpdate": at}
    return [*writes, orders.order_write(found, doc)]


def create(body: Mapping[str, Any], caller: Caller, idempotency_key: str | None = None) -> tuple[dict[str, Any], int]:
    """POST /payment. An order's one-off charges (paymentItem naming the ProductOrder): 409
    alreadyPaid while one of its payments waits or is authorized; a declined or expired one may be
    followed by another (its holds taken back in the same transaction, or 409 and nothing
    charged). An account payment that charges needs an Idempotency-Key (400 otherwise). A payment
    with nothing to charge (no amount, or no card token) is answered 201 `failed`, nothing taken
    (the TMF676 kit posts one)."""
    access.check(caller, domain.PAYMENT, access.WRITE)
    validate_payload("payment", schemas.Payment, body)
    order_id = domain.ordered_item(body)
    payer = _payer(body, caller, None)        # 404 first for a customer naming another
    token, amount = domain.card_token(body), body["totalAmount"]
    claim = _payable(order_id, body, caller) if order_id else None
    order = claim.order if claim else None
    rid = domain.order_payment_id(order_id, claim.attempt) if claim and order_id else \
        _account_payment_id(caller, idempotency_key, amount.get("value") is not None and bool(token))
    order_ref = {"id": order["id"], "href": order["href"], "@referredType": domain.ORDER_TYPE} if order else None
    at = tmf.now()
    doc = domain.new_payment(body, rid, href(domain.PAYMENT, rid), tmf.iso(at),
                             _payer(body, caller, order) if order else payer, order_ref)
    check_size("payment", doc)
    if amount.get("value") is None or not token:
        doc = domain.settled(doc, domain.FAILED, doc["statusDate"], "nothing to charge: the payment names no amount "
                             "or no card token (paymentMethod.id); nothing was taken")
        version = store.insert(doc)
        logger.info("payment refused", extra={"paymentId": rid, "by": caller.role, "reason": "nothingToCharge"})
        return doc, version or 1
    deadline = tmf.iso(at + dt.timedelta(seconds=settings.payment_step_seconds()))
    if claim is None:
        if store.insert(doc, step_deadline=deadline) is None:   # the same Idempotency-Key again, at once
            raise conflict(f"payment {rid} (this Idempotency-Key) exists already", "alreadyPaid")
    else:
        also = _again_writes(claim, rid) if claim.again else []
        try:   # claims the order: a crash after this leaves the payment to the sweep
            store.open_payment(doc, deadline, domain.order_record(order_id or "", rid, claim.attempt),
                               claim.record_version, also)
        except store.StaleVersion:
            _, _, current = _current(order_id or "")
            if current is not None and current[0]["id"] != (claim.record or {}).get("payment"):
                raise _paid(order_id or "", current[0]) from None
            raise conflict(f"productOrder {order_id}, its handsets or its slots changed while it was being paid; "
                           "nothing was charged: retry", "orderChanged") from None
    outcome = provider.provider().authorize(rid, amount, token)
    doc, version = _settle(rid, outcome.status, outcome.reason, outcome.authorization_code, deadline)
    logger.info("payment", extra={"paymentId": rid, "orderId": order_id, "by": caller.role, "status": doc["status"],
                                  "attempt": claim.attempt if claim else None})
    return doc, version


def _paid(order_id: str, payment: Mapping[str, Any]) -> ApiError:
    return conflict(f"productOrder {order_id} has a payment already ({payment['id']}, {payment.get('status')}): "
                    "it is paid once", "alreadyPaid")


def _payment(rid: str) -> tuple[dict[str, Any], int]:
    found = store.load(rid)
    if found is None:
        raise not_found(domain.PAYMENT, rid)
    return found


def _settle(rid: str, status: str, reason: str | None, code: str | None = None,
            deadline: str | None = None) -> tuple[dict[str, Any], int]:
    """Move a payment waiting for its outcome to `status` (once) and do what follows for its
    order; a payment settled already stays as it is (and its follow-up is done again). Only a
    payment still waiting takes a new reason for waiting: one authorized meanwhile (the callback
    can beat the provider's own answer) is never moved back to waiting."""
    def mutate(doc: dict[str, Any], _version: int) -> dict[str, Any] | None:
        if doc.get("status") != domain.PENDING:
            return None
        if status == domain.PENDING:
            return domain.settled(doc, domain.PENDING, doc["statusDate"], reason) \
                if reason and doc.get("statusReason") != reason else None
        return domain.settled(doc, status, tmf.now_iso(), reason, code)

    def write(doc: dict[str, Any], version: int) -> int:
        return store.replace(doc, version, deadline if doc.get("status") == domain.PENDING else None)

    doc, version = db.change(f"payment {rid}", lambda: _payment(rid), mutate, write)
    _follow(doc)
    return doc, version


def _follow(doc: Mapping[str, Any]) -> None:
    order_id = next((i["item"]["id"] for i in doc.get("paymentItem") or []
                     if (i.get("item") or {}).get("@referredType") == domain.ORDER_TYPE), None)
    if not order_id or doc.get("status") not in (domain.AUTHORIZED, domain.DENIED, domain.FAILED):
        return
    record = store.load_order(order_id)
    if (record[0].get("payment") if record else domain.order_payment_id(order_id)) != doc["id"]:
        return                            # an earlier attempt (a late callback, a retry): its order moved on
    if doc["status"] == domain.AUTHORIZED:
        found = orders.load(order_id)
        if found is not None and found.doc.get("state") in (order_domain.CANCELLED, order_domain.FAILED):
            refund_order(order_id)        # confirmed after the order was cancelled: it goes back
        elif found is not None:
            orders.start_workflow(found.doc)
    else:
        orders.payment_refused(order_id, f"payment {doc['status']}: {doc.get('statusReason') or 'no reason given'}. "
                                           "The order is not sent and its handsets and installation slots were "
                                           "released; pay it again with another card, or order again.")


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
    provider drops them first), and orders nobody paid within their payment window are treated
    the same: their orders stay pending, their handsets and slots go back. How many ended."""
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
    ended += sum(_expire_unpaid(record, version, at) for record, version in store.unpaid_by(at))
    for refund_doc, version in store.refunds_due(at):   # claimed and never answered, or failed: asked again
        _refunded_by_provider(refund_doc, version)
    return ended


def _window_closed() -> str:
    minutes = max(1, settings.payment_window_seconds() // 60)
    return (f"no payment was made within {minutes} minutes: the order is not sent and its handsets and installation "
            "slots were released; pay it again, or order again.")


def _expire_unpaid(record: dict[str, Any], version: int, at: str) -> bool:
    """An order nobody paid in time: its record claimed first (a payment racing it then loses
    its transaction, charging nothing), then the order refused as after an expired payment, then
    the record no longer due. Safe to repeat and to run twice at once: True for the sweep that
    claimed it."""
    order_id = record["orderId"]
    claimed = False
    if not record.get("payment") and not record.get("expired"):
        record = {**record, "expired": at}
        try:
            version = store.replace_order(record, version, window_ends=at)   # still due: a crash heals
            claimed = True
        except store.StaleVersion:
            return False                  # paid, or claimed by another sweep, meanwhile
    if not record.get("payment"):
        orders.payment_refused(order_id, _window_closed())
    try:
        store.replace_order(record, version)    # no longer due
    except store.StaleVersion:
        pass                              # done by another sweep, or paid again: its record is newer
    if claimed:
        logger.info("order payment window closed", extra={"orderId": order_id})
    return claimed


# --- for checkout and cancellation (chalicelib/ordering) ---------------------------------------------
def order_paid(order: Mapping[str, Any]) -> bool:
    """May the order go to its stacks: it has no one-off charge, or its payment is authorized."""
    if domain.one_off_due(order) is None:
        return True
    found = _current(order["id"])[2]
    return found is not None and found[0].get("status") == domain.AUTHORIZED


def order_window(order: Mapping[str, Any]) -> list[Callable[[Any], None]]:
    """For checkout's transaction: an order with one-off charges waits for its payment until its
    payment window ends (settings.payment_window_seconds; then the sweep releases its holds)."""
    if order.get("state") != order_domain.ACKNOWLEDGED or domain.one_off_due(order) is None:
        return []
    ends = tmf.iso(tmf.now() + dt.timedelta(seconds=settings.payment_window_seconds()))
    return [store.window_write(order["id"], ends)]


def refund_order(order_id: str) -> bool:
    """The order was cancelled (or failed): what its payment took goes back, once (a refund whose
    id derives from the payment); a payment still waiting for the customer's step is dropped.
    False when nothing was taken or it was refunded before."""
    found = _current(order_id)[2]
    if found is not None and found[0].get("status") == domain.PENDING:   # not confirmed yet: dropped
        dropped, _ = _settle(found[0]["id"], domain.CANCELED, "the order was cancelled before the payment was "
                             "confirmed; nothing was charged")
        if dropped.get("status") == domain.CANCELED:
            provider.provider().void(dropped["id"])   # told only once it is ours to drop
        found = store.load(found[0]["id"])   # a confirmation that came first is refunded below
    if found is None or found[0].get("status") != domain.AUTHORIZED or domain.refundable(found[0]) <= 0:
        return False
    _, _, now = _refund(found[0]["id"], domain.refund_id(found[0]["id"]), None, f"order {order_id} cancelled",
                        cancel=True)
    logger.info("payment refunded" if now else "payment refunded before", extra={"orderId": order_id})
    return now


# --- refunds (POST /refund: an agent gives back part of a payment; a cancelled order's) ------------
def refund(body: Mapping[str, Any], caller: Caller, idempotency_key: str | None) -> tuple[dict[str, Any], int]:
    """POST /refund: give back `totalAmount` of the authorized payment `payment.id` to its card,
    never more in all than it took (422 refundExceedsPayment), nothing from a payment that took
    nothing (409 notRefundable). Needs an Idempotency-Key (its retry is the same refund). Answered
    with the refund as the provider left it: `done`, or `failed` with the reason (the sweep asks
    the provider again), never reported done before the provider said so."""
    access.check(caller, domain.REFUND, access.WRITE)
    validate_payload("refund", schemas.Refund, body)
    if not idempotency_key:
        raise bad_request("a refund needs an Idempotency-Key header: a retry with the same key is the same refund, "
                          "given back once", "idempotencyKeyRequired")
    payment = read(domain.PAYMENT, body["payment"]["id"], caller)        # 404 for one not to be seen
    amount = body["totalAmount"]
    if amount.get("value") is None or (amount.get("unit") or payment["totalAmount"].get("unit")) != \
            payment["totalAmount"].get("unit"):
        raise bad_request(f"totalAmount needs a value in the payment's currency ({payment['totalAmount'].get('unit')})")
    if (body["paymentMethod"].get("id") not in (None, domain.card_token(payment))
            or body["account"].get("id") != ref_id(payment, "account")):
        raise unprocessable("a refund goes back to the payment's own account and payment method", "refundMismatch")
    rid = domain.refund_id(payment["id"], json.dumps([caller.role, caller.sub, idempotency_key]))
    doc, version, _ = _refund(payment["id"], rid, Decimal(str(amount["value"])),
                              body.get("description") or f"refunded by {caller.role} {caller.sub}")
    logger.info("refund", extra={"refundId": rid, "paymentId": payment["id"], "by": caller.role,
                                 "status": doc["status"]})
    return doc, version


def _refund(payment_id: str, rid: str, amount: Decimal | None, reason: str,
            cancel: bool = False) -> tuple[dict[str, Any], int, bool]:
    """Claim the refund `rid` of `amount` (None: all that is left) of the payment first (the
    refund written and the payment's refunded amount raised, one transaction conditional on the
    payment's version: concurrent refunds cannot give back more than it took), then ask the
    provider and record its answer. `cancel`: the payment ends canceled (its order was). The
    same refund again asks nothing more. (refund, version, claimed now)."""
    made: list[dict[str, Any]] = []
    claimed: list[str] = []

    def mutate(payment: dict[str, Any], _version: int) -> dict[str, Any] | None:
        if store.load(rid, domain.REFUND) is not None:
            return None                   # claimed before (a retry): that refund
        if payment.get("status") != domain.AUTHORIZED:
            raise conflict(f"payment {payment_id} is {payment.get('status')}: it took nothing to refund",
                           "notRefundable")
        left = domain.refundable(payment)
        want = left if amount is None else amount
        if want <= 0 or want > left:
            raise unprocessable(f"payment {payment_id} has {left} {payment['totalAmount'].get('unit')} left to "
                                "refund: a refund gives back more than nothing and at most that", "refundExceedsPayment")
        at = tmf.now_iso()
        made[:] = [domain.new_refund(payment, rid, href(domain.REFUND, rid), at, reason, want)]
        after = domain.with_refunded(payment, want, at)
        return domain.settled(after, domain.CANCELED, at, "refunded: the order was cancelled") if cancel else after

    def write(payment: dict[str, Any], version: int) -> int:
        written = store.claim_refund(made[0], _retry_at(), payment, version)
        claimed.append(rid)
        return written

    db.change(f"payment {payment_id}", lambda: _payment(payment_id), mutate, write)
    found = store.load(rid, domain.REFUND)
    if found is None:
        raise not_found(domain.REFUND, rid)
    doc, version = _refunded_by_provider(*found)
    return doc, version, bool(claimed)


def _retry_at() -> str:
    return tmf.iso(tmf.now() + dt.timedelta(seconds=settings.payment_refund_retry_seconds()))


def _refunded_by_provider(refund: dict[str, Any], version: int) -> tuple[dict[str, Any], int]:
    """Ask the provider for a refund not done yet (its id is the provider's idempotency key) and
    record the answer: done, or failed with the reason and due for the sweep to ask again."""
    if refund.get("status") == domain.REFUND_DONE:
        return refund, version
    try:
        outcome = provider.provider().refund(refund["id"], refund["payment"]["id"], refund["totalAmount"])
    except Exception as exc:   # the provider unreachable: not done, asked again later
        logger.warning("refund not answered", extra={"refundId": refund["id"], "error": type(exc).__name__})
        outcome = provider.Outcome(domain.REFUND_FAILED, f"the payment provider could not be reached "
                                                         f"({type(exc).__name__}); it will be asked again")
    done = outcome.status == domain.REFUND_DONE

    def load() -> tuple[dict[str, Any], int]:
        return store.load(refund["id"], domain.REFUND) or (refund, version)

    def mutate(doc: dict[str, Any], _version: int) -> dict[str, Any] | None:
        if doc.get("status") == domain.REFUND_DONE:
            return None
        return domain.refund_outcome(doc, domain.REFUND_DONE if done else domain.REFUND_FAILED, tmf.now_iso(),
                                     None if done else outcome.reason or "the provider refused the refund",
                                     outcome.authorization_code)

    def write(doc: dict[str, Any], at: int) -> int:
        return store.replace(doc, at, None if done else _retry_at(), kind=domain.REFUND)

    return db.change(f"refund {refund['id']}", load, mutate, write)


# --- reads ------------------------------------------------------------------------------------------
def read(kind: str, rid: str, caller: Caller) -> dict[str, Any]:
    access.check(caller, kind, access.READ)
    found = store.load(rid, kind)
    if found is None or not domain.visible(found[0], caller.role, caller.customer_id):
        raise not_found(kind, rid)
    return found[0]


def search(kind: str, params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    access.check(caller, kind, access.READ)
    own = (caller.customer_id or "") if caller.role == "customer" else None
    if not tmf.attribute_filters(params):   # DynamoDB pages (store.page): her own by-owner, every one by-kind
        offset, limit = tmf.paging(params)
        items, total = store.page(kind, offset, limit, own)
        return tmf.selected(items, params, ALWAYS_LISTED), total
    docs = store.listed(kind, own)
    return tmf.listed([d for d in docs if domain.visible(d, caller.role, caller.customer_id)], params, ALWAYS_LISTED)
