"""TMF629 customer use cases, products held, consent, identity links and the 360 view: what the
API and other contexts call. Glue between the rules in domain.py, the store and the caller's rights."""
from __future__ import annotations

import importlib
from typing import Any, Mapping, Sequence

from chalicelib import access as rights
from chalicelib import db, deferred, inventory, tmf
from chalicelib.actor import Actor
from chalicelib.auth import Caller
from chalicelib.customer import access, domain, identity, interactions, store
from chalicelib.errors import bad_request, not_found
from chalicelib.observability import logger

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
credit = deferred.module("chalicelib.credit.domain")
schemas = deferred.module("chalicelib.customer.schemas")

CREATORS = rights.roles("customer", "create")          # agents, and channels signing a visitor up
LINKERS = rights.roles("identityLink", rights.WRITE)   # the channel knows the visitor id and who logged in

# The 360 view's sections owned by other contexts: name -> "module:function(customer_id, limit) ->
# list" (the newest `limit` open ones, one Query on a sparse index whatever the history).
VIEW_SECTIONS: dict[str, str | None] = {"openBaskets": "chalicelib.basket:open_baskets",
                                        "ordersInFlight": "chalicelib.ordering:orders_in_flight"}


def customer_href(customer_id: str) -> str:
    return tmf.href(domain.API_ROOT, "customer", customer_id)


def _existing(customer_id: str) -> tuple[dict[str, Any], int]:
    found = store.load_customer(customer_id)
    if found is None:
        raise not_found("customer", customer_id)
    return found


def _opened(caller: Caller, customer_id: str, what: str, journey_key: str | None) -> None:
    if access.is_agent(caller):
        interactions.record_agent_access(caller, customer_id, what, journey_key)


def _audit(customer_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any], caller: Caller,
           at: str, journey_key: str | None) -> dict[str, Any] | None:
    changes = domain.consent_changes(old, new)
    if not changes:
        return None
    return domain.audit_record(customer_id, changes, Actor.of(caller).by, tmf.new_id(), at, journey_key)


# --- customers --------------------------------------------------------------------------------
def create(body: Mapping[str, Any], caller: Caller, journey_key: str | None = None) -> tuple[dict[str, Any], int]:
    access.check_roles(caller, *CREATORS)
    rid, at = tmf.new_id(), tmf.now_iso()
    doc = domain.new_customer(body, rid, customer_href(rid), at, caller.role)
    version = store.write_customer(doc, None, _audit(rid, None, doc, caller, at, journey_key))
    logger.info("customer created", extra={"customerId": rid, "by": caller.role})
    return doc, version


def read(customer_id: str, caller: Caller, journey_key: str | None = None) -> tuple[dict[str, Any], int]:
    access.check_customer(caller, customer_id)
    found = _existing(customer_id)
    _opened(caller, customer_id, "customer record", journey_key)
    return found


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    access.check_roles(caller, "agent", "customer")
    q = tmf.list_query(params, tmf.attributes("customer", "TMF629", models=[schemas.Customer]))
    wanted = caller.own_customer_id if caller.role == "customer" else params.get("id")
    if not wanted and not q.filters:   # DynamoDB pages: offset+limit customers read, the rest counted
        items, total = store.page_customers(q.offset, q.limit)
        return [tmf.select_fields(d, q.fields) for d in items], total
    if wanted and (caller.role == "customer" or "," not in wanted):
        one = store.load_customer(wanted)
        docs = [one[0]] if one else []
    else:
        name = params.get("name")
        docs = store.list_customers(name if name and "," not in name else None)
    items, total = tmf.page([d for d in docs if tmf.matches(d, q.filters)], q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


def update(customer_id: str, patch: Mapping[str, Any], caller: Caller, if_match: str | None = None,
           journey_key: str | None = None) -> tuple[dict[str, Any], int]:
    """JSON merge patch; a consent change is audited in the same write."""
    access.check_customer(caller, customer_id)
    audit: list[Any] = []

    def mutate(current: dict[str, Any], _version: int) -> dict[str, Any]:
        at = tmf.now_iso()
        doc = domain.patched_customer(current, patch, at, caller.role)
        audit[:] = [_audit(customer_id, current, doc, caller, at, journey_key)]
        return doc

    doc, new_version = db.change(f"customer {customer_id}", lambda: _existing(customer_id), mutate,
                                 lambda doc, version: store.write_customer(doc, version, audit[0]),
                                 expected=tmf.parse_if_match(if_match))
    logger.info("customer changed", extra={"customerId": customer_id, "by": caller.role,
                                           "fields": sorted(k for k in patch)})
    return doc, new_version


def consent_audit(customer_id: str, caller: Caller, journey_key: str | None = None) -> list[dict[str, Any]]:
    access.check_customer(caller, customer_id)
    _existing(customer_id)
    _opened(caller, customer_id, "consent audit", journey_key)
    return store.audits(customer_id)


def may_contact(customer_id: str, channel: str, purpose: str) -> dict[str, Any]:
    """For notifications: may this customer be contacted through `channel` for `purpose` now?"""
    found = store.load_customer(customer_id)
    if found is None:
        return {"allowed": False, "reason": "unknown customer"}
    return domain.contact_decision(found[0], channel, purpose, tmf.now())


# --- products held: TMF637 products (chalicelib/inventory), also under customer/{id}/product ----
def add_product(customer_id: str, body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    return inventory.create_for(customer_id, body, caller)


def products(customer_id: str, params: Mapping[str, str], caller: Caller,
             journey_key: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every product of the customer (terminated ones too), as GET /product?relatedParty.id= does."""
    access.check_customer(caller, customer_id)
    q = tmf.list_query(params, inventory.attributes())
    _existing(customer_id)
    _opened(caller, customer_id, "products held", journey_key)
    items, total = tmf.page([p for p in inventory.products_of(customer_id) if tmf.matches(p, q.filters)],
                            q.offset, q.limit)
    return [tmf.select_fields(p, q.fields) for p in items], total


# --- identity ---------------------------------------------------------------------------------
def link_visitor(customer_id: str, body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], bool]:
    """The anonymous visitor `visitorId` is this customer: its interactions (and, later, baskets)
    move to the customer through the table stream."""
    access.check_roles(caller, *LINKERS)
    domain.validate_payload("identityLink", schemas.IdentityLink, body)
    visitor_id = body["visitorId"]
    _existing(customer_id)
    doc, made = identity.link(visitor_id, customer_id, Actor.of(caller).by)
    if made:
        logger.info("visitor identified", extra={"customerId": customer_id})
    return doc, made


# --- the 360 view -----------------------------------------------------------------------------
def _section(path: str | None, customer_id: str) -> list[Any]:
    if path is None:
        return []
    module, name = path.split(":")
    return list(getattr(importlib.import_module(module), name)(customer_id, domain.VIEW_OPEN_ITEMS))


def _view_size(params: Mapping[str, str]) -> int:
    raw = params.get("interactions")
    if raw in (None, ""):
        return domain.VIEW_INTERACTIONS
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= domain.MAX_VIEW_INTERACTIONS:
        raise bad_request(f"interactions must be a whole number from 1 to {domain.MAX_VIEW_INTERACTIONS}")
    return size


def view(customer_id: str, params: Mapping[str, str], caller: Caller, journey_key: str | None = None) -> dict[str, Any]:
    """The customer, contact and consent summary, the credit decision (valid or not, in words),
    products held, open baskets, orders in flight, the last N interactions across all channels
    and the current journey, whatever the history:
    a GetItem and 4 Queries (products held, the newest interactions, the newest open baskets and
    orders in flight through sparse indexes), and a 5th (the journey's touches) only when the
    newest interactions read do not already hold the journey's newest touches."""
    access.check_customer(caller, customer_id)
    size = _view_size(params)
    found = _existing(customer_id)
    held = inventory.held(customer_id)
    pk = store.customer_pk(customer_id)
    window = max(size, domain.JOURNEY_TOUCHES)   # enough to hold the journey's touches, most often
    newest = store.latest_interactions(pk, window)
    latest = newest[:size]
    key = domain.current_journey(latest)
    journey: Sequence[Mapping[str, Any]] | None = domain.journey_touches(newest, key, len(newest) < window) if key else []
    if journey is None and key:
        journey = store.journey_interactions(key, pk, domain.JOURNEY_TOUCHES)
    sections = {name: _section(path, customer_id) for name, path in VIEW_SECTIONS.items()}
    _opened(caller, customer_id, "360 view", journey_key or key)
    out = domain.view_360(found[0], held, latest, [dict(t) for t in journey or []], sections, tmf.now())
    return {**out, "creditCheck": credit.summary(found[0], tmf.now())}   # decision, validity, in words
