"""TMF622 order use cases: capture (from an approved basket or from items), reads, cancellation,
the stacks' milestones on the listener, and the workflow's tasks (decompose, dispatch, hold,
finish). Glue between the rules in domain.py, the store, the catalogue cache, the central rules,
basket pricing, the customer context and Step Functions.

Capture writes the order (and its basket's `ordered`) in one transaction; everything after it
happens from the order table's stream (functions/order_events.py): one workflow per order
(infra/statemachines/order_fulfilment.asl.json), TMF622 hub events, milestone SMS, and the
products completed child orders create or change in the inventory (TMF637).
"""
from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any, Callable, Mapping, NamedTuple

from chalicelib import aws, db, deferred, settings, tmf, workflows
from chalicelib.auth import Caller, require
from chalicelib.basket import domain as basket_domain
from chalicelib.basket import pricing
from chalicelib.basket import service as basket_service
from chalicelib.basket import store as basket_store
from chalicelib.customer import access as customer_access
from chalicelib.customer import domain as customer_domain
from chalicelib.customer import store as customer_store
from chalicelib.errors import ApiError, Conflict, bad_request, conflict, not_found, unprocessable
from chalicelib.inventory import domain as inventory_domain
from chalicelib.observability import logger
from chalicelib.ordering import domain, store
from chalicelib.rules import domain as rules_domain

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
credit = deferred.module("chalicelib.credit.service")
inventory = deferred.module("chalicelib.inventory.service")
rules = deferred.module("chalicelib.rules.service")
schemas = deferred.module("chalicelib.ordering.schemas")
stock = deferred.module("chalicelib.stock.service")
quotes = deferred.module("chalicelib.quote.service")

appointments = deferred.module("chalicelib.appointment.service")

payment = deferred.module("chalicelib.payment.service")

USERS = ("customer", "agent")
CAPTURERS = (*USERS, "channel")   # a channel is told to identify its visitor first (422)
WORKFLOW = "order-fulfilment"
NOTIFY_WORKFLOW = "order-notify"
ORDER_NAMESPACE = uuid.UUID("6f1d7c52-3b0e-4c1a-9d55-0a4b8c2e7f10")
catalogue = basket_service.catalogue   # offerings, prices, specifications from the catalogue cache


def href(order_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, order_id)


def cancel_href(rid: str) -> str:
    return tmf.href(domain.API_ROOT, domain.CANCEL_RESOURCE, rid)


def basket_order_id(basket_id: str) -> str:
    """A basket is ordered once: its order's id derives from it."""
    return str(uuid.uuid5(ORDER_NAMESPACE, f"shoppingCart:{basket_id}"))


def routing() -> domain.Routing:
    return domain.default_routing()


# --- capture ------------------------------------------------------------------------------------
class _Customer:
    """The customer an order is for, with what capture needs to know about them."""

    def __init__(self, customer_id: str | None):
        self.id = customer_id
        self.doc: dict[str, Any] | None = None
        self.held: dict[str, dict[str, Any]] = {}
        self.profile: dict[str, Any] | None = None   # what the rules read (rules.profile), same Query
        if customer_id:
            found = customer_store.load_customer(customer_id)
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


def _named_customer(body: Mapping[str, Any], caller: Caller) -> str | None:
    named = [p.get("id") for p in body.get("relatedParty") or [] if str(p.get("role", "")).lower() == "customer"]
    if caller.role == "customer":
        for other in named:
            if other != caller.customer_id:
                raise not_found("customer", other)
        return caller.customer_id
    return named[0] if named else None


def _basket_items(cart: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"id": i["id"], "action": "add", "quantity": i.get("quantity", 1), "productOffering": i["productOffering"],
             "product": {k: v for k, v in (i.get("product") or {}).items() if k == "productCharacteristic"}}
            for i in cart.get("cartItem") or [] if i.get("status", "active") == "active"]


def _offerings(items: list[dict[str, Any]], customer: _Customer, channel: str | None) -> dict[str, dict[str, Any]]:
    """The offering of every item: on sale in this channel for an add (422 otherwise), the one the
    changed product came from for a modify or delete."""
    out = {}
    for n, item in enumerate(items):
        try:
            out[item["id"]] = _offering(n, item, customer, channel)
        except ApiError as exc:
            exc.items = exc.items or (item["id"],)
            raise
    return out


def _offering(n: int, item: Mapping[str, Any], customer: _Customer, channel: str | None) -> dict[str, Any]:
    oid = (item.get("productOffering") or {}).get("id")
    if item["action"] == "add" and not oid:
        raise bad_request(f"productOrderItem.{n}: an add names the productOffering to add")
    if oid:
        found = rules.offering_for_sale(oid, channel) if item["action"] == "add" else catalogue.offering(oid)
    else:
        held = customer.held.get(item["product"]["id"])
        if held is None:
            raise unprocessable(f"productOrderItem.{n}: product {item['product']['id']} is not one the customer "
                                "holds", "unknownProduct")
        found = catalogue.offering((held.get("productOffering") or {}).get("id", ""))
    if found is None:
        raise unprocessable(f"productOrderItem.{n}: its productOffering is no longer in the catalogue",
                            "unknownOffering")
    return found


@dataclasses.dataclass(frozen=True)
class Sale:
    """The facts an order is qualified with. From a basket: its postcode and the checkout channel,
    with the customer facts and channel the basket was last qualified with (`basket_*`), so a
    fact that changed since is named in the refusal, never silently swapped."""
    channel: str | None
    postcode: str | None = None
    basket_channel: str | None = None
    basket_profile: Mapping[str, Any] | None = None


def _qualify(items: list[dict[str, Any]], offerings: Mapping[str, dict[str, Any]], customer: _Customer,
             sale: Sale) -> None:
    """The central rules, as for a basket: every added item must qualify (422 with the reasons)."""
    added = [i for i in items if i["action"] == "add"]
    if not added:
        return
    # a business customer's items are qualified at their site (its postcode: serviceability)
    by_site: dict[str | None, list[dict[str, Any]]] = {}
    for item in added:
        by_site.setdefault(domain.site_of(item), []).append(item)
    results: dict[str, Mapping[str, Any]] = {}
    for site, group in by_site.items():
        place = customer_domain.site(customer.doc or {}, site) if site else None
        postcode = (place or {}).get("postCode") or sale.postcode
        found = rules.qualify_items([offerings[i["id"]] for i in group], rules.facts(sale.channel, customer.profile, postcode))
        results.update({i["id"]: r for i, r in zip(group, found)})
    refused = [(i, results[i["id"]]) for i in added if results[i["id"]]["result"] != rules_domain.QUALIFIED]
    if refused:
        why = "; ".join(f"item {i['id']} ({offerings[i['id']].get('name')}): "
                        + (", ".join(x.get("label") or x.get("code", "") for x in r["reasons"]) or r["result"])
                        for i, r in refused)
        changed = rules_domain.fact_changes(sale.basket_profile, customer.profile, sale.basket_channel, sale.channel,
                                            sale.postcode) if sale.basket_profile is not None else []
        error = (unprocessable(f"the order does not qualify: {why} (changed since the basket was qualified: "
                               f"{'; '.join(changed)})", "factsChanged") if changed
                 else unprocessable(f"the order does not qualify: {why}", "notQualified"))
        error.items = tuple(i["id"] for i, _ in refused)
        raise error


def _priced(items: list[dict[str, Any]], offerings: Mapping[str, dict[str, Any]], channel: str | None,
            customer: _Customer | None = None, campaign_code: str | None = None
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Item prices and the order total from the catalogue (basket pricing) for a sale in `channel`
    (channel prices), never the caller's;
    and each added item's unit prices in short (pricing.agreed), to compare with the basket's.
    A `modify` item naming promotions (itemPrice references) is priced with them, from the
    catalogue; a modify/delete before the product's contract ends carries its early termination
    fee, or the rule that waives it (central rules), as a one-off item price."""
    lines = [{"id": i["id"], "quantity": i.get("quantity") or 1, "status": "active" if i["action"] == "add" else "x",
              "productOffering": {"id": offerings[i["id"]]["id"]}} for i in items]
    bundle_ids = [r["bundle"]["id"] for r in rules.bundle_rules()]
    buyer = pricing.buyer(channel, customer.profile if customer else None, campaign_code, tmf.now())
    priced, totals = pricing.price_basket(lines, {o["id"]: o for o in offerings.values()}, catalogue, channel,
                                          bundle_ids, buyer)
    held = customer.held if customer else {}
    fees = rules.early_fees(items, held, campaign_code)
    out, now, at = [], {}, tmf.now_iso()
    for n, (item, line) in enumerate(zip(items, priced)):
        offering = offerings[item["id"]]
        asked = domain.promotions_asked(item, f"productOrderItem.{n}") if item["action"] == "modify" else []
        done = {k: v for k, v in item.items() if k not in domain.ITEM_COMPUTED}
        done.update({"quantity": line["quantity"], "@type": "ProductOrderItem",
                     "productOffering": rules_domain.offering_ref(offering)})
        if item["action"] == "add":
            done["itemPrice"] = [domain.order_price(p) for p in line["itemPrice"]]
            done["itemTotalPrice"] = [domain.order_price(p) for p in line["ItemTotalPrice"]]
            now[item["id"]] = pricing.agreed(line["itemPrice"])
        elif asked:
            _check_promotions(n, asked, offering, held.get(item["product"]["id"]) or {}, at, channel)
            done["itemPrice"] = [domain.order_price(p)
                                 for p in pricing.promotion_prices(offering, catalogue, channel, asked)]
        if item["id"] in fees:
            done["itemPrice"] = [*done.get("itemPrice", []), domain.order_price(fees[item["id"]])]
        if offering.get("productOfferingTerm"):
            done["itemTerm"] = domain.item_terms(offering)
        out.append(done)
    return out, domain.with_fees([domain.order_price(p) for p in totals], fees.values()), now


def _check_promotions(n: int, asked: list[str], offering: Mapping[str, Any], product: Mapping[str, Any],
                      at: str, channel: str | None) -> None:
    """Promotions a modify item may add: those the catalogue relates to the product's offering's
    prices, not running on it already (422 otherwise)."""
    offered = pricing.promotions_offered(offering, catalogue, channel)
    unknown = [p for p in asked if p not in offered]
    if unknown:
        raise unprocessable(f"productOrderItem.{n}: {', '.join(unknown)} is not a promotion of "
                            f"{offering.get('name') or offering['id']} (offered: {', '.join(sorted(offered)) or 'none'})",
                            "promotionNotOffered")
    running = [p for p in asked if domain.promotion_running(product, p, at)]
    if running:
        raise unprocessable(f"productOrderItem.{n}: product {product.get('id')} has {', '.join(running)} already",
                            "promotionHeld")
    customer_id = inventory_domain.customer_of(product)
    for order in store.by_owner(customer_id) if customer_id else []:   # one Query, only for a promotion
        ordered = [p for p in asked if p in domain.promotions_ordered(order, product.get("id") or "")]
        if ordered:
            raise unprocessable(f"productOrderItem.{n}: order {order['id']}, not finished yet, adds "
                                f"{', '.join(ordered)} to product {product.get('id')} already", "promotionHeld")


def _check_prices(cart: Mapping[str, Any], now: Mapping[str, list[dict[str, Any]]], accepted: Any) -> None:
    """A price that changed since the item was added (or the basket approved) is shown, not
    charged: 409 priceChanged with the prices then and now and `acceptPriceChange`, the token to
    send back with the order to accept exactly these prices."""
    changes = domain.price_changes(cart.get("cartItem") or [], now)
    if not changes:
        return
    token = domain.price_change_token(changes)
    if accepted == token:
        return
    names = ", ".join(f"{c['name']}" for c in changes)
    message = (f"the price of {names} changed since it was put in the basket: review the new prices and send the "
               f"order again with \"acceptPriceChange\": \"{token}\" to accept them")
    raise Conflict(message, "priceChanged", body={
        "code": "priceChanged", "reason": "Conflict", "message": message, "status": "409", "@type": "Error",
        "priceChange": changes, "acceptPriceChange": token}, items=tuple(c["cartItem"]["id"] for c in changes))


def _checkout_basket(basket: basket_store.Stored | None, cart_ref: Mapping[str, Any], caller: Caller,
                     only_approved: bool, approving: int | None) -> tuple[basket_store.Stored, str | None]:
    """The basket to order and the channel it is checked out in. An approved basket is ordered by
    its customer, an agent or the platform; an active one by its customer herself (self-service);
    one awaiting approval by its customer approving that version (`approving`: approval and order
    are one write); an anonymous visitor identifies first (422)."""
    if basket is None or not basket_domain.readable(basket.doc, caller.role, caller.customer_id):
        raise not_found("shoppingCart", cart_ref["id"])
    status = basket_domain.effective_status(basket.doc, tmf.now())
    if only_approved and status != basket_domain.APPROVED:
        raise conflict(f"shoppingCart {cart_ref['id']} is {status}, no longer approved", "basketNotApproved")
    if approving is not None:
        if status != basket_domain.AWAITING or basket.version != approving or caller.role != "customer":
            raise conflict(f"shoppingCart {cart_ref['id']} changed since it was handed back (it is {status})",
                           "basketChanged")
        # she approves the prices the approval email showed her: those are agreed
        items = [{**i, "agreedPrice": pricing.agreed(i.get("itemPrice"))} for i in basket.doc.get("cartItem") or []]
        return dataclasses.replace(basket, doc={**basket.doc, "cartItem": items}), caller.channel
    if status == basket_domain.AWAITING:   # only she orders it, by approving the version she was sent
        raise unprocessable(f"shoppingCart {cart_ref['id']} awaits the customer's approval: she approves and "
                            "orders it by the link she was sent", "needsApproval")
    if status not in (basket_domain.APPROVED, basket_domain.ACTIVE):
        raise conflict(f"shoppingCart {cart_ref['id']} is {status}: it cannot be ordered as it stands",
                       "basketNotOrderable")
    if status == basket_domain.ACTIVE and caller.role != "customer":
        raise unprocessable(f"shoppingCart {cart_ref['id']} is active: the customer checks it out herself, or "
                            "approves it after an agent hands it back (awaitingApproval)", "needsApproval")
    channel = caller.channel if caller.role == "customer" and status == basket_domain.ACTIVE else \
        (basket.doc.get("context") or {}).get("currentChannel") or caller.channel
    return basket, channel


def create(body: Mapping[str, Any], caller: Caller, journey_key: str | None = None,
           only_approved: bool = False, approving: int | None = None) -> tuple[dict[str, Any], int, bool]:
    """A new order (doc, version, created). From `shoppingCart` (the customer's active basket:
    self-service checkout; or an approved one) or from `productOrderItem`; the same basket
    ordered twice is the same order (created False). `only_approved`: the platform ordering an
    approval (409 basketNotApproved when the basket is no longer approved); `approving`: the
    customer approves basket version N by the emailed link and it is ordered in the same write."""
    customer_access.check_roles(caller, *CAPTURERS)
    customer_domain.validate_payload("productOrder", schemas.ProductOrder, body)
    if caller.role == "channel":
        raise unprocessable("identify first: an order is placed for a known customer (log in, then order the basket "
                            "with the customer's token)", "identifyFirst")
    # TMF648: an accepted quote is ordered at its agreed prices (chalicelib/quote, order_checkout)
    quoted = quotes.order_checkout(body, caller, href) if body.get("quote") else None
    if quoted is not None:
        existing = store.load(quoted.order_id)
        if existing is not None:   # ordered before: that order
            return existing.doc, existing.version, False
        body = quoted.body
    cart_ref, basket = body.get("shoppingCart"), None
    accepted = body.get("acceptPriceChange")
    if accepted is not None and not cart_ref:
        raise bad_request("acceptPriceChange accepts the new prices of a basket's items: order a shoppingCart")
    if cart_ref:
        if body.get("productOrderItem"):
            raise bad_request("an order is made from a shoppingCart or from productOrderItem, not both")
        rid = basket_order_id(cart_ref["id"])
        basket = basket_store.load(cart_ref["id"])
        if basket is None or basket.doc.get("status") == basket_domain.ORDERED:   # ordered before: that order
            existing = store.load(rid)
            if existing is not None and (caller.role != "customer"
                                         or domain.customer_of(existing.doc) == caller.customer_id):
                return existing.doc, existing.version, False
        basket, channel = _checkout_basket(basket, cart_ref, caller, only_approved, approving)
        items = _basket_items(basket.doc)
        customer_id = basket_domain.customer_of(basket.doc)
        context = basket.doc.get("context") or {}
        journey_key = journey_key or context.get("journeyKey")
        sale = Sale(channel, basket_domain.postcode_of(basket.doc), context.get("currentChannel"),
                    (basket.facts or {}).get("customer") or {})
    else:
        rid, items = quoted.order_id if quoted else tmf.new_id(), [dict(i) for i in body.get("productOrderItem") or []]
        customer_id = _named_customer(body, caller)
        channel = caller.channel
        sale = Sale(channel)
    if not items:
        raise bad_request("an order needs at least one productOrderItem (or a shoppingCart with active items)")
    domain.check_items(items)
    customer = _Customer(customer_id)
    customer_domain.check_sites(items, customer.doc, "productOrderItem")   # its sites: 422 unknownSite
    items += domain.replaced_items(items, catalogue.offering, customer.held)
    at = tmf.now_iso()
    parties = [p for p in body.get("relatedParty") or [] if str(p.get("role", "")).lower() != "customer"]
    parties = ([customer.party()] if customer.id else []) + [dict(p) for p in parties]
    if caller.party_id:   # a business customer's contact placed it: who, for the audit trail
        parties.append({"id": caller.party_id, "role": "orderedBy", "@referredType": "Individual"})
    if not all(domain.needs_catalogue(i) for i in items):
        # TMF622 only asks for id and action; an item naming neither an offering nor a product held
        # cannot be fulfilled: the order fails its consistency check and is recorded rejected.
        vague = [i["id"] for i in items if not domain.needs_catalogue(i)]
        doc = domain.new_order(body, rid, href(rid), at, parties, items, [], domain.REJECTED,
                               f"rejected: item(s) {', '.join(vague)} name no productOffering or product")
    else:
        offerings = _offerings(items, customer, channel)
        _qualify(items, offerings, customer, sale)
        campaign_code = ((basket.doc.get("context") or {}) if basket else {}).get("campaignCode")
        items, totals, now = _priced(items, offerings, channel, customer, campaign_code)
        if basket is not None:
            _check_prices(basket.doc, now, accepted)
        domain.parts(items, catalogue.offering, catalogue.specification, customer.held, routing(),
                     customer.address("country"), customer.brand)   # routable now, or 422
        # credit check (chalicelib/credit): 422 creditRefused / lineLimitExceeded, or a Deposit price
        items, totals = credit.order_checkout(customer.id, customer.doc, items, offerings, customer.held, totals)
        doc = domain.new_order(body, rid, href(rid), at, parties, items, totals)
    doc.pop("shoppingCart", None)
    doc.pop("acceptPriceChange", None)
    if cart_ref:
        doc["shoppingCart"] = {"id": cart_ref["id"], "href": basket_service.href(cart_ref["id"]),
                               "@referredType": basket_domain.TYPE}
    if channel and not doc.get("channel"):
        doc["channel"] = [{"id": channel, "name": channel, "role": "order capture"}]
    if journey_key:
        doc["journeyKey"] = journey_key
    doc["attribution"] = domain.attribution(basket.doc if basket else None, caller.role, caller.sub, channel)
    also: list[Any] = [basket_service.ordered_write(basket, channel)] if basket else []
    if quoted is not None and doc["state"] != domain.REJECTED:   # the quote's prices; it is marked ordered
        doc = quoted.priced(doc)
        also.append(quoted.write)
    order_ref = {"id": rid, "href": doc["href"]}
    hold = stock.order_hold(order_ref, items, customer.id, channel) if doc["state"] != domain.REJECTED else None
    if hold:   # handsets: their reservation is written with the order (409 insufficientStock if short)
        also.append(hold[1])
    booked = appointments.order_checkout(order_ref, doc["productOrderItem"], customer.id, catalogue.offering,
                                         catalogue.specification) if doc["state"] != domain.REJECTED else None
    if booked:   # installation slots: confirmed with the order (422 appointmentRequired if an item has none)
        doc["productOrderItem"], confirm = booked
        also.append(confirm)
    also += payment.order_window(doc)   # one-off charges: paid within the payment window, or released
    try:
        version = store.insert(doc, also)
    except store.StaleVersion:
        existing = store.load(rid)
        if existing is not None:
            return existing.doc, existing.version, False
        if hold:
            stock.order_hold(order_ref, items, customer.id, channel)   # 409 insufficientStock if a stock emptied
        if booked:   # 422 appointmentNotHeld if a booking was cancelled or used meanwhile
            appointments.order_checkout(order_ref, doc["productOrderItem"], customer.id, catalogue.offering,
                                        catalogue.specification)
        raise conflict(f"shoppingCart {cart_ref['id'] if cart_ref else ''} changed while it was being ordered; "
                       "read it and submit again", "basketChanged") from None
    logger.info("order captured", extra={"orderId": rid, "by": caller.role, "items": len(items),
                                         "state": doc["state"], "journey_key": journey_key,
                                         "selfService": bool(basket) and doc["attribution"]["selfService"]})
    return doc, version, True


# --- reads ----------------------------------------------------------------------------------------
def _visible(order_id: str, caller: Caller) -> store.Stored:
    customer_access.check_roles(caller, *USERS)
    found = store.load(order_id)
    if found is None or (caller.role == "customer" and domain.customer_of(found.doc) != caller.customer_id):
        raise not_found(domain.RESOURCE, order_id)
    return found


def read(order_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    found = _visible(order_id, caller)
    return found.doc, found.version


def search(params: Mapping[str, str], caller: Caller, kind: str = domain.RESOURCE) -> tuple[list[dict[str, Any]], int]:
    customer_access.check_roles(caller, *USERS)
    model = schemas.ProductOrder if kind == domain.RESOURCE else schemas.CancelProductOrder
    q = tmf.list_query(params, tmf.attributes(kind, "TMF622", model.__name__, [model]))
    wanted = params.get("id")
    if wanted and "," not in wanted:
        found = store.load(wanted)
        docs = [found.doc] if found and found.doc.get("@type") in (domain.TYPE, domain.CANCEL_TYPE) else []
    elif caller.role == "customer":
        docs = store.by_owner(caller.customer_id or "")
    else:
        docs = store.by_kind(kind)
    if caller.role == "customer":
        docs = [d for d in docs if domain.customer_of(d) == caller.customer_id]
    wanted_type = domain.TYPE if kind == domain.RESOURCE else domain.CANCEL_TYPE
    items, total = tmf.page([d for d in docs if d.get("@type") == wanted_type and tmf.matches(d, q.filters)],
                            q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


def orders_in_flight(customer_id: str, limit: int) -> list[dict[str, Any]]:
    """For the 360 view: the customer's newest `limit` orders not finished yet, summarised (one
    Query on the sparse open-by-owner index: finished orders are not read)."""
    return [{"id": d["id"], "href": d["href"], "state": d["state"], "orderDate": d["orderDate"],
             "itemCount": len(d.get("productOrderItem") or []), "orderTotalPrice": d.get("orderTotalPrice"),
             "@referredType": domain.TYPE}
            for d in store.in_flight(customer_id, limit) if domain.in_flight(d)]


# --- writes that follow the stacks --------------------------------------------------------------
def _change(order_id: str, mutate: Callable[[store.Stored, str], dict[str, Any] | None]) -> tuple[store.Stored, dict[str, Any]]:
    """db.change on an order, retried when someone else wrote first. Returns (the order as read,
    as written); mutate returning None (or the same order) writes nothing."""
    read: list[store.Stored] = []

    def load() -> tuple[store.Stored, int]:
        found = store.load(order_id)
        if found is None:
            raise not_found(domain.RESOURCE, order_id)
        read[:] = [found]
        return found, found.version

    def changed(found: store.Stored, _version: int) -> dict[str, Any] | None:
        new = mutate(found, tmf.now_iso())
        return None if new is None or new == found.doc else new

    def write(new: dict[str, Any], version: int) -> int:
        return store.replace(new, version, token=read[0].token, dispatched=read[0].dispatched)

    result, _ = db.change(f"productOrder {order_id}", load, changed, write, attempts=settings.order_write_attempts())
    return read[0], (result.doc if isinstance(result, store.Stored) else result)


def appointment_changed(order_id: str, ref: Mapping[str, Any]) -> int:
    """An engineer's visit of this order was moved or cancelled (chalicelib/appointment): the
    items carrying it, in the order and its child orders, get its new reference; a child order its
    stack has already gets a TMF622 change from the order stream (amended_child), so the stack
    learns the new time. Safe to repeat (an item already carrying `ref` is not written again).
    How many orders changed."""
    def carry(found: store.Stored, at: str) -> dict[str, Any] | None:
        items = found.doc.get("productOrderItem") or []
        if not any((i.get("appointment") or {}).get("id") == ref["id"] and i["appointment"] != ref for i in items):
            return None
        return {**found.doc, "lastUpdate": at, "productOrderItem": [
            {**i, "appointment": dict(ref)} if (i.get("appointment") or {}).get("id") == ref["id"] else i
            for i in items]}

    changed = 0
    parent = store.load(order_id)
    for oid in [order_id, *(domain.children_of(parent.doc) if parent else [])]:
        before, after = _change(oid, carry)
        changed += after != before.doc
    return changed


def refresh_parent(parent_id: str) -> dict[str, Any]:
    """The parent order's state and item states follow its children's (TMF622)."""
    def mutate(found: store.Stored, at: str) -> dict[str, Any] | None:
        children = store.load_many(domain.children_of(found.doc))
        if not children:
            return None
        if found.doc.get("state") in (domain.CANCELLED, domain.REJECTED):
            return None
        return domain.follow_children(found.doc, [c.doc for c in children.values()], at)

    return _change(parent_id, mutate)[1]


def _resume(token: str | None, state: str) -> None:
    """Let the workflow step waiting on a child order go on (Step Functions callback pattern)."""
    if not token:
        return
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps({"state": state}))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        logger.info("the workflow no longer waits on this child order", extra={"state": state})


def stack_event(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """A stack's ProductOrderStateChangeEvent for a child order it fulfils (listener)."""
    require(caller, "stack")
    customer_domain.validate_payload("productOrderStateChangeEvent", schemas.OrderEvent, body)
    reported = body["event"]["productOrder"]
    child_id = reported["id"]
    found = store.load(child_id)
    stack = domain.stack_of(found.doc) if found else None
    if found is None or stack is None or caller.stack is None or caller.stack != stack:
        raise not_found(domain.RESOURCE, child_id)   # not a child order of the token's stack (not its sub)
    before, after = _change(child_id, lambda f, at: domain.apply_report(f.doc, reported, at))
    if after.get("state") in domain.FINAL:
        # also on a repeated report: the first may have been written but not resumed (a crash)
        _resume(before.token, after["state"])
    logger.info("stack milestone", extra={"orderId": child_id, "stack": stack, "state": after.get("state")})
    parent = domain.parent_of(after)
    if parent:
        refresh_parent(parent)
    return after


# --- cancellation -------------------------------------------------------------------------------
def _cancel_child(child_id: str, reason: str | None) -> bool:
    """Cancel a child order before its point of no return; False when it is past it."""
    def mutate(found: store.Stored, at: str) -> dict[str, Any] | None:
        return domain.cancelled(found.doc, at, reason) if domain.cancellable(found.doc) else None

    before, after = _change(child_id, mutate)
    if after is before.doc:          # nothing written: past its point of no return, or cancelled before
        return after.get("state") == domain.CANCELLED
    if before.dispatched:
        _to_stack(after, "cancel")
    _resume(before.token, domain.CANCELLED)
    return True


def cancel(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """cancelProductOrder: items before their point of no return are cancelled at their stacks,
    the rest carry on; the order ends cancelled or partial."""
    customer_domain.validate_payload("cancelProductOrder", schemas.CancelProductOrder, body)
    order = _visible(body["productOrder"]["id"], caller).doc
    if domain.parent_of(order):
        raise unprocessable("this is a child order; cancel the order it is part of", "childOrder")
    if order.get("state") in domain.FINAL:
        raise unprocessable(f"productOrder {order['id']} is {order['state']}: it can no longer be cancelled",
                            "orderFinished")
    rid, at = tmf.new_id(), tmf.now_iso()
    reason = body.get("cancellationReason")
    request = {"id": rid, "href": cancel_href(rid), "@type": domain.CANCEL_TYPE, "state": "acknowledged",
               "creationDate": at, "cancellationReason": reason,
               "requestedCancellationDate": body.get("requestedCancellationDate") or at,
               "productOrder": {"id": order["id"], "href": order["href"], "@referredType": domain.TYPE},
               "relatedParty": [p for p in order.get("relatedParty") or [] if p.get("role") != domain.FULFILMENT_ROLE]}
    request = {k: v for k, v in request.items() if v is not None}
    store.insert(request, kind=domain.CANCEL_RESOURCE)
    children = domain.children_of(order)
    if not children:   # not decomposed yet: the workflow finds it cancelled and stops
        _change(order["id"], lambda f, now: domain.cancelled(f.doc, now, reason) if not domain.children_of(f.doc)
                and f.doc.get("state") not in domain.FINAL else None)
    results = {c: _cancel_child(c, reason) for c in children}
    final = refresh_parent(order["id"]) if children else _visible(order["id"], caller).doc
    if final.get("state") == domain.CANCELLED:
        stock.release_order(order["id"])   # the handsets its checkout held go back (once)
        appointments.release_order(final)   # its installation slots are freed (once)

        payment.refund_order(order["id"])  # what its payment took goes back (once)
    done = {**request, "state": "done", "effectiveCancellationDate": tmf.now_iso()}
    if children and not all(results.values()):
        done["description"] = (f"{sum(results.values())} of {len(results)} child orders cancelled; the others were "
                               "past their point of no return and carry on")
    store.replace(done, 1, kind=domain.CANCEL_RESOURCE)
    logger.info("order cancellation", extra={"orderId": order["id"], "state": final.get("state"),
                                             "cancelled": sum(results.values()), "children": len(results)})
    return done


def read_cancellation(rid: str, caller: Caller) -> dict[str, Any]:
    customer_access.check_roles(caller, *USERS)
    found = store.load(rid)
    if found is None or found.doc.get("@type") != domain.CANCEL_TYPE or (
            caller.role == "customer" and domain.customer_of(found.doc) != caller.customer_id):
        raise not_found(domain.CANCEL_RESOURCE, rid)
    return found.doc


# --- amendment in flight: cancel items, add items (PATCH productOrder/{id}) ---------------------
AMENDABLE_FIELDS = {"productOrderItem", "@type", "@baseType", "@schemaLocation"}


class _Amending(NamedTuple):
    """An amendment planned on one read of the order, ready to write (store.write_amendment)."""
    plan: domain.Amendment
    changed: list[tuple[dict[str, Any], store.Stored]]   # each changed child order, as read
    also: list[Any]                                      # the installation slots it confirms
    added: int
    cancelled: int


def amend(order_id: str, body: Mapping[str, Any], caller: Caller,
          if_match: str | None = None) -> tuple[dict[str, Any], int]:
    """Amend an order in flight: its productOrderItem list as the caller wants it, where an item
    set to `cancelled` is cancelled (up to its point of no return, data/cancellation.json) and a
    new item is added (qualified and priced like a new order's). Only the difference is
    decomposed; the parent, the child orders it changes and those it creates are written in one
    transaction; the stacks hear of it and the customer gets one SMS from the order stream
    (functions/order_events.py). The same request again changes nothing."""
    first = _visible(order_id, caller)    # another customer's order is not found, whatever the body
    customer_domain.validate_payload("productOrder", schemas.ProductOrderAmendment, body)
    other = sorted(set(body) - AMENDABLE_FIELDS)
    if other:
        raise unprocessable(f"only productOrderItem can change on an order in flight, not {', '.join(other)}",
                            "notAmendable")
    expected = tmf.parse_if_match(if_match)
    rules_now = domain.default_cancel_rules()
    loaded: list[store.Stored] = []

    def load() -> tuple[store.Stored, int]:
        found = first if not loaded else _visible(order_id, caller)
        loaded[:] = [found]
        return found, found.version

    def mutate(found: store.Stored, version: int) -> _Amending | None:
        parent = found.doc
        if domain.parent_of(parent):
            raise unprocessable("this is a child order; amend the order it is part of", "childOrder")
        cancel_ids, added = domain.amendment_request(parent.get("productOrderItem") or [], body["productOrderItem"])
        if not cancel_ids and not added:
            return None                               # as asked already (a repeat): nothing to do
        if parent.get("state") not in domain.AMENDABLE:
            raise unprocessable(f"productOrder {order_id} is {parent.get('state')}: it can no longer be amended",
                                "orderFinished" if parent.get("state") in domain.FINAL else "notAmendable")
        parts: list[domain.Part] = []
        confirm = None   # the amendment's installation slots confirmed in its transaction
        if added:
            if not domain.children_of(parent):
                # Not split for its stacks yet: decompose would see the new items' child orders
                # and take the order as decomposed, leaving its first items unsent.
                raise conflict(f"productOrder {order_id} is still being split for its stacks; add items in a "
                               "moment", "notDecomposedYet")
            customer = _Customer(domain.customer_of(parent))
            offerings = _offerings(added, customer, caller.channel)
            _qualify(added, offerings, customer, Sale(caller.channel))
            added, _, _ = _priced(added, offerings, caller.channel, customer)   # promotions held and fees: as for a new order
            # credit check (chalicelib/credit): 422 creditRefused / lineLimitExceeded; a deposit is an item price only
            added, _ = credit.order_checkout(customer.id, customer.doc, added, offerings, customer.held, [])
            # installation slots (chalicelib/appointment): 422 appointmentRequired / appointmentNotHeld
            booked = appointments.order_checkout({"id": order_id, "href": href(order_id)}, added, customer.id,
                                                 catalogue.offering, catalogue.specification)
            added, confirm = booked or (added, None)
            parts = domain.parts(added, catalogue.offering, catalogue.specification, customer.held, routing(),
                                 customer.address("country"), customer.brand)   # routable now, or 422
        children = store.load_many(domain.children_of(parent))
        try:
            plan = domain.amend(parent, {c: s.doc for c, s in children.items()}, cancel_ids, added, parts,
                                rules_now, tmf.now_iso(), href, "amended by the customer" if caller.role == "customer"
                                else f"amended by {caller.role}")
        except ApiError:
            # The children were read after the order: another amendment may have been written in
            # between (its cancelled items then look "already cancelled"). Judge it on a fresh read.
            again = store.load(order_id)
            if again is not None and again.version != version:
                raise store.StaleVersion() from None
            raise
        return _Amending(plan, [(doc, children[cid]) for cid, doc in plan.changed.items()],
                         [confirm] if confirm else [], len(added), len(cancel_ids))

    def write(new: _Amending, version: int) -> int:
        return store.write_amendment(new.plan.parent, version, new.changed, new.plan.created, also=new.also)

    result, version = db.change(f"productOrder {order_id}", load, mutate, write, expected=expected,
                                attempts=settings.order_write_attempts(), shown=lambda found: found.doc)
    if isinstance(result, store.Stored):
        return result.doc, version
    logger.info("order amended", extra={"orderId": order_id, "amendment": result.plan.record["id"],
                                       "added": result.added, "cancelled": result.cancelled,
                                       "childOrders": result.plan.record["childOrder"]})
    return result.plan.parent, version


def amended_child(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str | None:
    """From the order stream: a child order an amendment made goes to its stack (`create`; no
    workflow waits on it), one it changed gets a TMF622 change (or cancel, when all its items
    were cancelled) once its stack has it; a workflow waiting on a child now final goes on.
    A replayed record sends the child order as it stands again: stacks take that idempotently."""
    found = store.load(new["id"])
    if found is None:
        return None
    doc = found.doc
    if old is None:
        if doc.get("state") != domain.ACKNOWLEDGED or found.dispatched:
            return None
        _to_stack(doc, "create")
        store.mark_dispatched(doc["id"])
        return "create"
    action = None
    if found.token or found.dispatched:
        action = "cancel" if doc.get("state") == domain.CANCELLED else "change"
        _to_stack(doc, action)
    if doc.get("state") in domain.FINAL:
        _resume(found.token, doc["state"])
    return action


def notify_amendment(order: Mapping[str, Any]) -> bool:
    """The one SMS an amendment sends (named after the order and the amendment: never twice)."""
    record, customer_id = (order.get("amendment") or [None])[-1], domain.customer_of(order)
    if not record or not customer_id:
        return False
    message_id = f"order-{order['id']}-amendment-{record['id']}"
    return workflows.start_once(NOTIFY_WORKFLOW, message_id, {
        "messageId": message_id, "customerId": customer_id, "purpose": "service",
        "content": {"sms": domain.amendment_text(order, record)}, "channels": ["sms"],
        "fields": {"orderId": order["id"], "status": order.get("state")},
        "journeyKey": order.get("journeyKey"), "reason": f"order amendment {record['id']} SMS",
        "related": [{"id": order["id"], "href": order.get("href"), "@referredType": domain.TYPE}]})


# --- the workflow's tasks -----------------------------------------------------------------------
def _to_stack(child: Mapping[str, Any], action: str) -> None:
    stack = domain.stack_of(child) or ""
    url = settings.queue_url(f"stack-{stack}")
    if url is None:
        raise RuntimeError(f"no queue is configured for stack {stack}")
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"action": action, "orderId": child["id"],
                                                                          "stack": stack}))


def _child_ids(parent_id: str, plans: list[domain.ChildPlan]) -> dict[str, str]:
    return {plan.key: f"{parent_id}-{n + 1}" for n, plan in enumerate(plans)}


def decompose(order_id: str) -> dict[str, Any]:
    """Child orders for the order (written once with the parent, all or nothing), and the waves
    the workflow sends them in. Safe to repeat: a decomposed order returns its plan again."""
    found = store.load(order_id)
    if found is None:
        raise not_found(domain.RESOURCE, order_id)
    parent = found.doc
    if parent.get("state") in domain.FINAL:
        return {"waves": []}
    if domain.children_of(parent):   # decomposed before (a retry, a restart): the child orders as written
        return {"waves": domain.waves_of([c.doc for c in store.load_many(domain.children_of(parent)).values()])}
    held = {}
    customer_id = domain.customer_of(parent)
    customer = _Customer(customer_id) if customer_id else None
    if customer:
        held = customer.held
    live = [i for i in parent["productOrderItem"] if i.get("state") != domain.CANCELLED]   # amended away
    parts = domain.parts(live, catalogue.offering, catalogue.specification, held, routing(),
                         customer.address("country") if customer else None, customer.brand if customer else None)
    plans = domain.decompose(parts, routing())
    ids = _child_ids(order_id, plans)
    waves = [[ids[k] for k in wave] for wave in domain.waves(plans)]
    at = tmf.now_iso()
    children = [domain.child_order(parent, plan, ids[plan.key], href(ids[plan.key]), at,
                                   [domain.relationship(ids[d], href(ids[d]), "dependsOn") for d in plan.depends_on])
                for plan in plans]
    relations = [domain.relationship(c["id"], c["href"], "child") for c in children]
    linked = [*(parent.get("orderRelationship") or []), *relations]
    new_parent = domain.follow_children({**parent, "orderRelationship": linked}, children, at)
    try:
        store.write_children(new_parent, found.version, children)
    except store.StaleVersion:
        return decompose(order_id)   # changed meanwhile (cancelled, or decomposed by a retry)
    logger.info("order decomposed", extra={"orderId": order_id, "children": len(children),
                                           "stacks": sorted({p.stack for p in plans})})
    return {"waves": waves}


def prepare(child_id: str) -> dict[str, Any]:
    """Before a child order goes to its stack: still wanted, and what it waits for completed?"""
    found = store.load(child_id)
    if found is None:
        raise not_found(domain.RESOURCE, child_id)
    if found.doc.get("state") != domain.ACKNOWLEDGED:
        return {"go": False, "state": found.doc.get("state")}
    waits = [r["id"] for r in found.doc.get("orderRelationship") or [] if r.get("relationshipType") == "dependsOn"]
    blocked = [cid for cid, c in store.load_many(waits).items() if c.doc.get("state") != domain.COMPLETED]
    if blocked:
        _change(child_id, lambda f, at: domain.cancelled(f.doc, at, f"not sent: child order(s) {', '.join(blocked)} it "
                                                                   "waits for did not complete")
                if f.doc.get("state") == domain.ACKNOWLEDGED else None)
        refresh_parent(domain.parent_of(found.doc) or "")
        return {"go": False, "state": domain.CANCELLED}
    return {"go": True}


def dispatch(child_id: str, task_token: str) -> dict[str, Any]:
    """Send a child order to its stack's queue and leave the workflow waiting (callback pattern):
    the token is kept on the child order; the listener resumes the workflow when the stack
    reports a final state. A repeated call sends nothing twice."""
    try:
        first = store.set_token(child_id, task_token)
    except store.StaleVersion:
        raise not_found(domain.RESOURCE, child_id) from None
    found = store.load(child_id)
    assert found is not None
    if found.doc.get("state") in domain.FINAL:
        _resume(task_token, found.doc["state"])   # finished (or cancelled) before we waited
    elif first:
        _to_stack(found.doc, "create")
        store.mark_dispatched(child_id)
    return {"orderId": child_id, "sent": first}


def hold(child_id: str, seconds: Any) -> dict[str, Any]:
    """The stack never answered: the child order is held (an alarm watches the metric)."""
    def mutate(found: store.Stored, at: str) -> dict[str, Any] | None:
        if found.doc.get("state") in domain.FINAL:
            return None
        stack = domain.stack_of(found.doc)
        doc = domain.with_note(found.doc, at, f"{stack} did not finish this order within {seconds} s: held")
        return {**doc, "state": domain.HELD, "lastUpdate": at,
                "productOrderItem": [{**i, "state": i["state"] if i.get("state") in domain.FINAL else domain.HELD}
                                     for i in doc.get("productOrderItem") or []]}

    _, after = _change(child_id, mutate)
    logger.warning("child order held: its stack did not answer", extra={"orderId": child_id,
                                                                       "stack": domain.stack_of(after)})
    refresh_parent(domain.parent_of(after) or "")
    return {"orderId": child_id, "state": after.get("state")}


def child_failed(child_id: str, error: Any) -> dict[str, Any]:
    """The child order could not be handed to its stack at all."""
    _, after = _change(child_id, lambda f, at: None if f.doc.get("state") in domain.FINAL else {
        **domain.with_note(f.doc, at, f"could not be sent to its stack: {str(error)[:300]}"), "state": domain.FAILED,
        "completionDate": at, "lastUpdate": at,
        "productOrderItem": [{**i, "state": domain.FAILED} for i in f.doc.get("productOrderItem") or []]})
    refresh_parent(domain.parent_of(after) or "")
    return {"orderId": child_id, "state": after.get("state")}


def finish(order_id: str) -> dict[str, Any]:
    order = refresh_parent(order_id)
    state = order.get("state")
    if state == domain.COMPLETED:    # the handsets its checkout held have shipped
        stock.consume_order(order_id)
    elif state in (domain.FAILED, domain.CANCELLED):
        stock.release_order(order_id)
        appointments.release_order(order)   # its installation slots are freed (once)

        payment.refund_order(order_id)
    return {"orderId": order_id, "state": state}


def fail(order_id: str, error: Any) -> dict[str, Any]:
    """The order could not be decomposed (e.g. the catalogue or routing changed since capture)."""
    cause = (error or {}).get("Cause") if isinstance(error, Mapping) else error
    try:
        cause = json.loads(cause).get("errorMessage", cause) if isinstance(cause, (str, bytes)) else cause
    except (TypeError, ValueError, AttributeError):
        pass
    _, after = _change(order_id, lambda f, at: None if f.doc.get("state") in domain.FINAL else {
        **domain.with_note(f.doc, at, f"could not be decomposed: {str(cause)[:300]}"), "state": domain.FAILED,
        "completionDate": at, "lastUpdate": at,
        "productOrderItem": [{**i, "state": domain.FAILED} for i in f.doc.get("productOrderItem") or []]})
    if after.get("state") in (domain.FAILED, domain.CANCELLED):
        stock.release_order(order_id)   # the handsets its checkout held go back (once)
        appointments.release_order(after)   # its installation slots are freed (once)

        payment.refund_order(order_id)
    return {"orderId": order_id, "state": after.get("state")}


# --- from the stream ------------------------------------------------------------------------------
def start_workflow(order: Mapping[str, Any]) -> bool:
    """One workflow per order, named after it: a repeated start starts nothing. An order with
    one-off charges starts once its payment is authorized (chalicelib/payment calls this then)."""
    if not payment.order_paid(order):
        return False
    return workflows.start_once(WORKFLOW, order["id"], {"orderId": order["id"],
                                          "childTimeoutSeconds": settings.order_child_timeout_seconds()})


def payment_refused(order_id: str, message: str) -> None:
    """Its payment was declined or expired (chalicelib/payment): the order, not sent yet, stays
    `pending` with the reason in a note for the customer; its handsets and its engineers' slots
    go back (once: both releases are safe to repeat)."""
    _, after = _change(order_id, lambda f, at: {**domain.with_note(f.doc, at, message), "state": domain.PENDING,
                                                 "lastUpdate": at}
                       if f.doc.get("state") == domain.ACKNOWLEDGED and not domain.children_of(f.doc) else None)
    if after.get("state") == domain.PENDING:   # not already on its way to the stacks
        stock.release_order(order_id)
        appointments.release_order(after)


def restart_workflows() -> int:
    """Start the workflow of every top-level order not final again (the local runtime, after a
    restart: its executions did not survive). Each is named after its order and its tasks are
    safe to repeat, so an order whose workflow runs still is left alone. How many started."""
    in_flight = [o for o in store.by_kind(domain.RESOURCE)
                 if not domain.parent_of(o) and o.get("state") not in domain.FINAL]
    return sum(start_workflow(order) for order in in_flight)


def notify_milestone(order: Mapping[str, Any]) -> bool:
    """The customer's milestone message (consent and quiet hours are notify's): one per order and
    state, sent by a small workflow that waits out quiet hours. By SMS, or by email to a customer
    who takes no SMS (an organisation: to its technical contact, customer.domain.contact_address)."""
    text, customer_id = domain.milestone_text(order.get("state", "")), domain.customer_of(order)
    if not text or not customer_id:
        return False
    message_id = f"order-{order['id']}-{order['state']}"
    return workflows.start_once(NOTIFY_WORKFLOW, message_id, {
        "messageId": message_id, "customerId": customer_id, "purpose": "service", "content": {"sms": text, "email": text},
        "channels": ["sms", "email"], "fields": {"orderId": order["id"], "status": order["state"]},
        "journeyKey": order.get("journeyKey"), "reason": f"order {order['state']} message",
        "related": [{"id": order["id"], "href": order.get("href"), "@referredType": domain.TYPE}]})


def record_products(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> int:
    """Items of a child order that completed create or change the customer's products in the
    inventory (product ids derive from the customer's order and the item): safe to repeat."""
    parent_id = domain.parent_of(new)
    if not parent_id:
        return 0
    before = {i["id"]: i.get("state") for i in (old or {}).get("productOrderItem") or []}
    done = [i for i in new.get("productOrderItem") or []
            if i.get("state") == domain.COMPLETED and before.get(i["id"]) != domain.COMPLETED]
    parent = store.load(parent_id) if done else None
    if parent is None:
        return 0
    at = new.get("completionDate") or new.get("lastUpdate") or tmf.now_iso()
    return inventory.record_completed(parent.doc, done, domain.stack_of(new), at)
