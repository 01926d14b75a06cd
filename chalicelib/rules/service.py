"""Rules use cases: rules-as-data administration (catalog-admin), qualification (TMF679), the
facts rules are evaluated against, and guided selling. Other contexts (the basket) call
`offering_for_sale`, `profile`, `facts` and `qualify_items`; nothing else evaluates a rule.

Rule documents live in the catalogue table (kind `qualificationRule`) and are read through the
catalogue's cache: a rule change moves the catalogue stamp like any catalogue change, so every
container sees it within OMNISHOP_CATALOG_CACHE_SECONDS, and evaluating rules costs no read.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

from chalicelib.view import ref_id
from chalicelib import catalog, credit, db, deferred, inventory, tmf
from chalicelib.auth import Caller, require
from chalicelib.basket import pricing
from chalicelib.catalog import domain as catalog_domain
from chalicelib.customer import access as customer_access
from chalicelib.customer import domain as customer_domain
from chalicelib.customer import load_customer
from chalicelib.errors import ApiError, bad_request, not_found, unprocessable
from chalicelib.rules import domain, places, store

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.rules.schemas")

ADMIN = "catalog-admin"
RULE_READERS = (ADMIN, "agent")
QUALIFIERS = ("channel", "customer", "agent")


def rule_href(rid: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RULE_KIND, rid)


# --- rules as data ----------------------------------------------------------------------------
def create_rule(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    require(caller, ADMIN)
    rid = tmf.new_id()
    doc = domain.new_rule(body, rid, rule_href(rid), tmf.now_iso())
    return doc, catalog.insert(domain.RULE_KIND, doc)


def put_rule(doc: dict[str, Any]) -> None:
    """Write a rule as given (demo data: fixed ids, safe to repeat)."""
    domain.validate_rule(doc)
    catalog.upsert(domain.RULE_KIND, doc)


def read_rule(rid: str, caller: Caller) -> tuple[dict[str, Any], int]:
    require(caller, *RULE_READERS)
    found = catalog.load(domain.RULE_KIND, rid)
    if found is None:
        raise not_found(domain.RULE_KIND, rid)
    return found


def search_rules(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    require(caller, *RULE_READERS)
    q = tmf.list_query(params, tmf.attributes(domain.RULE_KIND, models=[schemas.QualificationRule], extras=tmf.ENTITY))
    if not q.filters:   # the catalogue's paging: the offset skipped on its keys-only index, a COUNT there
        items, total = catalog.page_kind(domain.RULE_KIND, q.offset, q.limit)
    else:
        hits = [d for d in catalog.query_kind(domain.RULE_KIND) if tmf.matches(d, q.filters)]
        items, total = tmf.page(hits, q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


def update_rule(rid: str, patch: Mapping[str, Any], caller: Caller, if_match: str | None) -> tuple[dict[str, Any], int]:
    require(caller, ADMIN)
    return db.change(f"{domain.RULE_KIND} {rid}", lambda: read_rule(rid, caller),
                     lambda current, _version: domain.patched_rule(current, patch, tmf.now_iso()),
                     lambda doc, version: catalog.replace(domain.RULE_KIND, doc, version),
                     expected=tmf.parse_if_match(if_match))


def delete_rule(rid: str, caller: Caller, if_match: str | None) -> None:
    require(caller, ADMIN)
    db.delete(f"{domain.RULE_KIND} {rid}", lambda: read_rule(rid, caller),
              lambda version: catalog.remove(domain.RULE_KIND, rid, version),
              expected=tmf.parse_if_match(if_match))


def documents() -> list[dict[str, Any]]:
    """Every rule document, from the catalogue cache."""
    return catalog.cache.all(domain.RULE_KIND)


# --- offerings --------------------------------------------------------------------------------
def offering_for_sale(offering_id: str, channel: str | None) -> dict[str, Any]:
    """The offering if it can be put in a basket in this channel now; else 422 saying why."""
    found = catalog.published_offering(offering_id, channel)
    if found is not None and found.get("isSellable", True) is not False:
        return found
    cached = catalog.cache.get("productOffering", offering_id)
    if cached is None:
        raise unprocessable(f"productOffering {offering_id} does not exist in the catalogue", "unknownOffering")
    doc = cached[0]
    kind = catalog_domain.kind("productOffering")
    if not catalog_domain.is_published(kind, doc, tmf.now()):
        raise unprocessable(f"productOffering {offering_id} is not on sale (lifecycleStatus "
                            f"{doc.get('lifecycleStatus')})", "offeringNotAvailable")
    if doc.get("isSellable") is False:
        raise unprocessable(f"productOffering {offering_id} is not sellable on its own", "offeringNotSellable")
    raise unprocessable(f"productOffering {offering_id} is not sold in the {channel} channel", "notSoldInChannel")


class _Names:
    """Offering names for reasons, looked up in the catalogue cache only when a reason needs one."""

    def __init__(self, known: Mapping[str, str]):
        self.known: dict[str, str | None] = dict(known)   # None: not in the catalogue

    def get(self, oid: str, default: str | None = None) -> str | None:
        if oid not in self.known:
            found = catalog.cache.get("productOffering", oid)
            self.known[oid] = (found[0].get("name") or oid) if found else None
        return self.known[oid] or default


# --- facts ------------------------------------------------------------------------------------
def profile(customer_id: str) -> dict[str, Any] | None:
    """What the rules need to know about a customer (one Query): segment, type, the offerings
    they hold (the inventory) with their contract end, their postcode and their sites' ids (an
    organisation's; a basket line names one). No contact data."""
    found = load_customer(customer_id)
    if found is None:
        return None
    return profile_of(found[0], inventory.held(customer_id))


def profile_of(customer: Mapping[str, Any], held: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`profile` from a customer document and the products they hold, already read."""
    party_type = (customer.get("engagedParty") or {}).get("@referredType")
    customer_type = "organization" if party_type == "Organization" else "individual"
    segment = customer_domain.segment(customer)
    postcode = next((m.get("characteristic", {}).get("postCode") for m in customer.get("contactMedium") or []
                     if m.get("mediumType") == "postalAddress"), None)
    return {"segment": segment, "customerType": customer_type, "postCode": postcode,
            "sites": [str(s["id"]) for s in customer.get("site") or [] if isinstance(s, Mapping) and s.get("id")],
            "held": [[p["productOffering"]["id"], customer_domain.contract_end(p)]
                     for p in held if p.get("productOffering")]}


def facts(channel: str | None, customer: Mapping[str, Any] | None, postcode: str | None,
          at: dt.datetime | None = None) -> domain.Facts:
    """Facts from a customer profile (None: anonymous) and the sale's postcode (else theirs)."""
    at = at or tmf.now()
    postcode = postcode or (customer or {}).get("postCode")
    held = tuple((oid, customer_domain.days_left(end, at))
                 for oid, end in (customer or {}).get("held", []))
    return domain.Facts(channel=channel, segment=(customer or {}).get("segment"),
                        customer_type=(customer or {}).get("customerType"), held=held,
                        technologies=places.technologies(postcode), known_customer=customer is not None)


def qualify_items(offerings: Sequence[Mapping[str, Any]], fact: domain.Facts) -> list[dict[str, Any]]:
    """Each offering qualified together with the others (the rest of a basket)."""
    docs = documents()
    ids = [o["id"] for o in offerings]
    names = _Names({o["id"]: o.get("name") or o["id"] for o in offerings})
    out = []
    for i, offering in enumerate(offerings):
        others = set(ids[:i] + ids[i + 1:])
        out.append(domain.qualify(offering, domain.rules_for(offering, docs), others, fact, names))  # type: ignore[arg-type]
    return out


def early_fees(items: Sequence[Mapping[str, Any]], held: Mapping[str, Mapping[str, Any]],
               campaign_code: str | None) -> dict[str, dict[str, Any]]:
    """The early termination / upgrade fee (a one-off CartPrice, or the rule that waives it) of
    each modify/delete item on a product held before its contract ends, by item id: the contract
    rules (data/contract.json) are the only place this is decided."""
    rules, now, out = places.contract_rules(), tmf.now(), {}
    for item in items:
        product = held.get(ref_id(item, "product") or "")
        if item.get("action") not in ("modify", "delete") or product is None:
            continue
        fee = domain.early_termination(item, product, now, campaign_code, rules)
        if fee is None:
            continue
        what = "ending" if fee["kind"] == "delete" else "upgrading"
        text = (f"{what} {product.get('name') or product['id']} {fee['months']} month(s) before its contract ends "
                f"({fee['contractEnd'][:10]}): {pricing.text(fee['fee'])} {fee['unit']}")
        out[item["id"]] = pricing.fee_price(fee["name"], fee["fee"], fee["unit"], text, fee["waiver"])
    return out


def bundle_rules() -> list[dict[str, Any]]:
    return [d for d in documents() if d.get("ruleType") == "bundlePrice" and d.get("lifecycleStatus") == "active"]


# --- TMF679 productOfferingQualification --------------------------------------------------------
def _customer_of(body: Mapping[str, Any], caller: Caller) -> str | None:
    if caller.role == "customer":
        return caller.customer_id
    if caller.role == "agent":
        named = [p["id"] for p in body.get("relatedParty") or []
                 if str(p.get("role", "")).lower() == "customer" or p.get("@referredType") == "Customer"]
        return named[0] if named else None
    return None


def _offering_item(item: Mapping[str, Any], offering: Mapping[str, Any], result: Mapping[str, Any],
                   refused: Mapping[str, Any] | None) -> dict[str, Any]:
    reasons = ([refused] if refused else []) + list(result["reasons"])
    return {"id": item["id"], "productOffering": dict(item["productOffering"]) if refused else domain.offering_ref(offering),
            "qualificationItemResult": domain.UNQUALIFIED if refused else result["result"], "reasons": reasons}


MAX_PROPOSALS = 20   # offerings listed for a category item (the answer is stored: it must stay small)


def _category_item(item: Mapping[str, Any], channel: str | None, fact: domain.Facts) -> dict[str, Any]:
    """A category is qualified when one of its sellable offerings sold in this channel passes the
    rules; those offerings (the first MAX_PROPOSALS) are the proposals."""
    category_id = item["category"]["id"]
    entry: dict[str, Any] = {"id": item["id"], "category": dict(item["category"])}
    if catalog.cache.get("category", category_id) is None:
        return {**entry, "qualificationItemResult": domain.UNQUALIFIED, "reasons": [
            {"code": "unknownCategory", "label": f"category {category_id} does not exist in the catalogue",
             "@type": "EligibilityUnavailabilityReason"}]}
    sold = [o for o in catalog.cache.all("productOffering")
            if category_id in {c.get("id") for c in o.get("category") or []}
            and o.get("isSellable", True) is not False and catalog.published_offering(o["id"], channel)]
    passing = []
    for offering in sold:
        if qualify_items([offering], fact)[0]["result"] == domain.QUALIFIED:
            passing.append(offering)
            if len(passing) == MAX_PROPOSALS:
                break
    if not passing:
        return {**entry, "qualificationItemResult": domain.UNQUALIFIED, "reasons": [
            {"code": "noOfferingQualifies", "label": f"no offering of category {category_id} can be sold here",
             "@type": "EligibilityUnavailabilityReason"}]}
    return {**entry, "qualificationItemResult": domain.QUALIFIED, "reasons": [],
            "proposals": [domain.offering_ref(o) for o in passing]}


def qualification(body: Mapping[str, Any], caller: Caller, source_ip: str | None = None) -> dict[str, Any]:
    """An instant (synchronous) qualification: every item's result and reasons, kept (stored) until
    its expirationDate so a channel or agent can read it again by id."""
    customer_access.check_roles(caller, *QUALIFIERS)
    customer_domain.validate_payload("productOfferingQualification", schemas.ProductOfferingQualification, body)
    postcodes = [p.get("postCode") for p in body.get("place") or [] if p.get("postCode")]
    postcode = domain.normalise_postcode(postcodes[0]) if postcodes else None
    customer_id = _customer_of(body, caller)
    customer = profile(customer_id) if customer_id else None
    notes = []
    if customer_id and customer is None:
        if caller.role == "customer":
            raise not_found("customer", customer_id)
        # a party Omnishop does not know (a prospect, another system's id): qualified as a prospect
        notes.append({"text": f"customer {customer_id} is not known here: qualified as a prospect", "@type": "Note"})
        customer_id = None
    channel = (ref_id(body, "channel") if caller.role == "agent" else None) or caller.channel
    fact = facts(channel, customer, postcode)
    items = body["productOfferingQualificationItem"]
    by_offering = [i for i in items if i.get("productOffering")]
    offerings, refused = [], {}
    for item in by_offering:
        oid = item["productOffering"]["id"]
        try:
            offerings.append(offering_for_sale(oid, channel))
        except ApiError as exc:
            refused[item["id"]] = {"code": exc.code, "label": exc.message, "@type": "EligibilityUnavailabilityReason"}
            offerings.append({"id": oid, "name": oid})
    answered = iter([_offering_item(item, offering, result, refused.get(item["id"]))
                     for item, offering, result in zip(by_offering, offerings, qualify_items(offerings, fact))])
    answers = [next(answered) if i.get("productOffering") else _category_item(i, channel, fact) for i in items]
    answers = credit.qualified(answers, customer_id)   # creditCheckRequired / creditRefused (chalicelib/credit)
    at = tmf.now()
    doc = domain.answer(body, answers, channel, notes, at)
    rid = tmf.new_id()
    doc = {"id": rid, "href": tmf.href(domain.API_ROOT, domain.API_NAME, rid), **doc}
    if postcode:
        doc["place"] = [{"postCode": postcode, "@type": "GeographicAddress"}]
    region, region_source = places.region(postcode, source_ip if customer is None else None)
    if region:
        doc["region"] = {"name": region, "source": region_source}
    customer_domain.check_size("productOfferingQualification", doc)
    store.insert(doc, customer_id, int((at + dt.timedelta(days=domain.ANSWER_VALID_DAYS)).timestamp()))
    return doc


def _may_read(doc: Mapping[str, Any], owner: str | None, caller: Caller) -> bool:
    """Agents read every answer, a customer their own, a channel the anonymous ones it asked for."""
    if caller.role == "agent":
        return True
    if caller.role == "customer":
        return owner is not None and owner == caller.customer_id
    return owner is None and ref_id(doc, "channel") == caller.channel


def read_qualification(qid: str, caller: Caller) -> dict[str, Any]:
    customer_access.check_roles(caller, *QUALIFIERS)
    found = store.load(qid)
    if found is None or not _may_read(found[0], found[1], caller):
        raise not_found(domain.API_NAME, qid)
    return found[0]


def search_qualifications(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """Agents list every answer, a customer their own (newest first); a channel reads by id only."""
    customer_access.check_roles(caller, "agent", "customer")
    q = tmf.list_query(params, tmf.attributes(domain.API_NAME, "TMF679", models=[schemas.ProductOfferingQualification]))
    own = (caller.customer_id or "") if caller.role == "customer" else None
    if not q.filters:   # DynamoDB pages (store.page)
        items, total = store.page(q.offset, q.limit, own)
    else:
        docs = store.newest(own)
        items, total = tmf.page([d for d in docs if tmf.matches(d, q.filters)], q.offset, q.limit)
    return [tmf.select_fields(d, q.fields) for d in items], total


# --- guided selling -----------------------------------------------------------------------------
def guided_selling(offering_id: str, caller: Caller) -> dict[str, Any]:
    """For a handset: its compatible plans, then its accessories, as sold in the caller's channel."""
    customer_access.check_roles(caller, *QUALIFIERS)
    handset = catalog.published_offering(offering_id, caller.channel)
    if handset is None:
        raise not_found("productOffering", offering_id)
    steps = []
    for step, relationship in domain.GUIDED_STEPS:
        options = [o for o in (catalog.published_offering(oid, caller.channel)
                               for oid in domain.related(handset, relationship)) if o is not None]
        steps.append({"step": step, "relationshipType": relationship,
                      "productOffering": [{**domain.offering_ref(o), "description": o.get("description")}
                                          for o in options]})
    if not any(s["productOffering"] for s in steps):
        raise bad_request(f"productOffering {offering_id} has no compatible plans or accessories to guide through")
    return {"@type": "GuidedSelling", "productOffering": domain.offering_ref(handset), "steps": steps}
