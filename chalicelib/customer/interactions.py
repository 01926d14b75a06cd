"""TMF683 partyInteraction use cases, and `record_interaction`, the one way the platform records
a touch it saw itself (a message sent, an order submitted, an agent action).

Every interaction is stored in its customer's partition (or its anonymous visitor's, or a daily
"unlinked" one when it names neither) under a time-ordered key, so a customer's history reads
newest first with one Query. An interaction the platform records has a fixed time (when the touch
happened), so its key is the same on every repeat and one conditional put makes it once.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib import access as rights
from chalicelib import deferred, tmf
from chalicelib.auth import Caller
from chalicelib.customer import access, domain, identity, store
from chalicelib.errors import forbidden, not_found
from chalicelib.observability import logger

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.customer.schemas")

RECORDERS = rights.roles("partyInteraction", rights.WRITE)
READERS = rights.roles("partyInteraction", rights.READ)


def href(rid: str) -> str:
    return tmf.href(domain.INTERACTION_API_ROOT, "partyInteraction", rid)


def customer_href(customer_id: str) -> str:
    return tmf.href(domain.API_ROOT, "customer", customer_id)


def _partition(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Where an interaction is stored; a visitor identified since is read as its customer. An
    interaction naming nobody goes to the partition of the day it happened (the same on a repeat)."""
    whose = domain.owner(doc)
    if whose is None:
        return store.unlinked_pk(domain.occurred(doc)), doc
    kind, party = whose
    if kind == "visitor":
        customer_id = identity.resolve(party)
        if customer_id is None:
            return store.visitor_pk(party), doc
        doc = domain.with_party(doc, domain.customer_party(customer_id, customer_href(customer_id)))
        party = customer_id
    return store.customer_pk(party), doc


def save(doc: dict[str, Any]) -> dict[str, Any]:
    """Store a new interaction; when that very interaction (same partition, time and id) is there
    already, nothing is written and the stored one is returned."""
    pk, doc = _partition(doc)
    occurred = domain.occurred(doc)
    if not store.insert_interaction(pk, doc, occurred):
        stored = store.load_interaction(pk, doc["id"], occurred)
        if stored is not None:
            return stored
    logger.info("interaction recorded", extra={"interactionId": doc["id"], "partition": pk.split("#", 1)[0],
                                               "journey_key": doc.get("journeyKey")})
    return doc


def build(interaction_id: str, *, reason: str, channel: str, direction: str, customer_id: str | None = None,
          visitor_id: str | None = None, parties: Iterable[Mapping[str, Any]] = (),
          items: Iterable[Mapping[str, Any]] = (), journey_key: str | None = None, occurred_at: str | None = None,
          description: str | None = None, status: str = "completed") -> dict[str, Any]:
    """A validated interaction document from plain values."""
    related = [dict(p) for p in parties]
    if customer_id:
        related.insert(0, domain.customer_party(customer_id, customer_href(customer_id)))
    if visitor_id:
        related.append({"id": visitor_id, "role": "visitor", "@referredType": "Individual"})
    body: dict[str, Any] = {
        "reason": reason, "direction": direction, "status": status, "relatedParty": related,
        "channel": [{"id": channel, "name": channel}],
        "interactionItem": [{"item": dict(item)} for item in items],
    }
    if occurred_at:
        body["interactionDate"] = {"startDateTime": occurred_at}
    if journey_key:
        body["journeyKey"] = journey_key
    if description:
        body["description"] = description
    return domain.new_interaction(body, interaction_id, href(interaction_id), tmf.now_iso())


def record_interaction(interaction_id: str, *, occurred_at: str | None, **values: Any) -> dict[str, Any]:
    """For every context's stream consumers and tasks: record a touch the platform saw.

    Idempotent on `interaction_id` (derive it from what is being recorded, e.g.
    f"sms-{message_id}") and `occurred_at` (ISO 8601: when it happened, taken from what is
    recorded, e.g. the order's orderDate, so that a repeat names the same time; None or empty is
    refused with ValueError, nothing written): the stored key
    is made of both, and one conditional put writes it once, so a second call writes nothing and
    returns the first result (one PutItem the first time; the PutItem refused and one GetItem on
    a repeat). Other arguments as `build`: reason, channel (sms, email, web, callcenter, ...),
    direction (inbound/outbound), customer_id or visitor_id, parties (other relatedParty
    entries), items (references: {"id", "@referredType": "ShoppingCart" | "ProductOrder" |
    "Campaign" | "CommunicationMessage"}), journey_key, description, status.
    """
    return save(prepare_interaction(interaction_id, occurred_at=occurred_at, **values))


def prepare_interaction(interaction_id: str, *, occurred_at: str | None, **values: Any) -> dict[str, Any]:
    """The interaction `record_interaction` would store, not stored yet (for a caller that writes
    it in its own transaction: `save_interaction_in`)."""
    if not occurred_at:
        raise ValueError(f"interaction {interaction_id}: occurred_at is required (the time of the touch, the same "
                         "on every repeat: it is part of the stored key)")
    return build(interaction_id, occurred_at=occurred_at, **values)


def save_interaction_in(tx: Any, doc: dict[str, Any]) -> None:
    """Add a prepared interaction to a caller's DynamoDB transaction (chalicelib.db.transaction),
    conditional on its key being free: a transaction that finds it there is refused whole
    (StaleVersion). A customer's or an unlinked interaction only (a visitor's partition is
    resolved by a read: record_interaction)."""
    whose = domain.owner(doc)
    if whose is not None and whose[0] == "visitor":
        raise ValueError("a visitor's interaction is stored by record_interaction (its partition is resolved)")
    pk, doc = _partition(doc)
    tx.save(store.interaction_item(pk, doc, domain.occurred(doc)), condition=store.NEW)


def record_agent_access(caller: Caller, customer_id: str, what: str, journey_key: str | None) -> dict[str, Any]:
    """An agent opened a customer's data: the audit trail is an interaction naming the agent."""
    rid = tmf.new_id()
    doc = save(build(rid, reason=f"agent opened the {what}", channel=caller.channel or "callcenter",
                     direction="inbound", customer_id=customer_id, parties=[domain.agent_party(caller.sub)],
                     journey_key=journey_key))
    logger.info("customer opened by an agent", extra={"customerId": customer_id, "agent": caller.sub,
                                                      "what": what, "interactionId": rid})
    return doc


# --- TMF683 use cases -------------------------------------------------------------------------
def create(body: Mapping[str, Any], caller: Caller, journey_key: str | None = None) -> dict[str, Any]:
    access.check_roles(caller, *RECORDERS)
    body = dict(body)
    if journey_key and not body.get("journeyKey"):
        body["journeyKey"] = journey_key
    if "channel" not in body and caller.channel:
        body["channel"] = [{"id": caller.channel, "name": caller.channel}]
    domain.validate_payload("partyInteraction", schemas.PartyInteraction, body)
    if caller.role == "customer":
        if domain.owner(body) not in (None, ("customer", caller.customer_id)):
            raise forbidden("a customer records interactions about itself only")
        body = domain.with_party(body, domain.customer_party(caller.own_customer_id,
                                                             customer_href(caller.own_customer_id)))
    if access.is_agent(caller):
        body = domain.with_party(body, domain.agent_party(caller.sub))
    rid = tmf.new_id()
    return save(domain.new_interaction(body, rid, href(rid), tmf.now_iso()))


def read(rid: str, caller: Caller) -> dict[str, Any]:
    access.check_roles(caller, *READERS)
    found = store.find_interaction(rid)
    if found is None or (caller.role == "customer" and store.customer_of(found[0]) != caller.customer_id):
        raise not_found("partyInteraction", rid)
    return found[1]


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    access.check_roles(caller, *READERS)
    q = tmf.list_query(params, tmf.attributes("partyInteraction", "TMF683", models=[schemas.PartyInteraction]))
    if not q.filters:   # DynamoDB pages: offset+limit interactions read, the rest counted
        own = store.customer_pk(caller.own_customer_id) if caller.role == "customer" else None
        items, total = store.page_interactions(q.offset, q.limit, own)
        return [tmf.select_fields(d, q.fields) for d in items], total
    if caller.role == "customer":
        docs = store.interactions(store.customer_pk(caller.own_customer_id))
    elif params.get("id") and "," not in params["id"]:
        found = store.find_interaction(params["id"])
        docs = [found[1]] if found else []
    else:
        docs = store.all_interactions()
    items, total = tmf.page([d for d in docs if tmf.matches(d, q.filters)], q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total
