"""Notifications: the one way any context sends a customer an SMS or email, and the TMF681 use
cases behind the API.

    outcome = send("reminder-1-b-42", MessageRequest(
        customer_id="cust-andrea", purpose="service",
        content={"sms": "Hi {firstName}, need a hand? {link}", "email": "..."},
        fields={"link": url}, subject="Your basket", journey_key="jrn-1",
        related=[{"id": "b-42", "@referredType": "ShoppingCart"}], reason="basket reminder"))
    outcome.status   # "sent" | "deferred" (quiet hours: try again at outcome.not_before) | "skipped"

Idempotent on the message id: the message record is written before the provider is called
(state inProgress, held by a lease) and a second call finds it, so a retried Step Functions task
or a redelivered SQS message sends one SMS. A new message costs no read of it: its first write is
an insert conditional on the id being new (the claim), and only a refused claim reads what is
stored. Once the provider accepted it, the message is recorded `completed` and its TMF683
interaction in one transaction. An attempt that died after its claim (before or after the
provider) leaves the message inProgress: the next attempt waits for the lease to end, then sends
it (so it is not lost; at the price of a second SMS when the first attempt died after the
provider accepted it and before the record: no write can be atomic with the provider's call).
Provider throttling or faults raise TransientSendError (retry it), a refusal raises SendRefused;
neither records `completed`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any, Callable, Mapping

from chalicelib import access as rights
from chalicelib import deferred, settings, tmf
from chalicelib import customer as customers
from chalicelib.auth import Caller
from chalicelib.customer import access
from chalicelib.customer import load_customer
from chalicelib.errors import ApiError, conflict, forbidden, not_found, precondition_failed
from chalicelib.notify import domain, store, transport
from chalicelib.notify.domain import CANCELLED, COMPLETED, FAILED, IN_PROGRESS, INITIAL, MessageRequest, TemplateError
from chalicelib.notify.store import Stored
from chalicelib.observability import count, logger

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.notify.schemas")

SENDERS = rights.roles("communicationMessage", "send")
READERS = rights.roles("communicationMessage", rights.READ)
MANAGERS = rights.roles("communicationMessage", rights.WRITE)

__all__ = ["send", "deliver", "cancel", "sweep", "prepare", "claim_in", "dispatch", "release", "Claim", "Outcome",
           "MessageRequest", "SendError", "TransientSendError", "SendRefused", "TemplateError"]


class SendError(Exception):
    """A message could not be sent. `message_id` names it; the text never holds an address."""

    def __init__(self, message_id: str, message: str):
        super().__init__(f"message {message_id}: {message}")
        self.message_id = message_id


class TransientSendError(SendError):
    """Not sent now, may be sent later: the provider throttled or failed, or another attempt is
    sending it. Retry with backoff (Step Functions: Retry ErrorEquals ["TransientSendError"])."""


class SendRefused(SendError):
    """The provider refused the message (or the platform gave up retrying): it is `failed`."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    message_id: str
    status: str                    # sent | deferred | skipped
    reason: str
    channel: str | None = None     # sms | email
    not_before: str | None = None  # deferred: when to try again (ISO 8601, UTC)
    duplicate: bool = False        # this id was handled before: nothing was sent now
    finished_with: bool = False    # dispatch: the caller's finishing writes went with the message's
    version: int | None = dataclasses.field(default=None, compare=False)   # the message's, as stored now
    message: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON for a Step Functions task result."""
        return {"messageId": self.message_id, "status": self.status, "reason": self.reason,
                "channel": self.channel, "notBefore": self.not_before, "duplicate": self.duplicate,
                "state": self.message.get("state")}


def message_href(message_id: str) -> str:
    return tmf.href(domain.API_ROOT, "communicationMessage", message_id)


# --- the entry point for every context --------------------------------------------------------
def send(message_id: str, request: MessageRequest, customer: Mapping[str, Any] | None = None) -> Outcome:
    """Send what `request` says (its customer, purpose, templates...: domain.MessageRequest), once
    per `message_id` (derive it from what it is about, e.g. f"basket-reminder-1-{basket_id}").

    The first channel with consent for the purpose and a contact medium is used; in quiet hours
    the outcome is `deferred` until they end (call again then, same id); with none, `skipped`
    and the message is recorded `cancelled` with the reason. A bad template raises TemplateError
    (400) when the request is made, before anything is written; TransientSendError / SendRefused
    as above. A request with `resume` deferred or refused for now is sent by the notify sweep
    when its time comes (no workflow waits for it). `customer`: the request's customer document
    when the caller has just read it (a campaign batch reads its customers in one call), so it
    is not read again; consent and the address are judged on it.

    Calls: a new SMS is the customer's GetItem (none with `customer`), the claim (PutItem), the
    provider's and the finishing transaction (message + interaction): 4, or 3 with `customer`."""
    read = _Customers(customer)
    try:
        return _deliver(message_id, request, None, read)
    except _Taken:   # handled before (or deferred, or refused for now): as stored decides
        stored = store.load(message_id)
        if stored is None:   # gone between the claim and the read (its retention ended)
            raise TransientSendError(message_id, "the message changed meanwhile; try again") from None
        return _deliver(message_id, request, stored, read)


def deliver(message_id: str) -> Outcome:
    """Send a stored message now, as its first request said (the sweep's resends)."""
    return _deliver(message_id, None, store.load(message_id))


def cancel(message_id: str, reason: str = "cancelled") -> bool:
    """Cancel a message not sent yet (e.g. deferred, and the basket was ordered meanwhile).
    True when it is cancelled now or was already; False when it was sent or is being sent."""
    stored = store.load(message_id)
    if stored is None or stored.state == CANCELLED:
        return stored is not None
    if stored.state not in (INITIAL, FAILED) or stored.deleted or stored.request is None:
        return False
    try:
        store.write(domain.with_state(stored.doc, CANCELLED, tmf.now_iso(), reason), stored.request, stored.version)
    except store.StaleVersion:
        return cancel(message_id, reason)
    return True


def sweep(limit: int = 100) -> dict[str, int]:
    """Send the messages the platform owes (API messages held by quiet hours or a provider's
    refusal for now) whose time has come."""
    counts = {"sent": 0, "deferred": 0, "skipped": 0, "retrying": 0, "failed": 0}
    for message_id in store.due(tmf.now_iso(), limit):
        try:
            counts[deliver(message_id).status] += 1
        except TransientSendError:
            counts["retrying"] += 1
        except SendRefused:
            counts["failed"] += 1
    return counts


# --- one attempt ------------------------------------------------------------------------------
def _outcome(doc: Mapping[str, Any], status: str, reason: str, channel: str | None = None,
             not_before: str | None = None, duplicate: bool = False, finished_with: bool = False,
             version: int | None = None) -> Outcome:
    return Outcome(doc["id"], status, reason, channel, not_before, duplicate, finished_with, version,
                   message=dict(doc))


def _channel(doc: Mapping[str, Any]) -> str:
    return domain.channel_of(doc.get("messageType") or "sms")


def _finished(stored: Stored) -> Outcome:
    """A message handled before: the same outcome again, nothing sent."""
    doc = stored.doc
    if stored.deleted or stored.request is None or stored.state == CANCELLED:
        return _outcome(doc, "skipped", doc.get("stateReason") or "deleted", duplicate=True, version=stored.version)
    if stored.state == FAILED:
        raise SendRefused(doc["id"], doc.get("stateReason") or "the provider refused it")
    return _outcome(doc, "sent", "sent before", _channel(doc), duplicate=True, version=stored.version)


class _Customers:
    """The message's customer, read once per call of send (or given by the caller)."""

    def __init__(self, known: Mapping[str, Any] | None = None):
        self.known: dict[str, Mapping[str, Any] | None] = {known["id"]: known} if known and known.get("id") else {}

    def get(self, customer_id: str) -> Mapping[str, Any] | None:
        if customer_id not in self.known:
            found = load_customer(customer_id)
            self.known[customer_id] = found[0] if found else None
        return self.known[customer_id]


class _Taken(Exception):
    """A new message's claim was refused: its id is stored already."""


def _write(doc: dict[str, Any], req: MessageRequest, version: int | None, **kwargs: Any) -> int:
    try:
        return store.write(doc, req, version, **kwargs)
    except store.StaleVersion:
        if version is None:
            raise _Taken() from None
        raise TransientSendError(doc["id"], "another attempt is handling it; try again") from None


def _deliver(message_id: str, req: MessageRequest | None, stored: Stored | None,
             customers_read: _Customers | None = None) -> Outcome:
    """Send `req` as message `message_id`, or (req None) the stored message again."""
    now = tmf.now()
    if stored is not None:
        if stored.deleted or stored.state in (COMPLETED, CANCELLED) or (stored.state == FAILED and not stored.retryable):
            return _finished(stored)
        if stored.state == IN_PROGRESS and stored.lease > time.time():
            raise TransientSendError(message_id, "another attempt is sending it; try again")
        req = stored.request   # the first request decides what is sent
    if req is None:
        raise not_found("communicationMessage", message_id)
    customer_id = req.customer_id
    customer = (customers_read or _Customers()).get(customer_id) if customer_id else None
    at = tmf.iso(now)
    doc = stored.doc if stored else domain.new_message(
        message_id, message_href(message_id), req, at, customers.customer_href(customer_id) if customer_id else None)
    version, attempts = (stored.version, stored.attempts) if stored else (None, 0)
    if req.unaddressed:
        plan = domain.Plan("skip", domain.unaddressed_reason(_channel(doc)))
    else:
        plan = domain.plan(req, customer, now)
    log = _log(message_id, req)
    if plan.action == "skip":
        doc = domain.with_state(doc, CANCELLED, at, f"not sent: {plan.reason}")
        version = _write(doc, req, version, attempts=attempts)
        logger.info("message not sent", extra={**log, "reason": plan.reason})
        return _outcome(doc, "skipped", plan.reason, version=version)
    if plan.action == "defer":
        doc = domain.with_state(doc, INITIAL, at, f"waiting: {plan.reason}", scheduledSendTime=plan.not_before)
        version = _write(doc, req, version, attempts=attempts, due_at=plan.not_before if req.resume else None)
        logger.info("message deferred", extra={**log, "notBefore": plan.not_before, "reason": plan.reason})
        return _outcome(doc, "deferred", plan.reason, plan.channel, plan.not_before, version=version)
    return _send(doc, req, version, attempts + 1, plan, customer, log)


def _log(message_id: str, req: MessageRequest) -> dict[str, Any]:
    return {"messageId": message_id, "customerId": req.customer_id, "purpose": req.purpose,
            "journey_key": req.journey_key}


@dataclasses.dataclass(frozen=True)
class Claim:
    """A message about to be sent: its inProgress record (written by the claim) and what to send."""
    doc: dict[str, Any]
    request: MessageRequest
    attempt: int
    channel: str
    address: str
    text: str
    subject: str | None
    reason: str
    lease: int
    log: dict[str, Any]


def _claim(doc: dict[str, Any], req: MessageRequest, attempt: int, plan: domain.Plan,
           customer: Mapping[str, Any] | None, log: dict[str, Any]) -> Claim:
    """The claim of one attempt (TemplateError here, before anything is written)."""
    channel = plan.channel or "sms"
    text, subject = domain.compose(req, channel, customer)
    at = tmf.now_iso()
    doc = domain.with_state(domain.sent_as(doc, channel, text, subject, req.sender_party), IN_PROGRESS, at,
                            sendTime=at, tryTimes=attempt)
    doc.pop("scheduledSendTime", None)
    return Claim(doc, req, attempt, channel, plan.address or "", text, subject, plan.reason,
                 int(time.time()) + settings.notify_lease_seconds(), log)


def _send(doc: dict[str, Any], req: MessageRequest, version: int | None, attempt: int, plan: domain.Plan,
          customer: Mapping[str, Any] | None, log: dict[str, Any]) -> Outcome:
    claim = _claim(doc, req, attempt, plan, customer, log)
    return _dispatch(claim, _write(claim.doc, req, version, attempts=attempt, lease=claim.lease))


def _dispatch(claim: Claim, version: int, finish_with: Callable[[Any], None] | None = None) -> Outcome:
    """The provider, then the message completed with its interaction (and the caller's
    `finish_with` writes) in one transaction."""
    req, attempt, channel, doc = claim.request, claim.attempt, claim.channel, claim.doc
    try:
        transport.send(channel, claim.address, claim.text, claim.subject, req.purpose)
    except transport.ProviderError as exc:
        give_up = not exc.transient or (req.resume and attempt >= settings.notify_max_attempts())
        failed = domain.with_state(doc, FAILED, tmf.now_iso(), f"{channel} provider: {exc}"
                                   + ("" if give_up else "; will be retried"))
        retry_at = tmf.iso(tmf.now() + dt.timedelta(seconds=settings.notify_retry_seconds() * attempt))
        store.write(failed, req, version, retryable=not give_up, attempts=attempt,
                    due_at=retry_at if req.resume and not give_up else None)
        logger.warning("message send failed", extra={**claim.log, "channel": channel, "error": exc.code,
                                                      "retryable": not give_up, "attempt": attempt})
        raise (SendRefused if give_up else TransientSendError)(doc["id"], str(exc)) from None
    done_at = tmf.now_iso()
    doc = domain.with_state(doc, COMPLETED, done_at, sendTimeComplete=done_at)
    interaction = _interaction(doc, req)
    # Refused: the caller's write (its condition), or the interaction is there already (a message
    # stored as sent before and set back): then with less, so the message never stays inProgress
    # to be sent again; refused alone, its lease ended while the provider took it and another
    # attempt holds it.
    def with_interaction(tx: Any) -> None:
        customers.save_interaction_in(tx, interaction)

    def with_both(tx: Any) -> None:
        with_interaction(tx)
        if finish_with is not None:
            finish_with(tx)
    tries: list[Callable[[Any], None] | None] = [with_interaction, None]
    if finish_with is not None:
        tries.insert(0, with_both)
    for n, also in enumerate(tries):
        try:
            version = store.write(doc, req, version, attempts=attempt, also=also)
            break
        except store.StaleVersion:
            if n == len(tries) - 1:
                raise TransientSendError(doc["id"], "sent, but another attempt took the message over meanwhile; "
                                         "try again for its outcome") from None
    joined = finish_with is not None and n == 0
    logger.info("message sent", extra={**claim.log, "channel": channel, "attempt": attempt})
    if channel == "sms":
        # counted here, by the one write that moves the message to completed (its condition, the
        # version the claim wrote, holds once): no stream record, no idempotency write. A retry
        # finds it completed and counts nothing; a process dying before this line loses the count.
        count("SmsSent")
    return _outcome(doc, "sent", claim.reason, channel, finished_with=joined, version=version)


# --- a caller's transactions (a campaign's send: its target, cap and the message together) --------
def prepare(message_id: str, request: MessageRequest, customer: Mapping[str, Any]) -> Claim | None:
    """The claim of a new message to `customer` (her document, just read) that is to be sent now,
    for a caller that writes it in its own transaction (`claim_in`) and then calls `dispatch`;
    None when it is not to be sent now (no consent or address, quiet hours: call send()). No
    AWS call. TemplateError as send."""
    now = tmf.now()
    if request.unaddressed or customer.get("id") != request.customer_id:
        return None
    plan = domain.plan(request, customer, now)
    if plan.action != "send":
        return None
    doc = domain.new_message(message_id, message_href(message_id), request, tmf.iso(now),
                             customers.customer_href(customer["id"]))
    return _claim(doc, request, 1, plan, customer, _log(message_id, request))


def claim_in(tx: Any, claim: Claim) -> None:
    """Add the claim to the caller's DynamoDB transaction (chalicelib.db.transaction): an insert
    conditional on the message id being new, so a transaction that finds it is refused whole."""
    store.insert_in(tx, claim.doc, claim.request, attempts=claim.attempt, lease=claim.lease)


def dispatch(claim: Claim, finish_with: Callable[[Any], None] | None = None) -> Outcome:
    """Send a claim the caller's transaction wrote, and record it completed (with its interaction
    and the caller's `finish_with(tx)` writes, in one transaction). As send: TransientSendError,
    SendRefused. `outcome.finished_with` is False when the caller's writes were refused (the
    message was recorded, with its interaction, without them: the caller writes them itself)."""
    return _dispatch(claim, store.FIRST_VERSION, finish_with)


def release(claim: Claim) -> bool:
    """Give back a claim the caller's transaction wrote and never dispatched (the provider was
    not called): its lease ends now, so the next attempt sends it at once instead of waiting for
    the lease (one write, conditional on the message being as the claim wrote it). False when
    another attempt has moved it since (that attempt decides)."""
    try:
        store.write(claim.doc, claim.request, store.FIRST_VERSION, attempts=claim.attempt, lease=0)
    except store.StaleVersion:
        return False
    return True


def _interaction(doc: Mapping[str, Any], req: MessageRequest) -> dict[str, Any]:
    """Every message sent is a TMF683 interaction on the customer's journey (written with the
    message's `completed`, once: its id and time are the message's)."""
    channel = _channel(doc)
    item = {"id": doc["id"], "href": doc.get("href"), "@referredType": domain.MESSAGE_TYPE}
    return customers.prepare_interaction(
        f"message-{doc['id']}", reason=req.reason or f"{req.purpose} {channel} message sent",
        channel=channel, direction="outbound", customer_id=req.customer_id,
        items=[item, *req.related], journey_key=req.journey_key,
        occurred_at=doc.get("sendTimeComplete") or doc.get("sendTime"))


# --- TMF681 use cases -------------------------------------------------------------------------
def _sender_party(caller: Caller) -> dict[str, Any]:
    return {"id": caller.sub, "role": caller.role,
            "@referredType": "Individual" if caller.role in ("agent", "marketing") else "PartyRole"}


def create(body: Mapping[str, Any], caller: Caller, journey_key: str | None = None) -> tuple[dict[str, Any], int]:
    """POST communicationMessage: stored and sent at once (or held by quiet hours, then sent by
    the sweep). 201 whatever the outcome: the message's state and stateReason say it."""
    access.check_roles(caller, *SENDERS)
    req = domain.api_request(body, caller.role, _sender_party(caller), journey_key)
    used = domain.customer_fields_used(req) if req.customer_id else []
    if used and not rights.may(caller, "customerPersonalData", rights.READ):
        # Refused before the customer is read: nothing rendered, nothing sent, existence not told.
        raise forbidden(f"role {caller.role!r} may not fill {', '.join('{' + f + '}' for f in used)} from a "
                        "customer's record; send the text without them, or as an agent")
    message_id = tmf.new_id()
    try:
        outcome = _deliver(message_id, req, None)
        doc, version = outcome.message, outcome.version
    except SendError:   # recorded as failed (retryable ones are retried by the sweep): as stored
        stored = store.load(message_id)
        assert stored is not None
        doc, version = stored.doc, stored.version
    assert version is not None
    if req.customer_id and not rights.may(caller, "customerPersonalData", rights.READ):
        # The sender may not know the customer: what became of the message (sent, not sent to an
        # unknown customer, held by consent or quiet hours) would tell it. It reads "accepted".
        return domain.accepted_view(doc, req), version
    return doc, version


def _visible(message_id: str, caller: Caller) -> Stored:
    access.check_roles(caller, *READERS)
    stored = store.load(message_id)
    if stored is None or stored.deleted or stored.request is None or (
            caller.role == "customer" and stored.request.customer_id != caller.customer_id):
        raise not_found("communicationMessage", message_id)
    return stored


def read(message_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    stored = _visible(message_id, caller)
    return stored.doc, stored.version


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    access.check_roles(caller, *READERS)
    q = tmf.list_query(params, tmf.attributes("communicationMessage", "TMF681", models=[schemas.CommunicationMessage]))
    wanted = params.get("id")
    if wanted and "," not in wanted:
        try:
            docs = [_visible(wanted, caller).doc]
        except ApiError:
            docs = []
    elif not q.filters:   # DynamoDB pages: offset+limit messages read, the rest counted
        items, total = store.page_messages(q.offset, q.limit, caller.customer_id or "" if caller.role == "customer" else None)
        return [tmf.select_fields(d, q.fields) for d in items], total
    elif caller.role == "customer":
        docs = store.customer_messages(caller.customer_id or "")
    else:
        docs = store.all_messages()
    items, total = tmf.page([d for d in docs if tmf.matches(d, q.filters)], q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


def _checked_version(stored: Stored, if_match: str | None) -> None:
    expected = tmf.parse_if_match(if_match)
    if expected is not None and expected != stored.version:
        raise precondition_failed(f"communicationMessage {stored.doc['id']} is at version {stored.version}, "
                                  f"not {expected}", stored.doc)


def update(message_id: str, patch: Mapping[str, Any], caller: Caller,
           if_match: str | None = None) -> tuple[dict[str, Any], int]:
    """PATCH: notes (description, characteristic, logFlag) any time; `state: cancelled` before sending."""
    access.check_roles(caller, *MANAGERS)
    stored = _visible(message_id, caller)
    _checked_version(stored, if_match)
    doc = domain.patched(stored.doc, patch, tmf.now_iso())
    assert stored.request is not None   # _visible: a deleted message is not found
    try:
        version = store.write(doc, stored.request, stored.version, retryable=stored.retryable,
                              attempts=stored.attempts, lease=stored.lease,
                              due_at=None if doc.get("state") == CANCELLED else _due_at(stored))
    except store.StaleVersion:
        raise precondition_failed(f"communicationMessage {message_id} was changed meanwhile; read it again") from None
    return doc, version


def _due_at(stored: Stored) -> str | None:
    if stored.request is None or not stored.request.resume or stored.state not in (INITIAL, FAILED):
        return None
    if stored.state == FAILED and not stored.retryable:
        return None
    return stored.doc.get("scheduledSendTime") or stored.doc.get("lastUpdate")


def delete(message_id: str, caller: Caller, if_match: str | None = None) -> None:
    access.check_roles(caller, *MANAGERS)
    stored = _visible(message_id, caller)
    _checked_version(stored, if_match)
    if stored.state == IN_PROGRESS:
        raise conflict(f"communicationMessage {message_id} is being sent; delete it once it is sent")
    try:
        store.bury(stored)
    except store.StaleVersion:
        raise conflict(f"communicationMessage {message_id} changed meanwhile; try again") from None
    logger.info("message deleted", extra={"messageId": message_id, "by": caller.role})
