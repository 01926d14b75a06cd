"""TMF622 orders as plain functions over plain values: states, the order document, decomposition
into child orders (catalogue + routing table + dependencies), the parent's state from its
children, cancellation's point of no return. No AWS, no Chalice."""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, Iterable, Mapping

from chalicelib.catalog import domain as catalog_domain
from chalicelib.errors import ApiError, bad_request

API_ROOT = "/tmf-api/productOrderingManagement/v4"
API_NAME = "productOrderingManagement"
RESOURCE = "productOrder"
TYPE = "ProductOrder"
CANCEL_RESOURCE = "cancelProductOrder"
CANCEL_TYPE = "CancelProductOrder"
DATA = pathlib.Path(__file__).resolve().parent / "data"

# TMF622 v4 ProductOrderStateType / ProductOrderItemStateType
ACKNOWLEDGED, REJECTED, PENDING, HELD, IN_PROGRESS = "acknowledged", "rejected", "pending", "held", "inProgress"
CANCELLED, COMPLETED, FAILED, PARTIAL = "cancelled", "completed", "failed", "partial"
ASSESSING_CANCELLATION, PENDING_CANCELLATION = "assessingCancellation", "pendingCancellation"
FINAL = (COMPLETED, FAILED, PARTIAL, CANCELLED, REJECTED)
# Before its point of no return an item can still be cancelled at its stack: once a stack reports
# it inProgress (a handset shipped, a line being provisioned) it carries on.
CANCELLABLE = (ACKNOWLEDGED, PENDING, HELD)
# What a stack may report on the listener, and the milestones the customer hears about.
STACK_STATES = (ACKNOWLEDGED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED, HELD, PENDING, REJECTED)
MILESTONES = (ACKNOWLEDGED, IN_PROGRESS, COMPLETED, FAILED, PARTIAL, CANCELLED)
FULFILMENT_ROLE = catalog_domain.FULFILMENT_ROLE
SERVER_OWNED = ("id", "href", "@type", "state", "orderDate", "completionDate", "expectedCompletionDate",
                "orderRelationship", "orderTotalPrice", "lastUpdate", "cancellationDate")
ITEM_COMPUTED = ("state", "itemPrice", "itemTotalPrice", "itemTerm", "qualification")


# --- the order document -------------------------------------------------------------------------
def customer_of(doc: Mapping[str, Any]) -> str | None:
    """The customer an order is for: its relatedParty with role customer."""
    for party in doc.get("relatedParty") or []:
        if str(party.get("role", "")).lower() == "customer":
            return party.get("id")
    return None


def stack_of(doc: Mapping[str, Any]) -> str | None:
    """A child order's fulfilment stack (relatedParty role fulfilmentStack)."""
    return catalog_domain.fulfilment_stack(doc)


def stack_party(stack: str) -> dict[str, Any]:
    return {"id": stack, "name": stack, "role": FULFILMENT_ROLE, "@referredType": "Organization"}


def relationship(order_id: str, href: str, kind: str) -> dict[str, Any]:
    """An orderRelationship entry (TMF622 v5's shape, kept as an extension in v4)."""
    return {"id": order_id, "href": href, "relationshipType": kind, "@referredType": TYPE}


def children_of(doc: Mapping[str, Any]) -> list[str]:
    return [r["id"] for r in doc.get("orderRelationship") or [] if r.get("relationshipType") == "child"]


def parent_of(doc: Mapping[str, Any]) -> str | None:
    return next((r["id"] for r in doc.get("orderRelationship") or [] if r.get("relationshipType") == "parent"), None)


def check_items(items: list[Mapping[str, Any]]) -> None:
    """Item ids unique, actions known; modify/delete name the product they change."""
    seen: set[str] = set()
    for n, item in enumerate(items):
        where = f"productOrderItem.{n}"
        if item["id"] in seen:
            raise bad_request(f"{where}.id {item['id']!r} is used twice; item ids must be unique")
        seen.add(item["id"])
        if item["action"] in ("modify", "delete") and not (item.get("product") or {}).get("id"):
            raise bad_request(f"{where}: a {item['action']} item names the product it changes (product.id)")


def needs_catalogue(item: Mapping[str, Any]) -> bool:
    """An item Omnishop can look up: it names an offering, or a product the customer holds."""
    return bool((item.get("productOffering") or {}).get("id") or (item.get("product") or {}).get("id"))


def new_order(body: Mapping[str, Any], rid: str, href: str, at: str, parties: list[dict[str, Any]],
              items: list[dict[str, Any]], totals: list[dict[str, Any]], state: str = ACKNOWLEDGED,
              note: str | None = None) -> dict[str, Any]:
    doc = {k: v for k, v in body.items() if k not in SERVER_OWNED and k not in ("productOrderItem", "relatedParty")}
    out: dict[str, Any] = {
        "id": rid, "href": href, "@type": TYPE, **doc, "state": state, "orderDate": at, "lastUpdate": at,
        "relatedParty": parties,
        "productOrderItem": [{**i, "state": REJECTED if state == REJECTED else ACKNOWLEDGED} for i in items],
        "orderTotalPrice": totals}
    if note:
        out["note"] = [*(out.get("note") or []), {"date": at, "author": "omnishop", "text": note}]
    return out


def with_note(doc: Mapping[str, Any], at: str, text: str) -> dict[str, Any]:
    notes = [n for n in doc.get("note") or [] if n.get("text") != text]
    return {**doc, "note": [*notes, {"date": at, "author": "omnishop", "text": text}]}


def order_price(cart_price: Mapping[str, Any]) -> dict[str, Any]:
    """A TMF663 CartPrice (basket pricing) as a TMF622 OrderPrice."""
    name = str(cart_price.get("name") or "")
    return {**cart_price, "@type": "OrderPrice",
            **({"name": "Order total" + name[len("Cart total"):]} if name.startswith("Cart total") else {})}


def item_terms(offering: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"name": t.get("name"), "duration": t.get("duration"), "@type": "OrderTerm"}
            for t in offering.get("productOfferingTerm") or []]


def contract(terms: Iterable[Mapping[str, Any]], start: str, add_months: Any) -> dict[str, Any] | None:
    """Contract dates of a product held from its order item's terms (the longest commitment)."""
    months = 0
    for term in terms:
        duration = term.get("duration") or {}
        amount = float(duration.get("amount") or 0)
        months = max(months, int(amount * {"month": 1, "year": 12}.get(duration.get("units"), 0)))
    if not months:
        return None
    return {"startDate": start, "endDate": add_months(start, months)}


# --- routing and decomposition ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Routing:
    """The routing table (data/routing.json): which stack fulfils a catalogue stack's products
    for a customer's country or brand, and which products wait for others."""
    routes: tuple[Mapping[str, Any], ...]
    dependencies: tuple[Mapping[str, Any], ...]
    stacks: tuple[str, ...] = catalog_domain.STACKS

    @classmethod
    def from_data(cls, data: Mapping[str, Any], stacks: Iterable[str] = catalog_domain.STACKS) -> Routing:
        return cls(tuple(data.get("routes") or ()), tuple(data.get("dependencies") or ()), tuple(stacks))

    def route(self, catalogue_stack: str, country: str | None, brand: str | None) -> str:
        for rule in self.routes:
            if rule.get("fulfilmentStack") not in (None, catalogue_stack):
                continue
            if rule.get("country") and rule["country"] != country:
                continue
            if rule.get("brand") and rule["brand"] != brand:
                continue
            return rule["stack"]
        return catalogue_stack


def default_routing(stacks: Iterable[str] = catalog_domain.STACKS) -> Routing:
    return Routing.from_data(json.loads((DATA / "routing.json").read_text()), stacks)


@dataclasses.dataclass
class Part:
    """One thing a stack fulfils: an order item, or one component of a bundle item."""
    item_id: str          # the child order item id ("2", or "1.3" for a bundle's third part)
    parent_item: str      # the parent order's item id
    spec_id: str | None
    stack: str
    item: dict[str, Any]  # the child order item


@dataclasses.dataclass
class ChildPlan:
    key: str
    stack: str
    parts: list[Part]
    depends_on: list[str]
    reason: str | None = None


class Unroutable(ApiError):
    def __init__(self, message: str, code: str = "unknownStack"):
        super().__init__(422, "Unprocessable Entity", message, code)


def _component(item: Mapping[str, Any], offering: Mapping[str, Any], cid: str, spec: Mapping[str, Any] | None,
               stack: str) -> dict[str, Any]:
    product = {k: v for k, v in (item.get("product") or {}).items() if k not in ("productSpecification",)}
    spec_ref = offering.get("productSpecification") or {}
    if spec_ref.get("id"):
        product["productSpecification"] = {"id": spec_ref["id"], "name": spec_ref.get("name") or (spec or {}).get("name"),
                                           "@referredType": "ProductSpecification"}
    out = {"id": cid, "action": item["action"], "quantity": item.get("quantity", 1),
           "productOffering": {"id": offering["id"], "name": offering.get("name"), "@referredType": "ProductOffering"},
           "product": {**product, "@type": "Product"}, "state": ACKNOWLEDGED, "@type": "ProductOrderItem"}
    if item.get("itemTerm") or offering.get("productOfferingTerm"):
        out["itemTerm"] = item.get("itemTerm") or item_terms(offering)
    if cid != item["id"]:
        out["productOrderItemRelationship"] = [{"id": item["id"], "relationshipType": "bundledIn"}]
    return out


def parts(items: list[Mapping[str, Any]], offering: Any, specification: Any, held: Mapping[str, Mapping[str, Any]],
          routing: Routing, country: str | None, brand: str | None) -> list[Part]:
    """Every item (and every component of a bundle) with the stack that fulfils it.

    `offering(id)` / `specification(id)` look the catalogue up; `held` are the customer's products
    by id (modify/delete items name one). Raises Unroutable (422) when a product names no
    fulfilment stack or the routing table sends it to a stack Omnishop has no queue for."""
    out: list[Part] = []
    for n, item in enumerate(items):
        where = f"productOrderItem.{n}"
        oid = (item.get("productOffering") or {}).get("id")
        if not oid and (item.get("product") or {}).get("id"):
            product = held.get(item["product"]["id"]) or {}
            oid = (product.get("productOffering") or {}).get("id")
        top = offering(oid) if oid else None
        if top is None:
            raise Unroutable(f"{where}: productOffering {oid} is not in the catalogue", "unknownOffering")
        components = [offering(p["id"]) for p in top.get("bundledProductOffering") or []] or [top]
        for c, component in enumerate(components):
            if component is None:
                raise Unroutable(f"{where}: a component of bundle {oid} is not in the catalogue", "unknownOffering")
            spec_id = (component.get("productSpecification") or {}).get("id")
            spec = specification(spec_id) if spec_id else None
            named = catalog_domain.fulfilment_stack(spec or {})
            if not named:
                raise Unroutable(f"{where}: productOffering {component['id']} has no productSpecification naming a "
                                 f"fulfilmentStack", "noFulfilmentStack")
            stack = routing.route(named, country, brand)
            if stack not in routing.stacks:
                raise Unroutable(f"{where}: the routing table sends {named} products to stack {stack!r}, which is not "
                                 f"one of {', '.join(routing.stacks)}")
            cid = item["id"] if len(components) == 1 else f"{item['id']}.{c + 1}"
            out.append(Part(cid, item["id"], spec_id, stack, _component(item, component, cid, spec, stack)))
    return out


def decompose(all_parts: list[Part], routing: Routing) -> list[ChildPlan]:
    """Child orders: one per stack, except that a part which must wait for another part of the
    order (routing dependencies, e.g. SIM activation after the handset ships) goes into its own
    child order that depends on the one holding what it waits for."""
    specs = {p.spec_id for p in all_parts}
    keys: dict[str, str] = {}
    reasons: dict[str, str] = {}
    waits: dict[str, str] = {}
    for part in all_parts:
        rule = next((d for d in routing.dependencies if d.get("specification") == part.spec_id
                     and d.get("after") in specs), None)
        if rule is None:
            keys[part.item_id] = part.stack
        else:
            keys[part.item_id] = f"{part.stack}~after~{rule['after']}"
            reasons[keys[part.item_id]] = rule.get("reason") or f"waits for {rule['after']}"
            waits[keys[part.item_id]] = rule["after"]
    plans: dict[str, ChildPlan] = {}
    for part in all_parts:
        key = keys[part.item_id]
        plans.setdefault(key, ChildPlan(key, part.stack, [], [], reasons.get(key))).parts.append(part)
    for key, plan in plans.items():
        if key in waits:
            plan.depends_on = sorted({keys[p.item_id] for p in all_parts if p.spec_id == waits[key]} - {key})
    return [plans[k] for k in sorted(plans, key=lambda k: (k.count("~"), k))]


def waves(plans: list[ChildPlan]) -> list[list[str]]:
    """Child keys in dispatch order: each wave only after every wave before it has finished."""
    done: set[str] = set()
    out: list[list[str]] = []
    left = {p.key: set(p.depends_on) for p in plans}
    while left:
        ready = sorted(k for k, deps in left.items() if deps <= done)
        if not ready:
            raise ValueError(f"child order dependencies form a cycle: {sorted(left)}")
        out.append(ready)
        done.update(ready)
        for k in ready:
            left.pop(k)
    return out


def child_order(parent: Mapping[str, Any], plan: ChildPlan, cid: str, href: str, at: str,
                depends_on: list[dict[str, Any]]) -> dict[str, Any]:
    """A child order: an order in its own right, for one stack, linked to its parent."""
    keep = ("relatedParty", "channel", "billingAccount", "requestedStartDate", "requestedCompletionDate",
            "priority", "category", "journeyKey")
    doc: dict[str, Any] = {"id": cid, "href": href, "@type": TYPE, **{k: parent[k] for k in keep if k in parent},
                           "state": ACKNOWLEDGED, "orderDate": at, "lastUpdate": at,
                           "externalId": parent["id"],
                           "description": f"{plan.stack} part of order {parent['id']}",
                           "productOrderItem": [p.item for p in plan.parts]}
    doc["relatedParty"] = [p for p in doc.get("relatedParty") or [] if p.get("role") != FULFILMENT_ROLE]
    doc["relatedParty"].append(stack_party(plan.stack))
    doc["orderRelationship"] = [relationship(parent["id"], parent["href"], "parent"), *depends_on]
    if plan.reason:
        doc["note"] = [{"date": at, "author": "omnishop", "text": plan.reason}]
    return doc


# --- states -------------------------------------------------------------------------------------
def state_from(states: list[str]) -> str:
    """TMF622: the state of a whole made of parts (an order of its children, a bundle item of its
    components). All completed: completed; all done, some completed and some failed or
    cancelled: partial; all failed: failed; all cancelled: cancelled; a part held (a stack that
    never answered) with the rest done: held; otherwise inProgress."""
    if not states:
        return ACKNOWLEDGED
    done = [s for s in states if s in FINAL]
    if len(done) < len(states):
        if any(s == HELD for s in states) and all(s in FINAL or s == HELD for s in states):
            return HELD
        if all(s in (ACKNOWLEDGED,) for s in states):
            return ACKNOWLEDGED
        if any(s in (PENDING_CANCELLATION, ASSESSING_CANCELLATION) for s in states):
            return ASSESSING_CANCELLATION
        return IN_PROGRESS
    if all(s == COMPLETED for s in states):
        return COMPLETED
    if all(s == CANCELLED for s in states):
        return CANCELLED
    if any(s in (COMPLETED, PARTIAL) for s in states):
        return PARTIAL
    return FAILED


def item_state_from(states: list[str]) -> str:
    """An item's state from its components' (item states have no `partial`)."""
    state = state_from(states)
    return FAILED if state == PARTIAL else state


def follow_children(parent: Mapping[str, Any], children: list[Mapping[str, Any]], at: str) -> dict[str, Any]:
    """The parent order with its state and item states following its children's."""
    by_parent_item: dict[str, list[str]] = {}
    for child in children:
        for item in child.get("productOrderItem") or []:
            rel = next((r["id"] for r in item.get("productOrderItemRelationship") or []
                        if r.get("relationshipType") == "bundledIn"), item["id"])
            by_parent_item.setdefault(rel, []).append(item.get("state") or ACKNOWLEDGED)
    items = [{**i, "state": item_state_from(by_parent_item[i["id"]])} if i["id"] in by_parent_item else i
             for i in parent.get("productOrderItem") or []]
    state = state_from([c.get("state") or ACKNOWLEDGED for c in children])
    if state == ACKNOWLEDGED and children:
        state = IN_PROGRESS   # decomposed and sent: the order is being treated
    out = {**parent, "productOrderItem": items, "state": state}
    if state != parent.get("state") or items != parent.get("productOrderItem"):
        out["lastUpdate"] = at
    if state in FINAL and not parent.get("completionDate"):
        out["completionDate"] = at
    return out


def apply_report(child: Mapping[str, Any], reported: Mapping[str, Any], at: str) -> dict[str, Any]:
    """A child order after its stack reported a state (and item states) on the listener. A final
    child order does not move any more (a late or repeated report changes nothing)."""
    state = reported.get("state")
    if state not in STACK_STATES:
        raise bad_request(f"event.productOrder.state must be one of {', '.join(STACK_STATES)}")
    if child.get("state") in FINAL:
        return dict(child)
    given = {i.get("id"): i.get("state") for i in reported.get("productOrderItem") or [] if isinstance(i, Mapping)}
    for item_id, item_state in given.items():
        if item_state not in STACK_STATES or item_state == PARTIAL:
            raise bad_request(f"item {item_id}: state must be one of {', '.join(STACK_STATES)}")
    items = []
    for item in child.get("productOrderItem") or []:
        new = given.get(item["id"]) or (state if state != PARTIAL else item.get("state"))
        items.append({**item, "state": item["state"] if item.get("state") in FINAL else new})
    out = {**child, "state": state, "productOrderItem": items, "lastUpdate": at}
    if state in FINAL:
        out["completionDate"] = at
    if reported.get("expectedCompletionDate"):
        out["expectedCompletionDate"] = reported["expectedCompletionDate"]
    return out


def cancellable(child: Mapping[str, Any]) -> bool:
    """A child order can be cancelled at its stack while none of its items has passed its point of
    no return (inProgress or later)."""
    return child.get("state") in CANCELLABLE and all(
        i.get("state", ACKNOWLEDGED) in CANCELLABLE for i in child.get("productOrderItem") or [])


def cancelled(child: Mapping[str, Any], at: str, reason: str | None) -> dict[str, Any]:
    out = {**child, "state": CANCELLED, "cancellationDate": at, "completionDate": at, "lastUpdate": at,
           "productOrderItem": [{**i, "state": CANCELLED} for i in child.get("productOrderItem") or []]}
    if reason:
        out["cancellationReason"] = reason
    return out


def milestone_text(state: str) -> str | None:
    """The SMS a customer gets at an order milestone (notify template: {orderId} is filled in)."""
    return {
        ACKNOWLEDGED: "Omnishop: we have received your order {orderId}. We will text you as it progresses.",
        IN_PROGRESS: "Omnishop: your order {orderId} is in progress.",
        COMPLETED: "Omnishop: your order {orderId} is complete. Enjoy!",
        PARTIAL: "Omnishop: part of your order {orderId} could not be completed; we will be in touch.",
        FAILED: "Omnishop: sorry, your order {orderId} could not be completed; we will be in touch.",
        CANCELLED: "Omnishop: your order {orderId} has been cancelled.",
    }.get(state)
