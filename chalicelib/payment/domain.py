"""TMF676 payment rules, pure: what a payment and a refund look like, what an order has to pay
before it goes to its stacks, who sees what. No I/O.

- An order's one-off charges (its orderTotalPrice of priceType oneTime: handsets, installation
  fees, a deposit) are paid by a payment naming the order in `paymentItem`. Its id derives from
  the order and the attempt (`order_payment_id`): the first attempt's from the order alone. A
  declined or expired attempt may be followed by another (another card), at most MAX_ATTEMPTS;
  the order's payment record (`order_record`) names the current one. Recurring charges are billing's.
- An order with one-off charges has PAYMENT_WINDOW (settings.payment_window_seconds) to be paid:
  past it, nobody having paid, it is treated as an expired payment (pending, its holds released).
- `status` follows the spec's PaymentStatusExampleType: `pendingAuthorization` (the provider
  asked the customer for a step, its callback decides), `authorized` (the order may go to its
  stacks), `denied` (declined), `failed` (expired, or nothing to charge), `canceled` (the order
  was cancelled: refunded). `statusReason` (an Omnishop extension) says why, for the customer.
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.view import ref_id
from chalicelib.view import Document

API_ROOT = "/tmf-api/paymentManagement/v4"
PAYMENT, REFUND = "payment", "refund"
ORDER_TYPE = "ProductOrder"
CUSTOMER_ROLE = "customer"

PENDING, AUTHORIZED, DENIED, FAILED, CANCELED = "pendingAuthorization", "authorized", "denied", "failed", "canceled"
REFUSED = (DENIED, FAILED)             # an order whose payment ended so may be paid again
REFUND_PENDING, REFUND_DONE, REFUND_FAILED = "pending", "done", "failed"   # a refund: claimed, by the provider
ORDER_RECORD = "orderPayment"         # the kind of an order's payment record (store.py)
MAX_ATTEMPTS = 5                      # payments of one order (a card-testing bound); then order again
NAMESPACE = uuid.UUID("0d6b9a53-6f0e-4c55-8a6c-7c1f2b9e4a01")


def order_payment_id(order_id: str, attempt: int = 1) -> str:
    """An order's payment, attempt n (from 1): its id derives from the order and n, so two
    attempts at once to pay it the same n-th time are one payment (a second is a conflict)."""
    return str(uuid.uuid5(NAMESPACE, f"productOrder:{order_id}" + (f"#{attempt}" if attempt > 1 else "")))


def order_record(order_id: str, current: str | None, attempt: int, expired: str | None = None) -> dict[str, Any]:
    """What the payment context keeps per order with one-off charges: its current payment (None
    before the first), how many attempts, and when its payment window closed unpaid."""
    out: dict[str, Any] = {"orderId": order_id, "payment": current, "attempt": attempt}
    if expired:
        out["expired"] = expired
    return out


def account_payment_id(caller_key: str, idempotency_key: str) -> str:
    """An account payment (no order): its id derives from who asked and their Idempotency-Key, so
    a retry is the same payment at the provider too (charged once)."""
    return str(uuid.uuid5(NAMESPACE, f"account:{caller_key}:{idempotency_key}"))


def refund_id(payment_id: str, key: str | None = None) -> str:
    """A cancelled order's refund (one per payment), or an agent's, from its Idempotency-Key."""
    return str(uuid.uuid5(NAMESPACE, f"refund:{payment_id}" + (f":{key}" if key else "")))


def one_off_due(order: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the order has to pay at checkout: its one-off total as Money ({"unit", "value"}), or
    None when it has no one-off charge (or it comes to 0)."""
    for total in order.get("orderTotalPrice") or []:
        if total.get("priceType") != "oneTime":
            continue
        money = (total.get("price") or {}).get("taxIncludedAmount") or {}
        if Decimal(str(money.get("value") or 0)) > 0:
            return {"unit": money.get("unit") or "EUR", "value": float(money["value"])}
    return None


def same_money(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if not a or not b or a.get("value") is None or b.get("value") is None:
        return False
    return a.get("unit") == b.get("unit") and Decimal(str(a["value"])) == Decimal(str(b["value"]))


def ordered_item(body: Mapping[str, Any]) -> str | None:
    """The order a payment pays, from its paymentItem (an item whose @referredType is ProductOrder)."""
    for entry in body.get("paymentItem") or []:
        item = entry.get("item") or {}
        if item.get("@referredType") == ORDER_TYPE and item.get("id"):
            return item["id"]
    return None


class Payment(Document):
    """A thin typed view of a stored payment (TMF676; chalicelib/view.py)."""

    @property
    def customer_id(self) -> str | None:
        """A payment names its customer as its payer (role customer), not in relatedParty."""
        payer = self.doc.get("payer")
        if not isinstance(payer, Mapping):
            return None
        return payer.get("id") if str(payer.get("role") or "").lower() == CUSTOMER_ROLE else None


def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Payment(doc).customer_id


def card_token(body: Mapping[str, Any]) -> str | None:
    return ref_id(body, "paymentMethod")


def new_payment(body: Mapping[str, Any], rid: str, href: str, at: str, customer: Mapping[str, Any] | None,
                order_ref: Mapping[str, Any] | None) -> dict[str, Any]:
    doc = {k: v for k, v in body.items() if k not in ("id", "href", "status", "statusDate", "paymentDate",
                                                        "authorizationCode", "statusReason")}
    doc.update({"id": rid, "href": href, "@type": "Payment", "status": PENDING, "statusDate": at, "paymentDate": at})
    if customer:
        doc["payer"] = dict(customer)
    if order_ref:
        doc["paymentItem"] = [{"id": "1", "item": dict(order_ref), "totalAmount": body.get("totalAmount"),
                               "@type": "PaymentItem"}]
    return doc


def settled(doc: Mapping[str, Any], status: str, at: str, reason: str | None = None,
            authorization_code: str | None = None) -> dict[str, Any]:
    out = {**doc, "status": status, "statusDate": at}
    if reason:
        out["statusReason"] = reason
    if authorization_code:
        out["authorizationCode"] = authorization_code
    return out


def refundable(payment: Mapping[str, Any]) -> Decimal:
    """What is left to give back of an authorized payment: its total less what was refunded."""
    taken = Decimal(str((payment.get("totalAmount") or {}).get("value") or 0))
    return taken - Decimal(str((payment.get("refundedAmount") or {}).get("value") or 0))


def with_refunded(payment: Mapping[str, Any], amount: Decimal, at: str) -> dict[str, Any]:
    """The payment once `amount` more of it is being refunded (`refundedAmount`, an Omnishop
    extension: the sum of its refunds, never more than its total)."""
    before = Decimal(str((payment.get("refundedAmount") or {}).get("value") or 0))
    unit = (payment.get("totalAmount") or {}).get("unit") or "EUR"
    return {**payment, "refundedAmount": {"unit": unit, "value": float(before + amount)}, "statusDate": at}


def new_refund(payment: Mapping[str, Any], rid: str, href: str, at: str, reason: str,
               amount: Decimal) -> dict[str, Any]:
    """A refund claimed (`pending`): the provider is asked after it is written."""
    unit = (payment.get("totalAmount") or {}).get("unit") or "EUR"
    out = {"id": rid, "href": href, "@type": "Refund", "status": REFUND_PENDING, "statusDate": at, "refundDate": at,
           "description": reason, "account": payment.get("account"), "paymentMethod": payment.get("paymentMethod"),
           "totalAmount": {"unit": unit, "value": float(amount)},
           "payment": {"id": payment["id"], "href": payment["href"], "@referredType": "Payment"}}
    if payment.get("payer"):
        out["requestor"] = payment["payer"]
    return out


def refund_outcome(refund: Mapping[str, Any], status: str, at: str, reason: str | None = None,
                   code: str | None = None) -> dict[str, Any]:
    out = {k: v for k, v in refund.items() if k != "statusReason"}
    out.update({"status": status, "statusDate": at})
    if reason:
        out["statusReason"] = reason
    if code:
        out["authorizationCode"] = code
    return out


def visible(doc: Mapping[str, Any], role: str, customer_id: str | None) -> bool:
    if role == "customer":
        owner = customer_of(doc) or customer_of({"payer": doc.get("requestor")})
        return owner is not None and owner == customer_id
    return True
