"""Basket use cases: what the API, the stream consumer and other contexts call. Glue between the
basket's rules (domain.py), pricing (pricing.py), the central rules (chalicelib.rules),
the catalogue cache, the customer context and the store.

Every change is read - change - conditional write on the version. With If-Match a stale version
is 412 with the current basket; without, the change is applied again to the newer basket (item
changes name items by id, so nothing another channel added is lost), up to
OMNISHOP_BASKET_WRITE_ATTEMPTS times. Adding an item costs one GetItem and one PutItem; offerings,
prices, specifications and rules come from the catalogue cache; the customer facts the rules need
are kept with the basket and refreshed every OMNISHOP_BASKET_CUSTOMER_FACTS_SECONDS.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from chalicelib import catalog, db, deferred, rules, settings, tmf
from chalicelib import promotion as promotions
from chalicelib.actor import Actor
from chalicelib.auth import Caller
from chalicelib.basket import domain, pricing, store
from chalicelib.customer import access as customer_access
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import Invalid, Unprocessable, forbidden, not_found
from chalicelib.observability import logger
from chalicelib.rules import domain as rules_domain
from chalicelib.rules import places

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.basket.schemas")

USERS = ("customer", "channel", "agent")


def href(basket_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, basket_id)


def _check_caller(caller: Caller) -> None:
    customer_access.check_roles(caller, *USERS)


class CachedCatalogue:
    """The catalogue as pricing sees it: offerings and prices from the catalogue cache."""

    def offering(self, oid: str) -> dict[str, Any] | None:
        found = catalog.cache.get("productOffering", oid)
        return found[0] if found else None

    def price(self, pid: str) -> dict[str, Any] | None:
        found = catalog.cache.get("productOfferingPrice", pid)
        return found[0] if found else None

    def specification(self, sid: str) -> dict[str, Any] | None:
        found = catalog.cache.get("productSpecification", sid)
        return found[0] if found else None

    def promotions(self) -> list[dict[str, Any]]:
        """The active TMF671 promotions (chalicelib/promotion), which pricing evaluates."""
        return promotions.active()


catalogue: CachedCatalogue = CachedCatalogue()


# --- facts, items, prices -------------------------------------------------------------------
def _facts_record(doc: Mapping[str, Any], stored: Mapping[str, Any] | None, at: dt.datetime) -> dict[str, Any] | None:
    """The customer facts kept with a basket, refreshed when older than the configured age."""
    customer_id = domain.customer_of(doc)
    if customer_id is None:
        return None
    if stored and stored.get("customerId") == customer_id and stored.get("at"):
        age = (at - tmf.parse_datetime(stored["at"], "facts.at")).total_seconds()
        if 0 <= age < settings.basket_customer_facts_seconds():
            return dict(stored)
    return {"customerId": customer_id, "customer": rules.profile(customer_id), "at": tmf.iso(at)}


def _prepare_item(item: dict[str, Any], channel: str | None, new: bool, n: int) -> dict[str, Any]:
    """An added or changed item: its offering on sale here (added items), its characteristics
    allowed by the specification, and server-made references."""
    where = f"cartItem.{n}"
    oid = item["productOffering"]["id"]
    offering = rules.offering_for_sale(oid, channel) if new else catalogue.offering(oid)
    if offering is None:
        raise Unprocessable(f"{where}: productOffering {oid} is no longer in the catalogue",
                       "unknownOffering")
    spec_ref = offering.get("productSpecification") or {}
    spec = catalogue.specification(spec_ref["id"]) if spec_ref.get("id") else None
    given = ((item.get("product") or {}).get("productCharacteristic")) or []
    chars = domain.choose_characteristics(spec, given, where)
    product = {**(item.get("product") or {}), "productCharacteristic": chars, "@type": "Product"}
    if spec_ref.get("id"):
        product["productSpecification"] = {"id": spec_ref["id"], "name": spec_ref.get("name") or (spec or {}).get("name"),
                                           "@referredType": "ProductSpecification"}
    if not chars:
        product.pop("productCharacteristic")
    out = {**item, "productOffering": rules_domain.offering_ref(offering), "product": product}
    if offering.get("productOfferingTerm"):
        out["itemTerm"] = [{"name": t.get("name"), "duration": t.get("duration"), "@type": "CartTerm"}
                           for t in offering["productOfferingTerm"]]
    return out


def _recompute(doc: dict[str, Any], facts_rec: Mapping[str, Any] | None, channel: str | None) -> dict[str, Any]:
    """Prices from the catalogue for `channel` (channel prices) and every active item qualified by
    the central rules (with the same channel)."""
    items = doc.get("cartItem") or []
    offerings = {}
    for item in items:
        oid = item["productOffering"]["id"]
        offerings[oid] = catalogue.offering(oid) or {"id": oid, "name": item["productOffering"].get("name")}
    bundle_ids = [r["bundle"]["id"] for r in rules.bundle_rules()]
    buyer = pricing.buyer(channel, (facts_rec or {}).get("customer"), domain.Basket(doc).campaign_code,
                          tmf.now())
    priced, totals = pricing.price_basket(items, offerings, catalogue, channel, bundle_ids, buyer)
    active = [i for i in priced if i.get("status", "active") == "active"]
    fact = rules.facts(channel, (facts_rec or {}).get("customer"), domain.postcode_of(doc))
    results = rules.qualify_items([offerings[i["productOffering"]["id"]] for i in active], fact)
    by_id = {i["id"]: r for i, r in zip(active, results)}
    out_items = []
    for item in priced:
        item = {k: v for k, v in item.items() if k != "qualification"}
        if "agreedPrice" not in item:   # the price she saw when the item was added
            item["agreedPrice"] = pricing.agreed(item.get("itemPrice"))
        if item["id"] in by_id:
            item["qualification"] = {"qualificationItemResult": by_id[item["id"]]["result"],
                                     "eligibilityUnavailabilityReason": by_id[item["id"]]["reasons"]}
        out_items.append(item)
    overall = rules_domain.overall(r["result"] for r in results) if active else rules_domain.UNDETERMINED
    out = {k: v for k, v in doc.items() if k != "replacedItem"}
    replaced = _replaced(out, offerings)
    if replaced:
        out["replacedItem"] = replaced
    return {**out, "cartItem": out_items, "cartTotalPrice": totals, "qualificationResult": overall}


def _replaced(doc: Mapping[str, Any], offerings: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What ordering the basket will end, shown before she orders it (docs/decisions.md): a
    bundle in a known customer's basket replaces the products she holds that it supersedes,
    as the same `delete` items (ids, fee or waiver) checkout adds to the order
    (chalicelib/ordering/domain.py replaced_items, the central rules' early fees). Costs one
    inventory Query, only when an active item is a bundle."""
    from chalicelib import inventory   # as the rules read it
    from chalicelib.ordering import domain as ordering_domain

    customer_id = domain.customer_of(doc)
    items = [{"id": i["id"], "action": "add", "productOffering": {"id": i["productOffering"]["id"]}}
             for i in doc.get("cartItem") or [] if i.get("status", "active") == "active"]
    if not customer_id or not any((offerings.get(i["productOffering"]["id"]) or {}).get("bundledProductOffering")
                                  for i in items):
        return []
    held = {p["id"]: p for p in inventory.held(customer_id)}
    try:
        ends = ordering_domain.replaced_items(items, catalogue.offering, held)
    except Invalid:   # an item id the order reserves (a 400): checkout says so
        return []
    fees = rules.early_fees(ends, held, domain.Basket(doc).campaign_code)
    return [{"id": e["id"], "action": "delete", "product": e["product"],
             "productOffering": held[e["product"]["id"]].get("productOffering"),
             "itemPrice": [fees[e["id"]]] if e["id"] in fees else [],
             "cartItemRelationship": [{"id": r["id"], "relationshipType": r["relationshipType"]}
                                      for r in e.get("productOrderItemRelationship") or []],
             "@type": "CartItem"} for e in ends]


def _finish(doc: dict[str, Any], stored_facts: Mapping[str, Any] | None, channel: str | None,
            at: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
    facts_rec = _facts_record(doc, stored_facts, at)
    doc = _recompute(doc, facts_rec, channel)
    end, expires = domain.expiry(at, domain.customer_of(doc) is not None, settings.basket_ttl_anonymous_days(),
                                 settings.basket_ttl_known_days())
    doc["validFor"] = {"startDateTime": doc["creationDate"], "endDateTime": end}
    domain.check_size(doc, settings.basket_max_items(), settings.basket_max_bytes())
    return doc, facts_rec, expires


def _apply(doc: dict[str, Any], body: Mapping[str, Any], actor: Actor, at: dt.datetime, source_ip: str | None,
           stored_facts: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
    """A basket after a create/PATCH body: status first, then items, context, prices, rules."""
    status, channel = body.get("status"), actor.channel
    if status == domain.WITH_AGENT:  # a take-over comes first: the agent then edits in the same change
        doc = domain.move(doc, status, actor, True)
    if body.get("cartItem"):
        domain.check_item_editor(doc, actor)
        items, touched = domain.apply_item_changes(doc.get("cartItem") or [], body["cartItem"],
                                                   lambda: tmf.new_id()[:8], settings.basket_max_quantity())
        existing = {i["id"] for i in doc.get("cartItem") or []}
        doc = {**doc, "cartItem": [_prepare_item(i, channel, i["id"] not in existing, n) if i["id"] in touched else i
                                   for n, i in enumerate(items)]}
    if status and status != domain.WITH_AGENT:
        if status == domain.APPROVED and doc.get("status") != domain.APPROVED:
            # she approves the prices the basket showed her (the approval email): those are agreed
            doc = {**doc, "cartItem": [{**i, "agreedPrice": pricing.agreed(i.get("itemPrice"))}
                                       for i in doc.get("cartItem") or []]}
        checked = _recompute(doc, _facts_record(doc, stored_facts, at), channel)
        doc = domain.move(doc, status, actor, checked["qualificationResult"] == rules_domain.QUALIFIED)
    if "contactMedium" in body:
        doc["contactMedium"] = list(body["contactMedium"])
    context_in = dict(body.get("context") or {})
    if context_in.get("postCode"):
        context_in["postCode"] = rules_domain.normalise_postcode(context_in["postCode"])
    postcode = context_in.get("postCode") or domain.postcode_of(doc)
    anonymous_ip = source_ip if domain.customer_of(doc) is None and not postcode else None
    region = places.region(postcode, anonymous_ip) if (postcode or anonymous_ip) else (None, None)
    doc = domain.touch(doc, actor, tmf.iso(at), domain.describe_changes(body) or ["created"], context_in, region)
    return _finish(doc, stored_facts, channel, at)


# --- use cases --------------------------------------------------------------------------------
def _owner_parties(body: Mapping[str, Any], caller: Caller, rid: str,
                   at: dt.datetime) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The basket's owner (customer or visitor) among its parties, and the customer's facts."""
    named = [p for p in body.get("relatedParty") or [] if str(p.get("role", "")).lower() in ("customer", "visitor")]
    others = [dict(p) for p in body.get("relatedParty") or [] if p not in named and p.get("role") != "agent"]
    if caller.role == "customer":
        customer_id = caller.customer_id
    elif caller.role == "agent":
        customer_id = next((p["id"] for p in named if str(p.get("role")).lower() == "customer"), None)
    else:
        if any(str(p.get("role")).lower() == "customer" for p in named):
            raise forbidden("a channel creates anonymous baskets; a logged-in customer's channel uses their token")
        customer_id = None
    if customer_id:
        profile = rules.profile(customer_id)
        if profile is None:
            raise not_found("customer", customer_id)
        party = customer_domain.customer_party(customer_id, tmf.href(customer_domain.API_ROOT, "customer", customer_id))
        return [party, *others], {"customerId": customer_id, "customer": profile, "at": tmf.iso(at)}
    visitor = next((p["id"] for p in named if str(p.get("role")).lower() == "visitor"), None) or rid
    return [{"id": visitor, "role": "visitor", "@referredType": "Individual"}, *others], None


def create(body: Mapping[str, Any], caller: Caller, journey_key: str | None = None,
           source_ip: str | None = None, basket_id: str | None = None) -> tuple[dict[str, Any], int]:
    """A new basket (`basket_id` for demo data only); StaleVersion when that id exists."""
    _check_caller(caller)
    domain.validate_body(body)
    rid, at = basket_id or tmf.new_id(), tmf.now()
    parties, facts_rec = _owner_parties(body, caller, rid, at)
    doc: dict[str, Any] = {
        "id": rid, "href": href(rid), "@type": domain.TYPE, "status": domain.ACTIVE,
        "relatedParty": parties, "contactMedium": list(body.get("contactMedium") or []),
        "cartItem": [], "creationDate": tmf.iso(at), "lastUpdate": tmf.iso(at),
        **{k: v for k, v in body.items() if k not in (*domain.SERVER_OWNED, "status", "cartItem", "relatedParty",
                                                      "contactMedium", "context")}}
    changes = dict(body)
    if caller.role == "agent" and domain.customer_of(doc):
        changes["status"] = domain.WITH_AGENT  # an agent's basket for a customer is the agent's to fill
    else:
        changes.pop("status", None)
    context_in = dict(body.get("context") or {})
    if journey_key:
        context_in.setdefault("journeyKey", journey_key)
    changes["context"] = context_in
    doc, facts_rec, expires = _apply(doc, changes, Actor.of(caller), at, source_ip, facts_rec)
    version = store.write(doc, None, facts_rec, expires)
    logger.info("basket created", extra={"basketId": rid, "by": caller.role, "items": len(doc["cartItem"])})
    return domain.present(doc, at), version


def _load_readable(basket_id: str, caller: Caller) -> store.Stored:
    found = store.load(basket_id)
    if found is None or not domain.readable(found.doc, caller.role, caller.customer_id):
        raise domain.hidden(basket_id)
    return found


def read(basket_id: str, caller: Caller) -> tuple[dict[str, Any], int]:
    _check_caller(caller)
    found = _load_readable(basket_id, caller)
    return domain.present(found.doc, tmf.now()), found.version


def _change(basket_id: str, expected: int | None, load: Callable[[], store.Stored | None],
            mutate: Callable[[store.Stored, dt.datetime], tuple[dict[str, Any], dict[str, Any] | None, int] | None]
            ) -> tuple[dict[str, Any], int]:
    """db.change on a basket: `mutate(found, at)` gives (basket, customer facts, expiry) to write,
    or None; the answer is the basket as presented, and its version."""
    def loaded() -> tuple[store.Stored, int]:
        found = load()
        if found is None:
            raise domain.hidden(basket_id)
        return found, found.version

    def write(new: tuple[dict[str, Any], dict[str, Any] | None, int], version: int) -> int:
        doc, facts, expires = new
        return store.write(doc, version, facts, expires)

    result, version = db.change(f"basket {basket_id}", loaded, lambda found, _version: mutate(found, tmf.now()),
                                write, expected=expected, attempts=settings.basket_write_attempts(),
                                shown=lambda found: domain.present(found.doc, tmf.now()))
    doc = result.doc if isinstance(result, store.Stored) else result[0]
    return domain.present(doc, tmf.now()), version


def update(basket_id: str, patch: Mapping[str, Any], caller: Caller, if_match: str | None = None,
           journey_key: str | None = None, source_ip: str | None = None) -> tuple[dict[str, Any], int]:
    _check_caller(caller)
    domain.validate_body(patch)
    for key in ("id", "href"):
        if key in patch and patch[key] != (href(basket_id) if key == "href" else basket_id):
            raise Invalid(f"{key} is set by the server and cannot be changed", "invalidInput")
    changes = dict(patch)
    if journey_key:
        changes["context"] = {"journeyKey": journey_key, **(patch.get("context") or {})}

    def mutate(found: store.Stored, at: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
        if domain.effective_status(found.doc, at) == domain.EXPIRED:
            raise Unprocessable(f"basket {basket_id} has expired", "basketExpired")
        return _apply(dict(found.doc), changes, Actor.of(caller), at, source_ip, found.facts)

    doc, version = _change(basket_id, tmf.parse_if_match(if_match), lambda: _load_readable(basket_id, caller), mutate)
    logger.info("basket changed", extra={"basketId": basket_id, "by": caller.role, "status": doc.get("status"),
                                         "changes": domain.describe_changes(patch)})
    return doc, version


def delete(basket_id: str, caller: Caller, if_match: str | None = None) -> None:
    _check_caller(caller)

    def loaded() -> tuple[store.Stored, int]:
        found = _load_readable(basket_id, caller)
        return found, found.version

    def check(found: store.Stored) -> None:
        if domain.effective_status(found.doc, tmf.now()) != domain.EXPIRED:
            domain.check_item_editor(found.doc, Actor.of(caller))

    db.delete(f"basket {basket_id}", loaded, lambda version: store.remove(basket_id, version), check=check,
              expected=tmf.parse_if_match(if_match), attempts=settings.basket_write_attempts())
    logger.info("basket deleted", extra={"basketId": basket_id, "by": caller.role})


def _single_id(params: Mapping[str, str]) -> str | None:
    if params.get("id") and "," not in params["id"]:
        return params["id"]
    if params.get("href") and "," not in params["href"]:
        return params["href"].rstrip("/").rsplit("/", 1)[-1]
    return None


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """A customer lists their baskets; a channel the anonymous baskets of a visitor
    (relatedParty.id=) or, without one, those its channel started today and yesterday; an agent a
    customer's baskets (relatedParty.id=) or the worklists (withAgent, assistanceOffered)."""
    _check_caller(caller)
    q = tmf.list_query(params, tmf.attributes("shoppingCart", "TMF663", models=[schemas.ShoppingCart],
                                              extras=domain.EXTENSION_ATTRIBUTES))
    at = tmf.now()
    single, party = _single_id(params), params.get("relatedParty.id")
    if single:
        found = store.load(single)
        docs = [found.doc] if found else []
    elif caller.role == "customer":
        docs = store.by_owner(f"CUSTOMER#{caller.customer_id}")
    elif party and "," not in party:
        docs = store.by_owner(f"CUSTOMER#{party}") + store.by_owner(f"VISITOR#{party}")
    elif caller.role == "channel":
        docs = [d for day in (at, at - dt.timedelta(days=1))
                for d in store.by_list(domain.anonymous_key(caller.channel, tmf.iso(day)))]
    else:
        wanted = [s for s in (params.get("status") or "").split(",") if s] or [domain.WITH_AGENT, domain.OFFERED]
        docs = [d for s in wanted if s in (domain.WITH_AGENT, domain.OFFERED) for d in store.by_list(f"WORKLIST#{s}")]
    hits = [domain.present(d, at) for d in docs if domain.readable(d, caller.role, caller.customer_id)]
    items, total = tmf.page([d for d in hits if tmf.matches(d, q.filters)], q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


# --- for other contexts -------------------------------------------------------------------------
def system_move(basket_id: str, status: str, channel: str | None = None) -> tuple[dict[str, Any], int]:
    """The platform moves a basket: the abandoned-basket process offers assistance
    (assistanceOffered), ordering marks it ordered. Safe to repeat."""
    def mutate(found: store.Stored, at: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None, int] | None:
        if found.doc.get("status") == status:
            return None
        return _moved_by_system(found, status, channel, at)

    return _change(basket_id, None, lambda: store.load(basket_id), mutate)


def _moved_by_system(found: store.Stored, status: str, channel: str | None,
                     at: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
    doc = domain.move(dict(found.doc), status, Actor.system(), True)
    doc = domain.touch(doc, Actor.system(channel), tmf.iso(at),
                       [f"status {status}"], None, (None, None))
    return _finish(doc, found.facts, domain.Basket(doc).current_channel, at)


def ordered_write(found: store.Stored, channel: str | None = None) -> store.BasketRecord:
    """For ordering: the write marking a basket ordered, conditional on the version it was read at,
    for the order's own transaction (an order and its basket's `ordered` are one write)."""
    doc, facts, expires = _moved_by_system(found, domain.ORDERED, channel, tmf.now())
    return store.record(doc, found.version, facts, expires)


def return_unordered(basket_id: str, reason: str, code: str, item_ids: list[str], version: int | None = None
                     ) -> tuple[dict[str, Any], int, bool]:
    """For ordering's callers: an approved basket that could not be ordered leaves `approved` (to
    the agent who handled it, else to the customer; domain.not_ordered); with `version`, the
    basket awaiting approval at that version (approved by the link, not orderable) does. (basket,
    version, changed); a basket no longer in that state is left as it is. Safe to repeat."""
    changed: list[bool] = []

    def mutate(found: store.Stored, at: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None, int] | None:
        changed.clear()
        if found.doc.get("status") != domain.APPROVED and (
                version is None or found.version != version or found.doc.get("status") != domain.AWAITING):
            return None
        doc = domain.not_ordered(dict(found.doc), reason, code, item_ids, tmf.iso(at), domain.last_agent(found.doc))
        doc = domain.touch(doc, Actor.system(), tmf.iso(at), [f"status {doc['status']}: not ordered ({code})"], None,
                           (None, None))
        changed.append(True)
        return _finish(doc, found.facts, domain.Basket(doc).current_channel, at)

    doc, version = _change(basket_id, None, lambda: store.load(basket_id), mutate)
    return doc, version, bool(changed)


def approved_before(cutoff: str) -> list[dict[str, Any]]:
    """Approved baskets last changed before `cutoff` (ISO): one Query on the sparse list index."""
    return store.by_list(domain.APPROVED_KEY, cutoff)


def open_baskets(customer_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The customer's open baskets (the newest `limit` of them, for the 360 view), summarised: a
    Query on the sparse open-by-owner index, so ordered and cancelled baskets are not read."""
    at = tmf.now()
    out = []
    for doc in store.open_of(f"CUSTOMER#{customer_id}", limit):
        status = domain.effective_status(doc, at)
        if status in domain.OPEN:
            out.append({"id": doc["id"], "href": doc["href"], "status": status, "lastUpdate": doc["lastUpdate"],
                        "itemCount": len(domain.Basket(doc).items), "cartTotalPrice": doc.get("cartTotalPrice"),
                        "context": {k: v for k, v in domain.Basket(doc).context.items() if k != "changes"},
                        "@referredType": domain.TYPE})
    return out


def adopt_visitor_baskets(visitor_id: str, customer_id: str) -> int:
    """Hand-over step (chalicelib.customer.identity): the visitor's open baskets become the
    customer's, merged into the basket the customer already had (else the newest one is
    adopted as it is). Safe to repeat: merged items keep derived ids, a merged basket is deleted
    only after the merge is written."""
    at = tmf.now()
    anonymous = [d for d in store.by_owner(f"VISITOR#{visitor_id}")
                 if domain.effective_status(d, at) in domain.MERGEABLE and not domain.customer_of(d)]
    if not anonymous:
        return 0
    mine = [d for d in store.by_owner(f"CUSTOMER#{customer_id}") if domain.effective_status(d, at) in domain.MERGEABLE]
    party = customer_domain.customer_party(customer_id, tmf.href(customer_domain.API_ROOT, "customer", customer_id))
    target_id = mine[0]["id"] if mine else anonymous[0]["id"]
    sources = [d for d in anonymous if d["id"] != target_id]

    def mutate(found: store.Stored, now: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
        doc = dict(found.doc)
        if not domain.customer_of(doc):
            doc["relatedParty"] = [party, *(doc.get("relatedParty") or [])]
        for source in sources:
            doc["cartItem"] = domain.merge_items(doc.get("cartItem") or [], source.get("cartItem") or [], source["id"])
            doc["context"] = domain.merge_context(doc, source)
        what = ["identified: basket now the customer's"] + [f"merged basket {s['id']}" for s in sources]
        doc = domain.touch(doc, Actor.system(domain.Basket(doc).current_channel), tmf.iso(now), what,
                           None, (None, None))
        return _finish(doc, None, domain.Basket(doc).current_channel, now)

    _change(target_id, None, lambda: store.load(target_id), mutate)
    for source in sources:
        found = store.load(source["id"])
        if found is not None:
            try:
                store.remove(source["id"], found.version)
            except store.StaleVersion:
                # changed meanwhile: fail this delivery, the retry merges the change and deletes it
                raise RuntimeError(f"visitor basket {source['id']} changed while being merged") from None
    logger.info("visitor baskets adopted", extra={"basketId": target_id, "customerId": customer_id,
                                                  "merged": len(sources)})
    return 1 + len(sources)
