"""TMF622 orders, what every caller of the ordering context shares: ids and hrefs, the routing
table, the customer an order is for (capture and decomposition read the same facts), and the
reads (GET, the customer 360 view, the payment context).

The use cases are split by their caller:
    capture.py       HTTP: a new order (POST productOrder, also the recovery approvals) and an
                     amendment in flight (PATCH productOrder/{id})
    cancellation.py  HTTP: cancelProductOrder
    fulfilment.py    what follows capture: the stacks' milestones (listener), the workflow's
                     tasks (functions/order_tasks.py), the order stream's reactions
                     (functions/order_events.py), the payment and appointment contexts' calls

Capture writes the order (and its basket's `ordered`) in one transaction; everything after it
happens from the order table's stream (functions/order_events.py): one workflow per order
(infra/statemachines/order_fulfilment.asl.json), TMF622 hub events, milestone SMS, and the
products completed child orders create or change in the inventory (TMF637).
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping

from chalicelib import deferred, inventory, rules, tmf
from chalicelib import basket as baskets
from chalicelib.auth import Caller
from chalicelib.customer import domain as customer_domain
from chalicelib.customer import load_customer
from chalicelib.errors import not_found
from chalicelib.ordering import domain, store

# imported on first use: importing this module does not load them (chalicelib/deferred.py); the
# callers' roles are checked by the API's reads, not by the order workflow
schemas = deferred.module("chalicelib.ordering.schemas")
customer_access = deferred.module("chalicelib.customer.access")

USERS = ("customer", "agent")
CAPTURERS = (*USERS, "channel")   # a channel is told to identify its visitor first (422)
WORKFLOW = "order-fulfilment"
NOTIFY_WORKFLOW = "order-notify"
ORDER_NAMESPACE = uuid.UUID("6f1d7c52-3b0e-4c1a-9d55-0a4b8c2e7f10")
catalogue = baskets.catalogue          # offerings, prices, specifications from the catalogue cache


def href(order_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, order_id)


def cancel_href(rid: str) -> str:
    return tmf.href(domain.API_ROOT, domain.CANCEL_RESOURCE, rid)


def basket_order_id(basket_id: str) -> str:
    """A basket is ordered once: its order's id derives from it."""
    return str(uuid.uuid5(ORDER_NAMESPACE, f"shoppingCart:{basket_id}"))


def routing() -> domain.Routing:
    return domain.default_routing()


# --- the customer an order is for -------------------------------------------------------------
class Customer:
    """The customer an order is for, with what capture needs to know about them."""

    def __init__(self, customer_id: str | None):
        self.id = customer_id
        self.doc: dict[str, Any] | None = None
        self.held: dict[str, dict[str, Any]] = {}
        self.profile: dict[str, Any] | None = None   # what the rules read (rules.profile), same Query
        if customer_id:
            found = load_customer(customer_id)
            if found is None:
                raise not_found("customer", customer_id)
            held = inventory.held(customer_id)
            self.doc, self.held = found[0], {p["id"]: p for p in held}
            self.profile = rules.profile_of(found[0], held)

    def address(self, field: str) -> str | None:
        return next((m.get("characteristic", {}).get(field) for m in (self.doc or {}).get("contactMedium") or []
                     if m.get("mediumType") == "postalAddress"), None)

    @property
    def brand(self) -> str | None:
        return next((c.get("value") for c in (self.doc or {}).get("characteristic") or [] if c.get("name") == "brand"),
                    None)

    def party(self) -> dict[str, Any]:
        assert self.id
        return customer_domain.customer_party(self.id, tmf.href(customer_domain.API_ROOT, "customer", self.id))


# --- reads ----------------------------------------------------------------------------------------
def visible(order_id: str, caller: Caller) -> store.Stored:
    customer_access.check_roles(caller, *USERS)
    found = store.load(order_id)
    if found is None or (caller.role == "customer" and domain.customer_of(found.doc) != caller.customer_id):
        raise not_found(domain.RESOURCE, order_id)
    return found


def read(order_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    found = visible(order_id, caller)
    return found.doc, found.version


def search(params: Mapping[str, str], caller: Caller, kind: str = domain.RESOURCE) -> tuple[list[dict[str, Any]], int]:
    customer_access.check_roles(caller, *USERS)
    model = schemas.ProductOrder if kind == domain.RESOURCE else schemas.CancelProductOrder
    q = tmf.list_query(params, tmf.attributes(kind, "TMF622", model.__name__, [model]))
    items, total = _page(q, caller, kind, params.get("id"))
    if q.fields is None or "productOrderItem" in {f.split(".", 1)[0] for f in q.fields}:
        items = store.filled(items)
    return [tmf.select_fields(d, q.fields) for d in items], total


def _page(q: tmf.ListQuery, caller: Caller, kind: str, wanted: str | None) -> tuple[list[dict[str, Any]], int]:
    """The page asked for: with no filter, DynamoDB pages (store.page reads offset+limit orders
    and counts the rest); with filters, every candidate is read and matched here. A large order's
    items are not read (unless a filter looks at them)."""
    own = caller.customer_id or "" if caller.role == "customer" else None
    if not q.filters:
        return store.page(kind, q.offset, q.limit, own)
    if wanted and "," not in wanted:
        found = store.load(wanted)
        docs = [found.doc] if found and found.doc.get("@type") in (domain.TYPE, domain.CANCEL_TYPE) else []
    elif own is not None:
        docs = store.by_owner(own, whole=False)
    else:
        docs = store.by_kind(kind, whole=False)
    if own is not None:
        docs = [d for d in docs if domain.customer_of(d) == own]
    if any(path.split(".", 1)[0] == "productOrderItem" for path, _, _ in q.filters):
        docs = store.filled(docs)
    wanted_type = domain.TYPE if kind == domain.RESOURCE else domain.CANCEL_TYPE
    return tmf.page([d for d in docs if d.get("@type") == wanted_type and tmf.matches(d, q.filters)], q.offset, q.limit)


def orders_in_flight(customer_id: str, limit: int) -> list[dict[str, Any]]:
    """For the 360 view: the customer's newest `limit` orders not finished yet, summarised (one
    Query on the sparse open-by-owner index: finished orders are not read)."""
    return [{"id": d["id"], "href": d["href"], "state": d["state"], "orderDate": d["orderDate"],
             "itemCount": len(domain.Order(d).items), "orderTotalPrice": d.get("orderTotalPrice"),
             "@referredType": domain.TYPE}
            for d in store.in_flight(customer_id, limit) if domain.in_flight(d)]
