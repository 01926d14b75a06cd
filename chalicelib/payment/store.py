"""Payment persistence (PynamoDB): a payment is created once (conditional put on its id) and
changes status only from the version read. See models.py for the key design."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from pynamodb.exceptions import DoesNotExist

from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, transaction, versioned, written  # noqa: F401 (store.StaleVersion)
from chalicelib.payment import domain
from chalicelib.payment.models import PaymentRecord

MAX_ID = 256
WAITING, UNPAID, REFUNDING = "waiting", "unpaid", "refunding"


def _record(doc: dict[str, Any], kind: str, version: int | None, step_deadline: str | None = None) -> PaymentRecord:
    """`step_deadline`: a payment waiting for the customer's step until then, or a refund not done
    to be (re)tried with the provider then (both in by-due, the sweep's Queries)."""
    customer = domain.customer_of(doc) or domain.customer_of({"payer": doc.get("requestor")})
    due = WAITING if kind == domain.PAYMENT and doc.get("status") == domain.PENDING else \
        REFUNDING if kind == domain.REFUND and doc.get("status") != domain.REFUND_DONE else None
    due = due if step_deadline else None
    rec = PaymentRecord(doc["id"], kind=kind, sort=f"{doc.get('paymentDate') or doc.get('refundDate')}#{doc['id']}",
                        owner=customer_pk(customer) if customer else None, body=doc,
                        due=due, until=step_deadline if due else None)
    if version is not None:
        rec.version = version
    return rec


def load(rid: str, kind: str = domain.PAYMENT) -> tuple[dict[str, Any], int] | None:
    if not rid or len(rid) > MAX_ID:
        return None
    try:
        rec = PaymentRecord.get(rid, consistent_read=True)
    except DoesNotExist:
        return None
    return (rec.body, rec.version) if rec.kind == kind else None


def insert(doc: dict[str, Any], kind: str = domain.PAYMENT, step_deadline: str | None = None) -> int | None:
    """Write a new payment (or refund); None when one with this id exists (the order is paid)."""
    rec = _record(doc, kind, None, step_deadline)
    return rec.version if written(lambda: rec.save(condition=PaymentRecord.pk.does_not_exist())) else None


def replace(doc: dict[str, Any], version: int, step_deadline: str | None = None, kind: str = domain.PAYMENT) -> int:
    """The payment (or refund) as stored at `version`, changed (StaleVersion when it changed meanwhile)."""
    rec = _record(doc, kind, version, step_deadline)
    with versioned():
        rec.save()
    return rec.version


def listed(kind: str, customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every payment (or refund) kept, oldest first, or one customer's (one Query either way)."""
    if customer_id is not None:
        if len(customer_id) > MAX_ID:
            return []
        return [r.body for r in PaymentRecord.by_owner.query(customer_pk(customer_id)) if r.kind == kind]
    return [r.body for r in PaymentRecord.by_kind.query(kind)]


def waiting_by(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Payments waiting for the customer's step whose deadline is at or before `at` (one Query)."""
    return [(r.body, r.version) for r in PaymentRecord.by_due.query(WAITING, PaymentRecord.until <= at, limit=limit)]


# --- an order's payment record (domain.order_record) ---------------------------------------------
def _order_pk(order_id: str) -> str:
    return f"order#{order_id}"


def _order_item(record: dict[str, Any], version: int | None, window_ends: str | None = None) -> PaymentRecord:
    """`window_ends`: the order waits for a payment until then (in by-due, the sweep's Query)."""
    rec = PaymentRecord(_order_pk(record["orderId"]), kind=domain.ORDER_RECORD, body=record,
                        due=UNPAID if window_ends else None, until=window_ends)
    if version is not None:
        rec.version = version
    return rec


def window_write(order_id: str, window_ends: str) -> Callable[[Any], None]:
    """For checkout's transaction: the order's payment record, nothing paid, due at `window_ends`."""
    def write(tx: Any) -> None:
        tx.save(_order_item(domain.order_record(order_id, None, 0), None, window_ends),
                condition=PaymentRecord.pk.does_not_exist())

    return write


def load_order(order_id: str) -> tuple[dict[str, Any], int, str | None] | None:
    """The order's payment record, its version and when its payment window ends (None once paid
    or expired); None when it has none."""
    if not order_id or len(order_id) > MAX_ID:
        return None
    try:
        rec = PaymentRecord.get(_order_pk(order_id), consistent_read=True)
    except DoesNotExist:
        return None
    return (rec.body, rec.version, rec.until if rec.due == UNPAID else None) if rec.kind == domain.ORDER_RECORD \
        else None


def replace_order(record: dict[str, Any], version: int, window_ends: str | None = None) -> int:
    """The order's payment record as stored at `version`, changed (StaleVersion otherwise)."""
    rec = _order_item(record, version, window_ends)
    with versioned():
        rec.save()
    return rec.version


def open_payment(doc: dict[str, Any], step_deadline: str, record: dict[str, Any], version: int | None,
                 also: Iterable[Callable[[Any], None]] = ()) -> int:
    """An order's new payment (waiting for its outcome), its payment record naming it at `version`
    (None: the order has none yet), and `also` (what paying it again takes back: handsets, slots,
    the order), in one transaction. StaleVersion when any changed meanwhile: nothing written."""
    with versioned():
        with transaction() as tx:
            tx.save(_record(doc, domain.PAYMENT, None, step_deadline), condition=PaymentRecord.pk.does_not_exist())
            rec = _order_item(record, version)
            if version is None:
                tx.save(rec, condition=PaymentRecord.pk.does_not_exist())
            else:
                tx.save(rec)
            for write in also:
                write(tx)
    return 1


def unpaid_by(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Orders' payment records whose payment window ended at or before `at`, unpaid (one Query)."""
    return [(r.body, r.version) for r in PaymentRecord.by_due.query(UNPAID, PaymentRecord.until <= at, limit=limit)]


# --- refunds -------------------------------------------------------------------------------------
def claim_refund(refund: dict[str, Any], retry_at: str, payment: dict[str, Any], version: int) -> int:
    """A new refund (before the provider is asked; the sweep asks again from `retry_at`) and its
    payment's refunded amount at `version`, in one transaction: StaleVersion when the payment
    changed meanwhile (another refund: read again) or the refund exists. The payment's version."""
    with versioned():
        with transaction() as tx:
            tx.save(_record(refund, domain.REFUND, None, retry_at), condition=PaymentRecord.pk.does_not_exist())
            tx.save(_record(payment, domain.PAYMENT, version))
    return version + 1


def refunds_due(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Refunds not done (claimed and never answered, or failed) to ask the provider again (one Query)."""
    return [(r.body, r.version) for r in PaymentRecord.by_due.query(REFUNDING, PaymentRecord.until <= at, limit=limit)]
