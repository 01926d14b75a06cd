"""TMF622 orders as plain functions over plain values: states, the order document, decomposition
into child orders (catalogue + routing table + dependencies), the parent's state from its
children, cancellation's point of no return. No AWS, no Chalice."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
from typing import Any, Iterable, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import deferred
from chalicelib.actor import Actor
from chalicelib.catalog import domain as catalog_domain
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import ApiError, bad_request, unprocessable
from chalicelib.view import Document

# imported on first use (chalicelib/deferred.py): the stack adapter reads child orders and needs
# none of them; capture and the workflow's pricing and visits do
appointment_domain = deferred.module("chalicelib.appointment.domain")
basket_domain = deferred.module("chalicelib.basket.domain")
pricing = deferred.module("chalicelib.basket.pricing")

# Why an order cannot be placed as its basket stands (capture's business refusals). An approved
# basket refused for one of these goes back with the reason (recovery); any other error (a race,
# a transaction conflict, a fault) is retried, never shown to the customer as a reason.
REFUSALS = frozenset({"priceChanged", "factsChanged", "notQualified", "notSoldInChannel", "offeringNotAvailable",
                      "offeringNotSellable", "unknownOffering", "unknownProduct", "unknownStack",
                      "noFulfilmentStack", "invalidInput"})

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
class Order(Document):
    """A thin typed view of a stored productOrder (a customer's order or a stack's child order;
    chalicelib/view.py)."""

    @property
    def state(self) -> str | None:
        return self.doc.get("state")

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.doc.get("productOrderItem") or [])

    @property
    def stack(self) -> str | None:
        """A child order's fulfilment stack (relatedParty role fulfilmentStack)."""
        return catalog_domain.fulfilment_stack(self.doc)

    @property
    def child_ids(self) -> list[str]:
        return [r["id"] for r in self.doc.get("orderRelationship") or [] if r.get("relationshipType") == "child"]

    @property
    def parent_id(self) -> str | None:
        return next((r["id"] for r in self.doc.get("orderRelationship") or [] if r.get("relationshipType") == "parent"),
                    None)

    @property
    def visits(self) -> list[tuple[str, Any]]:
        """The engineers' visits its items carry (item id, appointment ref)."""
        return [(str(i.get("id")), i["appointment"]) for i in self.items if i.get("appointment")]

    @property
    def in_flight(self) -> bool:
        """A customer's top-level order not finished yet (the 360 view's "orders in flight")."""
        return self.doc.get("@type") == TYPE and not self.parent_id and self.state not in FINAL


def customer_of(doc: Mapping[str, Any]) -> str | None:
    return Order(doc).customer_id


def stack_of(doc: Mapping[str, Any]) -> str | None:
    return Order(doc).stack


def stack_party(stack: str) -> dict[str, Any]:
    return {"id": stack, "name": stack, "role": FULFILMENT_ROLE, "@referredType": "Organization"}


def relationship(order_id: str, href: str, kind: str) -> dict[str, Any]:
    """An orderRelationship entry (TMF622 v5's shape, kept as an extension in v4)."""
    return {"id": order_id, "href": href, "relationshipType": kind, "@referredType": TYPE}


def visits(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return Order(doc).visits


def children_of(doc: Mapping[str, Any]) -> list[str]:
    return Order(doc).child_ids


def parent_of(doc: Mapping[str, Any]) -> str | None:
    return Order(doc).parent_id


def in_flight(doc: Mapping[str, Any]) -> bool:
    return Order(doc).in_flight


def check_items(items: Sequence[Mapping[str, Any]]) -> None:
    """Item ids unique, actions known; modify/delete name the product they change."""
    seen: set[str] = set()
    for n, item in enumerate(items):
        where = f"productOrderItem.{n}"
        if item["id"] in seen:
            raise bad_request(f"{where}.id {item['id']!r} is used twice; item ids must be unique")
        seen.add(item["id"])
        if item["action"] in ("modify", "delete") and not ref_id(item, "product"):
            raise bad_request(f"{where}: a {item['action']} item names the product it changes (product.id)")


def replaced_items(items: Sequence[Mapping[str, Any]], offering: Any,
                   held: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An upsell to a bundle ends what the bundle supersedes, so nothing is billed twice: one
    `delete` item per product held whose offering is a component of a bundle the order adds (the
    catalogue's bundledProductOffering, the data the recommendation's "replaces" comes from). A
    component of a bundle held is not ended alone: the item ends its bundle, whose completion ends
    every component (chalicelib/inventory). Products the order already changes or ends are left
    to their own items. Item ids are the bundle item's id + `-r<n>`; each relates to its bundle
    item (`supersededBy`)."""
    from chalicelib.inventory import domain as inventory_domain   # plain values, as this module

    named = {ref_id(i, "product") for i in items if i.get("action") in ("modify", "delete")}
    taken = {i["id"] for i in items}
    bundled_in = {cid: bid for bid, p in held.items() for cid in inventory_domain.components(p)}
    out: list[dict[str, Any]] = []
    for item in items:
        oid = ref_id(item, "productOffering")
        bundle = offering(oid) if item.get("action") == "add" and oid else None
        parts = {p.get("id") for p in (bundle or {}).get("bundledProductOffering") or []}
        replaced: list[Mapping[str, Any]] = []
        for pid, held_product in sorted(held.items()):
            if pid in named or ref_id(held_product, "productOffering") not in parts:
                continue
            product = held[bundled_in[pid]] if pid in bundled_in else held_product
            if product["id"] not in named and all(p["id"] != product["id"] for p in replaced):
                replaced.append(product)
        for n, product in enumerate(replaced, 1):
            rid = f"{item['id']}-r{n}"
            if rid in taken:
                raise bad_request(f"productOrderItem id {rid!r} is reserved for what bundle item {item['id']} replaces")
            named.add(product["id"])
            out.append({"id": rid, "action": "delete", "quantity": 1,
                        "product": {"id": product["id"], "href": product.get("href"), "name": product.get("name"),
                                    "@referredType": "Product"},
                        "productOrderItemRelationship": [{"id": item["id"], "relationshipType": "supersededBy"}]})
    return out


def promotions_asked(item: Mapping[str, Any], where: str) -> list[str]:
    """The promotions (productOfferingPrice ids) a `modify` item asks to add to the product it
    names, from its itemPrice (each price's productOfferingPrice or its priceAlteration's). Only
    the references are read: amounts a client sends are never used (checkout prices from the
    catalogue)."""
    prices = item.get("itemPrice")
    if prices is None:
        return []
    if not isinstance(prices, list) or not all(isinstance(p, Mapping) for p in prices):
        raise bad_request(f"{where}.itemPrice must be a list of OrderPrice objects")
    out: list[str] = []
    for n, price in enumerate(prices):
        alterations = price.get("priceAlteration") or []
        if not isinstance(alterations, list):
            raise bad_request(f"{where}.itemPrice.{n}.priceAlteration must be a list")
        for ref in [price.get("productOfferingPrice"), *[a.get("productOfferingPrice") for a in alterations
                                                          if isinstance(a, Mapping)]]:
            if ref is None:
                continue
            if not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str) or not ref["id"]:
                raise bad_request(f"{where}.itemPrice.{n}: a productOfferingPrice reference needs an id")
            if ref["id"] not in out:
                out.append(ref["id"])
    if len(out) > 10:
        raise bad_request(f"{where}.itemPrice names more than 10 promotions")
    return out


def promotion_running(product: Mapping[str, Any], promotion_id: str, at: str) -> bool:
    """The product has this promotion already, not ended at `at` (a second order for it would
    start it again: refused)."""
    for price in product.get("productPrice") or []:
        for alt in price.get("productPriceAlteration") or []:
            if ref_id(alt, "productOfferingPrice") == promotion_id:
                end = (alt.get("validFor") or {}).get("endDateTime")
                if end is None or str(end) > at:
                    return True
    return False


def promotions_ordered(order: Mapping[str, Any], product_id: str) -> set[str]:
    """The promotions an order (not final) adds to a product: its modify items' priced alterations."""
    if order.get("@type") != TYPE or parent_of(order) or order.get("state") in FINAL:
        return set()
    return {pid for i in Order(order).items
            if i.get("action") == "modify" and ref_id(i, "product") == product_id
            for p in i.get("itemPrice") or [] for a in p.get("priceAlteration") or []
            if (pid := ref_id(a, "productOfferingPrice")) is not None}


def with_fees(totals: list[dict[str, Any]], fees: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The order total with the one-off fees (net of waivers) added to its one-off line."""
    from decimal import Decimal

    net: dict[str, Decimal] = {}
    for fee in fees:
        money = fee["price"]["taxIncludedAmount"]
        off = sum((Decimal(str(a["price"]["taxIncludedAmount"]["value"])) for a in fee.get("priceAlteration") or []),
                  Decimal(0))
        net[money["unit"]] = net.get(money["unit"], Decimal(0)) + Decimal(str(money["value"])) - off
    out = [dict(t) for t in totals]
    for unit, value in net.items():
        if value <= 0:
            continue
        line = next((t for t in out if t.get("priceType") == "oneTime"
                     and t["price"]["taxIncludedAmount"]["unit"] == unit), None)
        if line is None:
            line = {"name": "Order total one-off", "priceType": "oneTime", "priceAlteration": [],
                    "price": {"taxIncludedAmount": {"unit": unit, "value": 0}}, "@type": "OrderPrice"}
            out.insert(0, line)
        total = pricing.money(pricing.amount(line["price"]["taxIncludedAmount"]["value"]) + value, unit)
        line["price"] = {**line["price"], "taxIncludedAmount": total}
        line["description"] = f"{total['value']} {unit} (with fees)"
    return out


def needs_catalogue(item: Mapping[str, Any]) -> bool:
    """An item Omnishop can look up: it names an offering, or a product the customer holds."""
    return bool(ref_id(item, "productOffering") or ref_id(item, "product"))


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
    site: str | None = None   # a business customer's site the child order's items are for


site_of = customer_domain.site_of   # the customer site an order item is for


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
    if item.get("appointment") and appointment_domain.needs_engineer(spec):   # the engineer's visit, to its stack
        out["appointment"] = item["appointment"]
    return out


def parts(items: Sequence[Mapping[str, Any]], offering: Any, specification: Any, held: Mapping[str, Mapping[str, Any]],
          routing: Routing, country: str | None, brand: str | None) -> list[Part]:
    """Every item (and every component of a bundle) with the stack that fulfils it.

    `offering(id)` / `specification(id)` look the catalogue up; `held` are the customer's products
    by id (modify/delete items name one). Raises Unroutable (422) when a product names no
    fulfilment stack or the routing table sends it to a stack Omnishop has no queue for."""
    out: list[Part] = []
    for n, item in enumerate(items):
        where = f"productOrderItem.{n}"
        oid = ref_id(item, "productOffering")
        if not oid and ref_id(item, "product"):
            product = held.get(item["product"]["id"]) or {}
            oid = ref_id(product, "productOffering")
        top = offering(oid) if oid else None
        if top is None:
            raise Unroutable(f"{where}: productOffering {oid} is not in the catalogue", "unknownOffering")
        components = [offering(p["id"]) for p in top.get("bundledProductOffering") or []] or [top]
        for c, component in enumerate(components):
            if component is None:
                raise Unroutable(f"{where}: a component of bundle {oid} is not in the catalogue", "unknownOffering")
            spec_id = ref_id(component, "productSpecification")
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
        site = site_of(part.item)
        base = part.stack if site is None else f"{part.stack}@{site}"
        if rule is None:
            keys[part.item_id] = base
        else:
            keys[part.item_id] = f"{base}~after~{rule['after']}"
            reasons[keys[part.item_id]] = rule.get("reason") or f"waits for {rule['after']}"
            waits[keys[part.item_id]] = rule["after"]
    plans: dict[str, ChildPlan] = {}
    for part in all_parts:
        key = keys[part.item_id]
        plans.setdefault(key, ChildPlan(key, part.stack, [], [], reasons.get(key), site_of(part.item))).parts.append(part)
    for key, plan in plans.items():
        if key in waits:   # what it waits for at the same site (or anywhere, for items naming none)
            plan.depends_on = sorted({keys[p.item_id] for p in all_parts if p.spec_id == waits[key]
                                      and site_of(p.item) == plan.site} - {key}) or \
                sorted({keys[p.item_id] for p in all_parts if p.spec_id == waits[key]} - {key})
    plans = chunked(plans, CHILD_MAX_ITEMS)
    return [plans[k] for k in sorted(plans, key=lambda k: (k.count("~"), k))]


# A child order holds at most this many items: it is then always one record of the order table
# (chalicelib/pages.py keeps an order of more in pages; a child order stays whole) and a stack's
# order of 1,000 business lines arrives as ten child orders it can take one by one.
CHILD_MAX_ITEMS = 100


def chunked(plans: dict[str, ChildPlan], size: int) -> dict[str, ChildPlan]:
    """Each child order of more than `size` parts as several, in the order of its parts (`key`,
    `key#2`, ...); one that waited for it waits for every one of them."""
    out: dict[str, ChildPlan] = {}
    keys_of: dict[str, list[str]] = {}
    for key, plan in plans.items():
        starts = range(0, len(plan.parts), size) if plan.parts else range(1)
        keys_of[key] = [key if n == 0 else f"{key}#{n + 1}" for n, _ in enumerate(starts)]
        for k, start in zip(keys_of[key], starts):
            out[k] = dataclasses.replace(plan, key=k, parts=plan.parts[start:start + size])
    for plan in out.values():
        plan.depends_on = sorted({k for d in plan.depends_on for k in keys_of.get(d, [d])})
    return out


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
                           "description": f"{plan.stack} part of order {parent['id']}"
                                          + (f" for site {plan.site}" if plan.site else ""),
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


def follow_children(parent: Mapping[str, Any], children: Sequence[Mapping[str, Any]], at: str) -> dict[str, Any]:
    """The parent order with its state and item states following its children's."""
    by_parent_item: dict[str, list[str]] = {}
    for child in children:
        for item in Order(child).items:
            rel = next((r["id"] for r in item.get("productOrderItemRelationship") or []
                        if r.get("relationshipType") == "bundledIn"), item["id"])
            by_parent_item.setdefault(rel, []).append(item.get("state") or ACKNOWLEDGED)
    items = [{**i, "state": item_state_from(by_parent_item[i["id"]])} if i["id"] in by_parent_item else i
             for i in Order(parent).items]
    # a child order the customer amended away is no part of the outcome (the order is not partial
    # for it), unless nothing else is left
    kept = [c for c in children if not (c.get("state") == CANCELLED and c.get("cancelledByAmendment"))] or children
    state = state_from([c.get("state") or ACKNOWLEDGED for c in kept])
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
    given = {i.get("id"): i.get("state") for i in Order(reported).items if isinstance(i, Mapping)}
    for item_id, item_state in given.items():
        if item_state not in STACK_STATES or item_state == PARTIAL:
            raise bad_request(f"item {item_id}: state must be one of {', '.join(STACK_STATES)}")
    items = []
    for item in Order(child).items:
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
        i.get("state", ACKNOWLEDGED) in CANCELLABLE for i in Order(child).items)


def cancelled(child: Mapping[str, Any], at: str, reason: str | None) -> dict[str, Any]:
    out = {**child, "state": CANCELLED, "cancellationDate": at, "completionDate": at, "lastUpdate": at,
           "productOrderItem": [{**i, "state": CANCELLED} for i in Order(child).items]}
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


# --- checkout -------------------------------------------------------------------------------------
def price_changes(cart_items: Iterable[Mapping[str, Any]], now: Mapping[str, list[dict[str, Any]]]
                  ) -> list[dict[str, Any]]:
    """The basket's items whose catalogue price now (`now`, by item id, pricing.agreed's short form)
    is not the one agreed when the item was added (its `agreedPrice`)."""
    out = []
    for item in cart_items:
        agreed = item.get("agreedPrice")
        if item["id"] in now and agreed is not None and agreed != now[item["id"]]:
            out.append({"cartItem": {"id": item["id"]},
                        "name": (item.get("productOffering") or {}).get("name") or item["productOffering"]["id"],
                        "agreedPrice": agreed, "newPrice": now[item["id"]]})
    return out


def price_change_token(changes: Sequence[Mapping[str, Any]]) -> str:
    """Names exactly these new prices: accepting it accepts them and no later change."""
    raw = json.dumps([[c["cartItem"]["id"], c["newPrice"]] for c in changes], sort_keys=True, default=str)
    return "pc-" + hashlib.sha256(raw.encode()).hexdigest()[:20]


def attribution(cart: Mapping[str, Any] | None, placed_by: Actor) -> dict[str, Any]:
    """Where an order came from, recorded on every order: its campaign code (the basket's context),
    the capture channel (`placed_by.channel`), and whether it was self-service or assisted (an
    agent placed it, or prepared the basket the customer approved)."""
    context = (cart or {}).get("context") or {}
    agent = placed_by.id if placed_by.role == "agent" else basket_domain.last_agent(cart) if cart is not None else None
    out = {"campaignCode": context.get("campaignCode"), "channel": placed_by.channel,
           "originatingChannel": context.get("originatingChannel"), "selfService": agent is None,
           "agent": agent}
    return {k: v for k, v in out.items() if v is not None}


# --- item cancellation and amendment in flight (points of no return as data) -------------------
# How far an item has gone at its stack, to compare with a point of no return (data/cancellation.json).
PROGRESS = {ACKNOWLEDGED: 0, PENDING: 0, HELD: 0, IN_PROGRESS: 1}
AMENDABLE = (ACKNOWLEDGED, PENDING, HELD, IN_PROGRESS)


@dataclasses.dataclass(frozen=True)
class Limit:
    """An item's point of no return: from `point` on, cancelling it is refused (hard) or allowed
    with a fee and/or a note (soft). `text` says why (hard) or is the note (soft)."""
    point: str
    hard: bool
    fee: Mapping[str, Any] | None = None
    text: str = ""


@dataclasses.dataclass(frozen=True)
class CancelRules:
    """The points of no return per stack and product specification (data/cancellation.json)."""
    rules: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CancelRules:
        rules = tuple(data.get("rules") or ())
        for n, rule in enumerate(rules):
            if rule.get("pointOfNoReturn") not in PROGRESS or rule.get("limit") not in ("hard", "soft"):
                raise ValueError(f"cancellation rule {n}: pointOfNoReturn must be one of {', '.join(PROGRESS)} "
                                 "and limit hard or soft")
        return cls(rules)

    def limit(self, stack: str | None, specification: str | None) -> Limit:
        for rule in self.rules:
            if rule.get("stack", "*") in ("*", stack) and rule.get("specification", "*") in ("*", specification):
                hard = rule["limit"] == "hard"
                return Limit(rule["pointOfNoReturn"], hard, None if hard else rule.get("fee"),
                             str(rule.get("why") if hard else rule.get("note") or ""))
        return Limit(IN_PROGRESS, True, None, "its stack has started fulfilling it")


def default_cancel_rules() -> CancelRules:
    return CancelRules.from_data(json.loads((DATA / "cancellation.json").read_text()))


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    past: bool                                   # past its point of no return
    why: str = ""                                # why refused, or the note of a soft limit
    fee: Mapping[str, Any] | None = None


def item_verdict(state: str | None, limit: Limit) -> Verdict:
    """May an item in `state` still be cancelled under `limit`? A final item never is."""
    state = state or ACKNOWLEDGED
    if state in FINAL:
        return Verdict(False, True, f"it is already {state}")
    if PROGRESS.get(state, len(PROGRESS)) < PROGRESS[limit.point]:
        return Verdict(True, False)
    if limit.hard:
        return Verdict(False, True, f"{limit.text or 'it is past its point of no return'} (it is {state}; "
                                    f"no cancellation from {limit.point} on)")
    return Verdict(True, True, limit.text, limit.fee)


def _spec_of(item: Mapping[str, Any]) -> str | None:
    return ((item.get("product") or {}).get("productSpecification") or {}).get("id")


def _parent_item_of(child_item: Mapping[str, Any]) -> str:
    return next((r["id"] for r in child_item.get("productOrderItemRelationship") or []
                 if r.get("relationshipType") == "bundledIn"), child_item["id"])


def _within(given: Any, stored: Any) -> bool:
    """`given` says nothing `stored` does not (a reference given by id names the stored one, as
    the order filled it in): the same request sent again reads as no change."""
    if isinstance(given, Mapping) and isinstance(stored, Mapping):
        return all(_within(v, stored.get(k)) for k, v in given.items())
    if isinstance(given, list) and isinstance(stored, list):
        return len(given) == len(stored) and all(_within(g, s) for g, s in zip(given, stored))
    return bool(given == stored)


def amendment_request(current: Sequence[Mapping[str, Any]], given: list[Mapping[str, Any]]
                      ) -> tuple[list[str], list[dict[str, Any]]]:
    """What a PATCH of an order's productOrderItem asks (the list as the caller wants it):
    (ids of items to cancel, new items to add). Every item in flight is listed (nothing is
    dropped by omission); an item in flight changes only its state, to cancelled; a new id is a
    new item. 400/422 for anything else. The same request again asks nothing."""
    now = {i["id"]: i for i in current}
    ids: list[str] = [i["id"] for i in given]   # required by schemas.AmendedItem
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise bad_request(f"productOrderItem id(s) {', '.join(twice)} given twice; item ids must be unique")
    missing = [i for i in now if i not in ids]
    if missing:
        raise unprocessable(f"productOrderItem {', '.join(missing)} missing: an amendment lists every item of "
                                 "the order; to remove one, send it with \"state\": \"cancelled\"", "itemMissing")
    cancel, added = [], []
    for n, item in enumerate(given):
        where = f"productOrderItem.{n}"
        old = now.get(item["id"])
        if old is None:
            if item.get("state") not in (None, ACKNOWLEDGED):
                raise bad_request(f"{where}: a new item has no state yet (the order gives it one)")
            if not item.get("action"):
                raise bad_request(f"{where}: a new item says its action (add, modify or delete)")
            added.append({k: v for k, v in item.items() if k != "state"})
            continue
        changed = sorted(k for k, v in item.items() if k not in ("id", "state") and not _within(v, old.get(k)))
        if changed:
            raise unprocessable(f"{where}: item {item['id']} is in flight: only its state can change (to "
                                     f"cancelled); to change {', '.join(changed)}, cancel it and add a new item",
                                     "itemInFlight")
        state = item.get("state")
        if state == CANCELLED and old.get("state") != CANCELLED:
            cancel.append(item["id"])
        elif state not in (None, old.get("state"), CANCELLED):
            raise unprocessable(f"{where}: an item's state is set by its stack; a caller may only set it to "
                                     "cancelled", "itemInFlight")
    if added:
        check_items(added)
    return cancel, added


@dataclasses.dataclass
class Amendment:
    """An amendment planned: the parent as it will be, the child orders it changes (by id) and the
    ones it creates, all written in one transaction; `record` is what changed (on the parent)."""
    parent: dict[str, Any]
    changed: dict[str, dict[str, Any]]
    created: list[dict[str, Any]]
    record: dict[str, Any]


def _fee_total(fees: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not fees:
        return None
    units = {f.get("unit") for f in fees}
    unit = units.pop()
    if units or unit is None:   # more than one currency, or a fee without one: not added up
        return {"value": None, "unit": None, "parts": [dict(f) for f in fees]}
    return pricing.money(sum((pricing.amount(f.get("value") or 0) for f in fees), pricing.amount(0)), unit)


def _next_child_number(parent: Mapping[str, Any]) -> int:
    numbers = [int(c.rsplit("-", 1)[1]) for c in children_of(parent) if c.rsplit("-", 1)[-1].isdigit()]
    return max(numbers, default=0) + 1


def amend(parent: Mapping[str, Any], children: Mapping[str, Mapping[str, Any]], cancel_ids: list[str],
          added_items: list[dict[str, Any]], added_parts: list[Part], rules: CancelRules, at: str,
          href_of: Any, reason: str | None = None) -> Amendment:
    """Cancel items and add items to an order in flight. Each cancelled item (each component of a
    bundle) is judged against its point of no return: a hard limit passed refuses the whole
    amendment (422 naming the item and why); a soft one records its fee and note. A child order
    all of whose items end cancelled is cancelled; others carry on with the rest. An added part
    joins its stack's child order while that one is still acknowledged (not sent further than the
    stack's queue, before any point of no return); otherwise it goes in a new child order for
    its stack. Untouched child orders are not changed at all."""
    number = len(parent.get("amendment") or []) + 1
    changed: dict[str, dict[str, Any]] = {}
    parent_items = {i["id"]: i for i in Order(parent).items}
    refused: list[str] = []
    fees: dict[str, list[Mapping[str, Any]]] = {}
    notes: dict[str, list[str]] = {}
    for item_id in cancel_ids:
        fees[item_id], notes[item_id] = [], []
        for child in children.values():
            for ci in Order(child).items:
                if _parent_item_of(ci) != item_id:
                    continue
                verdict = item_verdict(ci.get("state"), rules.limit(stack_of(child), _spec_of(ci)))
                name = (parent_items[item_id].get("productOffering") or {}).get("name") or item_id
                if not verdict.allowed:
                    refused.append(f"item {item_id} ({name}{', part ' + ci['id'] if ci['id'] != item_id else ''}): "
                                   f"{verdict.why}")
                elif verdict.past:
                    fees[item_id] += [verdict.fee] if verdict.fee else []
                    notes[item_id] += [verdict.why] if verdict.why else []
        if not children and parent_items[item_id].get("state") in FINAL:
            refused.append(f"item {item_id}: it is already {parent_items[item_id]['state']}")
    if refused:
        raise unprocessable(f"cannot be cancelled, past the point of no return: {'; '.join(refused)}",
                                 "pastPointOfNoReturn")

    def cancelled_item(item: Mapping[str, Any], item_id: str) -> dict[str, Any]:
        out = {**item, "state": CANCELLED}
        fee, note = _fee_total(fees[item_id]), "; ".join(dict.fromkeys(notes[item_id]))
        if fee:
            out["cancellationFee"] = fee
        if note:
            out["cancellationNote"] = note
        return out

    cancelling = set(cancel_ids)
    for cid, child in children.items():
        items = Order(child).items
        hit = [i for i in items if _parent_item_of(i) in cancelling]
        if not hit:
            continue
        new_items = [cancelled_item(i, _parent_item_of(i)) if _parent_item_of(i) in cancelling else i for i in items]
        changed[cid] = {**child, "productOrderItem": new_items, "lastUpdate": at}

    created: list[dict[str, Any]] = []
    fresh: dict[str, list[Part]] = {}
    for part in added_parts:
        target = next((cid for cid in sorted(children) if stack_of(children[cid]) == part.stack
                       and children[cid].get("state") == ACKNOWLEDGED
                       and not any(r.get("relationshipType") == "dependsOn"
                                   for r in children[cid].get("orderRelationship") or [])
                       and all(not item_verdict(i.get("state"), rules.limit(part.stack, _spec_of(i))).past
                               for i in Order(changed.get(cid) or children[cid]).items
                               if i.get("state") != CANCELLED)), None)
        if target is None:
            fresh.setdefault(part.stack, []).append(part)
            continue
        doc = changed.get(target) or {**children[target], "lastUpdate": at}
        changed[target] = {**doc, "productOrderItem": [*doc["productOrderItem"], part.item]}
    for cid, doc in changed.items():
        states = [i.get("state") for i in doc["productOrderItem"]]
        if all(state in FINAL for state in states):      # nothing left for its stack to do
            changed[cid] = {**doc, "state": CANCELLED if set(states) == {CANCELLED} else item_state_from(states),
                            "completionDate": at}
            if changed[cid]["state"] == CANCELLED:
                changed[cid]["cancelledByAmendment"] = number   # what the customer removed: not a failure
                changed[cid]["cancellationDate"] = at
                changed[cid].update({"cancellationReason": reason} if reason else {})
    start = _next_child_number(parent)
    for n, (stack, stack_parts) in enumerate(sorted(fresh.items())):
        cid = f"{parent['id']}-{start + n}"
        child = child_order(parent, ChildPlan(stack, stack, stack_parts, []), cid, href_of(cid), at, [])
        created.append({**child, "amendment": number})

    cancelled_ids = [{"id": i, **({"cancellationFee": _fee_total(fees[i])} if fees.get(i) else {}),
                      **({"cancellationNote": "; ".join(dict.fromkeys(notes[i]))} if notes.get(i) else {})}
                     for i in cancel_ids]
    touched = sorted(changed)
    record = {"id": str(number), "date": at, "addedItem": [i["id"] for i in added_items],
              "cancelledItem": cancelled_ids, "childOrder": [*touched, *(c["id"] for c in created)]}
    for cid in touched:
        what = [f"item {i['id']} cancelled" for i in changed[cid]["productOrderItem"]
                if _parent_item_of(i) in cancelling] + [f"item {p.item_id} added" for p in added_parts
                                                          if any(p.item is i for i in changed[cid]["productOrderItem"])]
        changed[cid] = {**with_note(changed[cid], at, f"amendment {number}: {', '.join(what)}"), "amendment": number}
    items = [cancelled_item(i, i["id"]) if i["id"] in cancelling else i for i in Order(parent).items]
    items += [{**i, "state": ACKNOWLEDGED} for i in added_items]
    links = [*(parent.get("orderRelationship") or []), *(relationship(c["id"], c["href"], "child") for c in created)]
    new_parent = {**parent, "productOrderItem": items, "orderRelationship": links, "lastUpdate": at,
                  "amendment": [*(parent.get("amendment") or []), record]}
    all_children = [*({**children, **changed}).values(), *created]
    if all_children:
        new_parent = follow_children(new_parent, all_children, at)
    elif all(i.get("state") == CANCELLED for i in items):
        new_parent = {**cancelled(new_parent, at, reason), "amendment": new_parent["amendment"]}
    return Amendment(new_parent, changed, created, record)


def waves_of(children: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The waves of child orders already written, from their dependsOn links: what a repeated
    decomposition answers, whatever amendments changed in the order's items since."""
    ids = {c["id"] for c in children}
    return waves([ChildPlan(c["id"], stack_of(c) or "", [], [r["id"] for r in c.get("orderRelationship") or []
                                                                if r.get("relationshipType") == "dependsOn"
                                                                and r["id"] in ids]) for c in children])


def amendment_text(order: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """The one SMS an amendment sends ({orderId} is filled in by notify)."""
    names = {i["id"]: ((i.get("productOffering") or {}).get("name") or f"item {i['id']}").replace("{", "(")
             .replace("}", ")") for i in Order(order).items}
    parts = []
    if record.get("addedItem"):
        parts.append("added " + ", ".join(names.get(i, i) for i in record["addedItem"]))
    for c in record.get("cancelledItem") or []:
        fee = c.get("cancellationFee") or {}
        parts.append(f"cancelled {names.get(c['id'], c['id'])}"
                     + (f" (fee {fee['value']:.2f} {fee['unit']})" if fee.get("value") is not None else ""))
    return "Omnishop: your order {orderId} has been changed: " + "; ".join(parts) + "."
