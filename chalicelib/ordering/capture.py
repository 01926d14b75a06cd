"""TMF622 capture, called by the routes (and the recovery approvals): a new order from an
approved basket or from items (create), and an amendment in flight (amend). Glue between the
rules in domain.py, the store, the catalogue cache, the central rules, basket pricing, the
customer context, credit, stock, appointments and payment.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, NamedTuple

from chalicelib.view import ref_id
from chalicelib.actor import Actor
from chalicelib import credit, db, deferred, payment, rules, settings, stock, tmf
from chalicelib import appointment as appointments
from chalicelib import basket as baskets
from chalicelib import quote as quotes
from chalicelib.auth import Caller
from chalicelib.basket import domain as basket_domain
from chalicelib.basket import pricing
from chalicelib.customer import access as customer_access
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import ApiError, Conflict, bad_request, conflict, not_found, unprocessable
from chalicelib.inventory import domain as inventory_domain
from chalicelib.observability import logger
from chalicelib.ordering import domain, store
from chalicelib.ordering.service import CAPTURERS, Customer, basket_order_id, catalogue, href, routing, visible
from chalicelib.rules import domain as rules_domain

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.ordering.schemas")


# --- capture ------------------------------------------------------------------------------------
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
             "product": {k: v for k, v in (i.get("product") or {}).items() if k in ("productCharacteristic", "place")}}
            for i in cart.get("cartItem") or [] if i.get("status", "active") == "active"]


def _offerings(items: list[dict[str, Any]], customer: Customer, channel: str | None) -> dict[str, dict[str, Any]]:
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


def _offering(n: int, item: Mapping[str, Any], customer: Customer, channel: str | None) -> dict[str, Any]:
    oid = ref_id(item, "productOffering")
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


def _qualify(items: list[dict[str, Any]], offerings: Mapping[str, dict[str, Any]], customer: Customer,
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
            customer: Customer | None = None, campaign_code: str | None = None
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
            _check_promotions(n, asked, offering, held.get(item["product"]["id"]) or {}, at, channel, buyer.segment)
            done["itemPrice"] = [domain.order_price(p)
                                 for p in pricing.promotion_prices(offering, catalogue, channel, asked, buyer.segment)]
        if item["id"] in fees:
            done["itemPrice"] = [*done.get("itemPrice", []), domain.order_price(fees[item["id"]])]
        if offering.get("productOfferingTerm"):
            done["itemTerm"] = domain.item_terms(offering)
        out.append(done)
    return out, domain.with_fees([domain.order_price(p) for p in totals], fees.values()), now


def _check_promotions(n: int, asked: list[str], offering: Mapping[str, Any], product: Mapping[str, Any],
                      at: str, channel: str | None, segment: str | None) -> None:
    """Promotions a modify item may add: those the catalogue relates to the product's offering's
    prices, not running on it already (422 otherwise)."""
    offered = pricing.promotions_offered(offering, catalogue, channel, segment)
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


def _checkout_basket(basket: baskets.Stored | None, cart_ref: Mapping[str, Any], caller: Caller,
                     only_approved: bool, approving: int | None) -> tuple[baskets.Stored, str | None]:
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
        # she approves the prices the approval email showed her (the basket at that version): agreed
        return baskets.as_shown(basket), caller.channel
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
        basket = baskets.load(cart_ref["id"])
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
    customer = Customer(customer_id)
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
        doc["shoppingCart"] = {"id": cart_ref["id"], "href": baskets.href(cart_ref["id"]),
                               "@referredType": basket_domain.TYPE}
    if channel and not doc.get("channel"):
        doc["channel"] = [{"id": channel, "name": channel, "role": "order capture"}]
    if journey_key:
        doc["journeyKey"] = journey_key
    doc["attribution"] = domain.attribution(basket.doc if basket else None, Actor(caller.role, caller.sub, channel))
    also: list[Any] = [baskets.ordered_write(basket, channel)] if basket else []
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
    first = visible(order_id, caller)    # another customer's order is not found, whatever the body
    customer_domain.validate_payload("productOrder", schemas.ProductOrderAmendment, body)
    other = sorted(set(body) - AMENDABLE_FIELDS)
    if other:
        raise unprocessable(f"only productOrderItem can change on an order in flight, not {', '.join(other)}",
                            "notAmendable")
    expected = tmf.parse_if_match(if_match)
    rules_now = domain.default_cancel_rules()
    loaded: list[store.Stored] = []

    def load() -> tuple[store.Stored, int]:
        found = first if not loaded else visible(order_id, caller)
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
            customer = Customer(domain.customer_of(parent))
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
        return store.write_amendment(loaded[0], new.plan.parent, new.changed, new.plan.created, also=new.also)

    result, version = db.change(f"productOrder {order_id}", load, mutate, write, expected=expected,
                                attempts=settings.order_write_attempts(), shown=lambda found: found.doc)
    if isinstance(result, store.Stored):
        return result.doc, version
    logger.info("order amended", extra={"orderId": order_id, "amendment": result.plan.record["id"],
                                       "added": result.added, "cancelled": result.cancelled,
                                       "childOrders": result.plan.record["childOrder"]})
    return result.plan.parent, version
