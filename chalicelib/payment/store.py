"""Payment persistence (PynamoDB): a payment is created once (conditional put on its id) and
changes status only from the version read. See models.py for the key design."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterable

from chalicelib.customer.keys import customer_pk
from chalicelib.db import StaleVersion, transaction, versioned  # noqa: F401 (store.StaleVersion)
from chalicelib.documents import Documents
from chalicelib.payment import domain
from chalicelib.payment.models import PaymentRecord

WAITING, UNPAID, REFUNDING = "waiting", "unpaid", "refunding"


def _attributes(kind: str, doc: dict[str, Any], step_deadline: str | None = None) -> dict[str, Any]:
    """`step_deadline`: a payment waiting for the customer's step until then, or a refund not done
    to be (re)tried with the provider then (both in by-due, the sweep's Queries)."""
    customer = domain.customer_of(doc) or domain.customer_of({"payer": doc.get("requestor")})
    due = WAITING if kind == domain.PAYMENT and doc.get("status") == domain.PENDING else \
        REFUNDING if kind == domain.REFUND and doc.get("status") != domain.REFUND_DONE else None
    due = due if step_deadline else None
    return {"sort": f"{doc.get('paymentDate') or doc.get('refundDate')}#{doc['id']}",
            "owner": customer_pk(customer) if customer else None, "due": due,
            "until": step_deadline if due else None}


def _order_attributes(_record: dict[str, Any], window_ends: str | None = None) -> dict[str, Any]:
    """`window_ends`: the order waits for a payment until then (in by-due, the sweep's Query)."""
    return {"due": UNPAID if window_ends else None, "until": window_ends}


def _order_pk(order_id: str) -> str:
    return f"order#{order_id}"


_KINDS = {kind: Documents(PaymentRecord, kind, partial(_attributes, kind)) for kind in (domain.PAYMENT, domain.REFUND)}
_PAYMENTS, _REFUNDS = _KINDS[domain.PAYMENT], _KINDS[domain.REFUND]
# an order's payment record (domain.order_record), keyed by its order
_ORDERS = Documents(PaymentRecord, domain.ORDER_RECORD, _order_attributes, key=_order_pk,
                    id_of=lambda record: str(record["orderId"]))


def _of(kind: str) -> Documents[PaymentRecord]:
    if kind not in _KINDS:
        raise ValueError(f"not a payment store kind: {kind}")
    return _KINDS[kind]


def load(rid: str, kind: str = domain.PAYMENT) -> tuple[dict[str, Any], int] | None:
    return _of(kind).load(rid)


def insert(doc: dict[str, Any], kind: str = domain.PAYMENT, step_deadline: str | None = None) -> int | None:
    """Write a new payment (or refund); None when one with this id exists (the order is paid)."""
    return _of(kind).insert(doc, step_deadline=step_deadline)


def replace(doc: dict[str, Any], version: int, step_deadline: str | None = None, kind: str = domain.PAYMENT) -> int:
    """The payment (or refund) as stored at `version`, changed (StaleVersion when it changed meanwhile)."""
    return _of(kind).replace(doc, version, step_deadline=step_deadline)


def listed(kind: str, customer_id: str | None = None) -> list[dict[str, Any]]:
    """Every payment (or refund) kept, oldest first, or one customer's (one Query either way)."""
    return _of(kind).every() if customer_id is None else _of(kind).of_customer(customer_id)


def page(kind: str, offset: int, limit: int, customer_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Payments (or refunds) offset .. offset+limit of `listed(kind, customer_id)` and how many
    there are (Documents.page: at most offset+limit read, the total a COUNT)."""
    return _of(kind).page(offset, limit, customer_id)


def waiting_by(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Payments waiting for the customer's step whose deadline is at or before `at` (one Query)."""
    return [(r.body, r.version) for r in PaymentRecord.by_due.query(WAITING, PaymentRecord.until <= at, limit=limit)]


# --- an order's payment record (domain.order_record) ---------------------------------------------
def window_write(order_id: str, window_ends: str) -> Callable[[Any], None]:
    """For checkout's transaction: the order's payment record, nothing paid, due at `window_ends`."""
    return _ORDERS.put(domain.order_record(order_id, None, 0), window_ends=window_ends)


def load_order(order_id: str) -> tuple[dict[str, Any], int, str | None] | None:
    """The order's payment record, its version and when its payment window ends (None once paid
    or expired); None when it has none."""
    rec = _ORDERS.get(order_id)
    return None if rec is None else (rec.body, rec.version, rec.until if rec.due == UNPAID else None)


def replace_order(record: dict[str, Any], version: int, window_ends: str | None = None) -> int:
    """The order's payment record as stored at `version`, changed (StaleVersion otherwise)."""
    return _ORDERS.replace(record, version, window_ends=window_ends)


def open_payment(doc: dict[str, Any], step_deadline: str, record: dict[str, Any], version: int | None,
                 also: Iterable[Callable[[Any], None]] = ()) -> int:
    """An order's new payment (waiting for its outcome), its payment record naming it at `version`
    (None: the order has none yet), and `also` (what paying it again takes back: handsets, slots,
    the order), in one transaction. StaleVersion when any changed meanwhile: nothing written."""
    with versioned():
        with transaction() as tx:
            _PAYMENTS.put(doc, step_deadline=step_deadline)(tx)
            _ORDERS.put(record, version)(tx)
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
            _REFUNDS.put(refund, step_deadline=retry_at)(tx)
            _PAYMENTS.put(payment, version)(tx)
    return version + 1


def refunds_due(at: str, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
    """Refunds not done (claimed and never answered, or failed) to ask the provider again (one Query)."""
    return [(r.body, r.version) for r in PaymentRecord.by_due.query(REFUNDING, PaymentRecord.until <= at, limit=limit)]
