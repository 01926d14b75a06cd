"""Notify table persistence (PynamoDB): versioned writes (the message record is also the lock
that makes a send happen once) and the Queries lists are made of. See models.py."""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist

from chalicelib import documents, settings
from chalicelib.db import StaleVersion, transaction, versioned  # noqa: F401 (store.StaleVersion)
from chalicelib.notify.domain import MessageRequest
from chalicelib.notify.models import MessageRecord

KIND = "message"
FIRST_VERSION = 1   # the version of a message once inserted (PynamoDB's VersionAttribute)
DUE = "DUE"
MAX_ID = 256


@dataclasses.dataclass
class Stored:
    doc: dict[str, Any]
    request: MessageRequest | None   # None once deleted (bury keeps no content)
    version: int
    retryable: bool = False
    attempts: int = 0
    lease: int = 0
    deleted: bool = False

    @property
    def state(self) -> str:
        return self.doc.get("state", "")


def _expires() -> int:
    return int(time.time()) + settings.notify_retention_days() * 86400


def load(message_id: str) -> Stored | None:
    if len(message_id) > MAX_ID:
        return None
    try:
        rec = MessageRecord.get(message_id, consistent_read=True)
    except DoesNotExist:
        return None
    request = MessageRequest.from_item(rec.request) if rec.request else None
    return Stored(rec.body or {}, request, rec.version, bool(rec.retryable), int(rec.attempts or 0),
                  int(rec.lease or 0), deleted=rec.kind is None)


def write(doc: dict[str, Any], request: MessageRequest, version: int | None, *, retryable: bool = False,
          attempts: int = 0, lease: int = 0, due_at: str | None = None,
          also: Callable[[Any], None] | None = None) -> int:
    """Insert (version None: it must not exist) or replace the message stored at `version`;
    StaleVersion otherwise. `due_at` puts it on the platform's resend list. `also(tx)` adds other
    writes (an interaction, a campaign's target) to the same transaction: all are written or none
    (StaleVersion when any condition fails)."""
    rec = _record(doc, request, version, retryable=retryable, attempts=attempts, lease=lease, due_at=due_at)
    if also is None:
        return _save(rec)
    with versioned():
        with transaction() as tx:
            tx.save(rec)
            also(tx)
    return rec.version


def insert_in(tx: Any, doc: dict[str, Any], request: MessageRequest, *, attempts: int = 0, lease: int = 0) -> None:
    """A new message in a caller's transaction (refused when its id is stored already)."""
    tx.save(_record(doc, request, None, attempts=attempts, lease=lease))


def _record(doc: dict[str, Any], request: MessageRequest, version: int | None, *, retryable: bool = False,
            attempts: int = 0, lease: int = 0, due_at: str | None = None) -> MessageRecord:
    created = doc.get("creationDate") or ""
    rec = MessageRecord(doc["id"], kind=KIND, sort=f"{created}#{doc['id']}", customer=request.customer_id,
                        due=DUE if due_at else None, due_at=due_at, state=doc.get("state"),
                        retryable=1 if retryable else None, attempts=attempts or None, lease=lease or None,
                        request=request.to_item(), body=doc, expires=_expires())
    if version is not None:
        rec.version = version
    return rec


def _save(rec: MessageRecord) -> int:
    with versioned():
        rec.save()
    return rec.version


def bury(stored: Stored) -> None:
    """Delete a message for the API (404 from now on) but keep its id and state, without content,
    so that a retried send of the same id does not send it again."""
    doc = {k: stored.doc[k] for k in ("id", "state", "creationDate") if k in stored.doc}
    _save(MessageRecord(doc["id"], state=stored.state, body=doc, request={}, version=stored.version,
                        expires=_expires()))


def all_messages() -> list[dict[str, Any]]:
    """Every message, newest first (a Query on by-kind)."""
    return [r.body for r in MessageRecord.by_kind.query(KIND, scan_index_forward=False)]


def customer_messages(customer_id: str) -> list[dict[str, Any]]:
    """A customer's messages, newest first (a Query on by-customer)."""
    if len(customer_id) > MAX_ID:
        return []
    return [r.body for r in MessageRecord.by_customer.query(customer_id, scan_index_forward=False)]


def page_messages(offset: int, limit: int, customer_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Messages offset .. offset+limit of `all_messages()` (or of `customer_messages(customer_id)`)
    and how many there are (documents.paged: at most offset+limit read, the total a COUNT)."""
    if customer_id is None:
        recs, total = documents.paged(MessageRecord.by_kind, KIND, offset, limit, newest_first=True)
    elif len(customer_id) > MAX_ID:
        return [], 0
    else:
        recs, total = documents.paged(MessageRecord.by_customer, customer_id, offset, limit, newest_first=True)
    return [r.body for r in recs], total


def due(until: str, limit: int = 100) -> list[str]:
    """Ids of messages the platform must send by `until` (a Query on the sparse by-due index)."""
    return [r.pk for r in MessageRecord.by_due.query(DUE, MessageRecord.due_at <= until, limit=limit)]
