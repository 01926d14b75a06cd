"""Identity: an anonymous visitor (a channel's visitor id, e.g. a cookie) identified later as a
customer. Whatever belonged to the visitor then belongs to the customer.

- `link(visitor, customer)` writes one identity link item (VISITOR#<id> / LINK), once: a visitor
  is one customer for good (another customer is 409).
- `resolve(party_id)` is how any context reads a visitor id: the customer it became, or None.
- The hand-over runs from the customer table's stream (functions/customer_events.py), not in
  the request: each step of HANDOVER_STEPS, "module:function(visitor_id, customer_id)", moves one
  context's belongings and must be safe to run twice. Contexts with visitor-owned data (baskets)
  add their step here.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from chalicelib import tmf
from chalicelib.customer import domain, store
from chalicelib.errors import conflict

HANDOVER_STEPS: tuple[str, ...] = (
    "chalicelib.customer.identity:move_interactions",
    "chalicelib.basket:adopt_visitor_baskets",
)


def resolve(party_id: str) -> str | None:
    """The customer an anonymous visitor id was identified as (one GetItem), or None."""
    link = store.load_link(party_id)
    return link["customerId"] if link else None


def link(visitor_id: str, customer_id: str, linked_by: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the link, True when made now). Raises 409 when the visitor is another customer already."""
    doc = {"@type": "IdentityLink", "visitorId": visitor_id, "customerId": customer_id,
           "linkedAt": tmf.now_iso(), "linkedBy": linked_by}
    if store.insert_link(visitor_id, doc):
        return doc, True
    existing = store.load_link(visitor_id) or {}
    if existing.get("customerId") != customer_id:
        raise conflict(f"visitor {visitor_id} was identified as another customer already", "visitorLinked")
    return existing, False


def _step(path: str) -> Callable[[str, str], Any]:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def hand_over(visitor_id: str, customer_id: str) -> None:
    for path in HANDOVER_STEPS:
        _step(path)(visitor_id, customer_id)


def move_interactions(visitor_id: str, customer_id: str) -> int:
    """The visitor's interactions move into the customer's partition (and name the customer)."""
    party = domain.customer_party(customer_id, tmf.href(domain.API_ROOT, "customer", customer_id))
    moved = 0
    for item in store.interaction_items(store.visitor_pk(visitor_id)):
        store.move_interaction(item, store.customer_pk(customer_id), domain.with_party(item.body, party))
        moved += 1
    return moved
