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

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from chalicelib import catalog, db, deferred, rules, settings, tmf
from chalicelib import promotion as promotions
from chalicelib.actor import Actor
from chalicelib.auth import Caller
from chalicelib.basket import domain, pricing
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import Invalid, Unprocessable, forbidden, not_found
from chalicelib.observability import logger

# imported on first use: importing this module does not load it (chalicelib/deferred.py). The
# callers' roles, the qualification rules and places, the basket's store and lines and the stream
# reader are used by basket calls only: the order workflow imports this module for the catalogue
# cache (`catalogue`) and needs none of them.
schemas = deferred.module("chalicelib.basket.schemas")
if TYPE_CHECKING:
    from chalicelib import streams
    from chalicelib.basket import lines, store
else:
    lines = deferred.module("chalicelib.basket.lines")
    store = deferred.module("chalicelib.basket.store")
    streams = deferred.module("chalicelib.streams")
customer_access = deferred.module("chalicelib.customer.access")
rules_domain = deferred.module("chalicelib.rules.domain")
places = deferred.module("chalicelib.rules.places")

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


def _recompute(doc: dict[str, Any], facts_rec: Mapping[str, Any] | None, channel: str | None,
               replaced: bool = True) -> dict[str, Any]:
    """Prices from the catalogue for `channel` (channel prices) and every active item qualified by
    the central rules (with the same channel). `replaced`: with the products a bundle would end."""
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
    distinct = list(dict.fromkeys(i["productOffering"]["id"] for i in active))
    results = dict(zip(distinct, rules.qualify_items([offerings[oid] for oid in distinct], fact)))
    out_items = []
    for item in priced:
        item = {k: v for k, v in item.items() if k != "qualification"}
        if "agreedPrice" not in item:   # the price she saw when the item was added
            item["agreedPrice"] = pricing.agreed(item.get("itemPrice"))
        result = results.get(item["productOffering"]["id"]) if item.get("status", "active") == "active" else None
        if result is not None:
            item["qualification"] = {"qualificationItemResult": result["result"],
                                     "eligibilityUnavailabilityReason": result["reasons"]}
        out_items.append(item)
    overall = rules_domain.overall(r["result"] for r in results.values()) if active else rules_domain.UNDETERMINED
    out = {k: v for k, v in doc.items() if k != "replacedItem"}
    gone = _replaced(out, offerings) if replaced else []
    if gone:
        out["replacedItem"] = gone
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


# --- a change: the header and the lines it names ---------------------------------------------
@dataclasses.dataclass
class Draft:
    """A basket being changed: its header document (no `cartItem`), the customer facts, the
    composition as stored, the lines read (`before`, None: not there) and those to write
    (`after`, None: delete). Only the lines a change names are read and written."""
    basket_id: str
    doc: dict[str, Any]
    facts: dict[str, Any] | None
    composition: dict[str, Any]
    before: dict[str, dict[str, Any] | None] = dataclasses.field(default_factory=dict)
    after: dict[str, dict[str, Any] | None] = dataclasses.field(default_factory=dict)
    place: dict[str, int] = dataclasses.field(default_factory=dict)   # of the lines read or added
    agreed: bool = False   # she approves: every line's price is agreed (per offering)
    version: int | None = None   # the version read

    @classmethod
    def of(cls, found: store.Stored) -> "Draft":
        """A change of this basket; one stored whole before (store.Stored.legacy) writes its items
        as lines in this change (a consumer basket: at most 50, within one transaction)."""
        draft = cls(found.doc["id"], {k: v for k, v in found.doc.items() if k not in ("cartItem", "replacedItem")},
                    found.facts, dict(found.composition or lines.empty()), version=found.version)
        for item in found.legacy or []:
            draft.before[item["id"]] = None
            draft.after[item["id"]] = {k: v for k, v in item.items()
                                       if k not in domain.ITEM_COMPUTED or k == "agreedPrice"}
        return draft

    def read(self, ids: Iterable[str]) -> None:
        """Read the lines `ids` not read yet (one BatchGetItem)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.before]
        found = store.lines_named(self.basket_id, missing)
        for line_id in missing:
            n, line = found.get(line_id, (0, None))
            self.before[line_id] = line
            if line is not None:
                self.place[line_id] = n

    def read_all(self) -> list[dict[str, Any]]:
        """Every line as it will be (a merge needs them all: one Query, with their places)."""
        ids = []
        for n, line in store.placed_lines(self.basket_id):
            ids.append(line["id"])
            if line["id"] not in self.before:
                self.before[line["id"]], self.place[line["id"]] = line, n
        return [line for line in (self.current(i) for i in ids) if line is not None]

    def current(self, line_id: str) -> dict[str, Any] | None:
        return self.after[line_id] if line_id in self.after else self.before.get(line_id)


Change = tuple[Draft, int]   # what a change writes: the draft and the basket's expiry (epoch seconds)


def _sale_prices(doc: Mapping[str, Any], facts_rec: Mapping[str, Any] | None, channel: str | None,
                 composition: Mapping[str, Any]) -> dict[str, Any]:
    """The basket priced and qualified from its composition (no line read): one cart item per
    offering (chalicelib/basket/lines.py)."""
    return _recompute({**doc, "cartItem": lines.sale(composition)}, facts_rec, channel, replaced=False)


def _max_lines(facts_rec: Mapping[str, Any] | None) -> tuple[int, int]:
    """(lines, quantity per line) a basket may hold: a business customer's more."""
    business = ((facts_rec or {}).get("customer") or {}).get("customerType") == "organization"
    return ((settings.basket_max_items_business(), settings.basket_max_quantity_business()) if business
            else (settings.basket_max_items(), settings.basket_max_quantity()))


def _finish(draft: Draft, channel: str | None, at: dt.datetime) -> Change:
    """The change made whole: composition, prices and rules from it, agreed prices of new lines,
    expiry, and the limits (lines per basket, lines per change, bytes per line)."""
    facts_rec = _facts_record(draft.doc, draft.facts, at)
    written = {k: v for k, v in draft.after.items() if v != draft.before.get(k)}
    composition = lines.changed(draft.composition, draft.before, written)
    max_lines, _ = _max_lines(facts_rec)
    count = lines.line_count(composition)
    if count > max_lines and count > lines.line_count(draft.composition):
        raise Unprocessable(f"a basket holds at most {max_lines} items; this change would make {count}", "basketFull")
    if len(written) > store.MAX_LINES_PER_WRITE:
        raise Invalid(f"a change may add, change or delete at most {store.MAX_LINES_PER_WRITE} items; this one "
                      f"names {len(written)}: send it in parts", "tooManyItemChanges")
    new = [k for k, v in written.items() if v is not None and k not in draft.place]
    numbers, composition = lines.places(composition, len(new))
    place = {**draft.place, **dict(zip(new, numbers))}
    priced = _sale_prices(draft.doc, facts_rec, channel, composition)
    agreed = {i["productOffering"]["id"]: pricing.agreed(i.get("itemPrice")) for i in priced["cartItem"]}
    composition = lines.with_shown(composition, agreed)
    if draft.agreed:
        composition = lines.with_agreed(composition, agreed)
    for line_id, line in written.items():
        if line is None:
            continue
        if "agreedPrice" not in line:   # the price she saw when she added it
            line = written[line_id] = {**line, "agreedPrice": agreed.get(line["productOffering"]["id"], [])}
        domain.check_line_size(line, settings.basket_max_line_bytes())
    doc = {k: v for k, v in priced.items() if k != "cartItem"}
    doc["itemCount"] = lines.active_lines(composition)
    if written:   # which version last wrote lines (the stream's readers tell a line change by it)
        doc[domain.LINES_AT] = (draft.version or 0) + 1
    end, expires = domain.expiry(at, domain.customer_of(doc) is not None, settings.basket_ttl_anonymous_days(),
                                 settings.basket_ttl_known_days())
    doc["validFor"] = {"startDateTime": doc["creationDate"], "endDateTime": end}
    domain.check_size(doc, settings.basket_max_bytes())
    return dataclasses.replace(draft, doc=doc, facts=facts_rec, composition=composition, after=written,
                               place=place), expires


def _change_items(draft: Draft, changes: list[Mapping[str, Any]], actor: Actor, max_quantity: int) -> None:
    """Item changes (TMF663 cartItem, by id) on the lines they name: only those are read."""
    domain.check_item_editor(draft.doc, actor)
    named = [str(c["id"]) for c in changes if c.get("id") is not None]
    draft.read(named)
    existing = [line for line in (draft.current(i) for i in dict.fromkeys(named)) if line is not None]
    items, touched = domain.apply_item_changes(existing, changes, lambda: tmf.new_id()[:8], max_quantity)
    kept = {i["id"] for i in items}
    for line in existing:
        if line["id"] not in kept:
            draft.after[line["id"]] = None
    known = {line["id"] for line in existing}
    _check_sites(draft, [item if item["id"] in touched else {} for item in items])
    for n, item in enumerate(items):
        if item["id"] in touched:
            draft.after[item["id"]] = _prepare_item(item, actor.channel, item["id"] not in known, n)


def _check_sites(draft: Draft, items: list[dict[str, Any]]) -> None:
    """A line naming a site (product.place role site) names one of the customer's: 422 unknownSite
    (an anonymous basket has none). Facts kept before they listed the sites: left to checkout."""
    if not any(customer_domain.site_of(i) for i in items):
        return
    profile = (draft.facts or {}).get("customer") if draft.facts is not None else None
    if profile is not None and "sites" not in profile:
        return
    sites = [{"id": s} for s in (profile or {}).get("sites") or []]
    customer_domain.check_sites(items, {"site": sites}, "cartItem")


def _apply(draft: Draft, body: Mapping[str, Any], actor: Actor, at: dt.datetime, source_ip: str | None) -> Change:
    """A basket after a create/PATCH body: status first, then items, context, prices, rules."""
    status, channel = body.get("status"), actor.channel
    draft.facts = _facts_record(draft.doc, draft.facts, at)   # refreshed once (when old) for the whole change
    if status == domain.WITH_AGENT:  # a take-over comes first: the agent then edits in the same change
        draft.doc = domain.move(draft.doc, status, actor, True)
    if body.get("cartItem"):
        _, max_quantity = _max_lines(draft.facts)
        _change_items(draft, list(body["cartItem"]), actor, max_quantity)
    if status and status != domain.WITH_AGENT:
        if status == domain.APPROVED and draft.doc.get("status") != domain.APPROVED:
            draft.agreed = True   # she approves the prices the basket showed her (the approval email)
        checked, _ = _finish(dataclasses.replace(draft), channel, at)
        draft.doc = domain.move(draft.doc, status, actor,
                                checked.doc["qualificationResult"] == rules_domain.QUALIFIED)
    if "contactMedium" in body:
        draft.doc["contactMedium"] = list(body["contactMedium"])
    context_in = dict(body.get("context") or {})
    if context_in.get("postCode"):
        context_in["postCode"] = rules_domain.normalise_postcode(context_in["postCode"])
    postcode = context_in.get("postCode") or domain.postcode_of(draft.doc)
    anonymous_ip = source_ip if domain.customer_of(draft.doc) is None and not postcode else None
    region = places.region(postcode, anonymous_ip) if (postcode or anonymous_ip) else (None, None)
    draft.doc = domain.touch(draft.doc, actor, tmf.iso(at), domain.describe_changes(body) or ["created"],
                             context_in, region)
    return _finish(draft, channel, at)


def _write(change: Change, version: int | None) -> int:
    draft, expires = change
    return store.write(draft.doc, version, draft.facts, expires, draft.composition,
                       [(draft.place[line_id], line) for line_id, line in draft.after.items() if line is not None],
                       [line_id for line_id, line in draft.after.items() if line is None])


# --- reading a basket whole -------------------------------------------------------------------
def _whole(found: store.Stored, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The basket as clients see it: the header and its lines, priced now in its current channel
    (as every change prices it), the approved prices agreed."""
    doc = found.doc
    shown = []
    for item in items:
        agreed = lines.agreed_for(found.composition, item["productOffering"]["id"])
        shown.append({**item, "agreedPrice": agreed} if agreed is not None else item)
    return _recompute({**doc, "cartItem": shown}, found.facts, domain.Basket(doc).current_channel)


def as_shown(found: store.Stored) -> store.Stored:
    """For ordering, when she approves a version by its link: the basket (read whole) with the
    prices it showed at that version agreed (those the approval email showed her)."""
    items = []
    for item in found.doc.get("cartItem") or []:
        shown = lines.shown_for(found.composition, item["productOffering"]["id"])
        items.append({**item, "agreedPrice": shown if shown is not None else pricing.agreed(item.get("itemPrice"))})
    return dataclasses.replace(found, doc={**found.doc, "cartItem": items})


def load(basket_id: str) -> store.Stored | None:
    """A basket read whole (header and lines, read consistently) or None."""
    found = store.load_header(basket_id)
    if found is None:
        return None
    items = store.lines(basket_id) if found.legacy is None else found.legacy
    return dataclasses.replace(found, doc=_whole(found, items))


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
        "creationDate": tmf.iso(at), "lastUpdate": tmf.iso(at),
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
    draft = Draft(rid, doc, facts_rec, lines.empty())
    change = _apply(draft, changes, Actor.of(caller), at, source_ip)
    version = _write(change, None)
    logger.info("basket created", extra={"basketId": rid, "by": caller.role, "items": len(change[0].after)})
    return _shown(change[0], version, True), version


def _shown(draft: Draft, version: int, whole: bool) -> dict[str, Any]:
    """The basket a change answers: whole (its lines read: one Query), or its header with only
    the lines this change wrote (`whole` False: what the caller asked to see has no cartItem)."""
    found = store.Stored(draft.doc, version, draft.facts, draft.composition)
    if whole:
        return domain.present(_whole(found, store.lines(draft.basket_id)), tmf.now())
    return domain.present(found.doc, tmf.now())


def _load_readable(basket_id: str, caller: Caller, header: bool = False) -> store.Stored:
    found = store.load_header(basket_id) if header else load(basket_id)
    if found is None or not domain.readable(found.doc, caller.role, caller.customer_id):
        raise domain.hidden(basket_id)
    return found


def read(basket_id: str, caller: Caller, whole: bool = True) -> tuple[dict[str, Any], int]:
    """A basket for a caller; `whole` False: its header only (no cartItem, no line read)."""
    _check_caller(caller)
    found = _load_readable(basket_id, caller, header=not whole)
    return domain.present(found.doc, tmf.now()), found.version


def offerings_in(basket_id: str, caller: Caller) -> set[str]:
    """The offerings of a basket's active items, for a caller who may read it: from its header
    (one GetItem, no line read)."""
    _check_caller(caller)
    found = _load_readable(basket_id, caller, header=True)
    return set(((found.composition or {}).get(lines.OFFERINGS) or {}))


def _change(basket_id: str, expected: int | None, load_header: Callable[[], store.Stored | None],
            mutate: Callable[[Draft, dt.datetime], Change | None], whole: bool = True) -> tuple[dict[str, Any], int]:
    """db.change on a basket's header: `mutate(draft, at)` gives the change to write (the draft
    and its expiry), or None; the answer is the basket as presented, and its version. A 412
    shows the basket whole."""
    def loaded() -> tuple[store.Stored, int]:
        found = load_header()
        if found is None:
            raise domain.hidden(basket_id)
        return found, found.version

    def shown(found: store.Stored) -> dict[str, Any]:
        return domain.present(_whole(found, store.lines(basket_id) if found.legacy is None else found.legacy),
                              tmf.now())

    result, version = db.change(f"basket {basket_id}", loaded, lambda found, _v: mutate(Draft.of(found), tmf.now()),
                                _write, expected=expected, attempts=settings.basket_write_attempts(), shown=shown)
    if isinstance(result, store.Stored):   # nothing to write
        return (shown(result) if whole else domain.present(result.doc, tmf.now())), version
    return _shown(result[0], version, whole), version


def update(basket_id: str, patch: Mapping[str, Any], caller: Caller, if_match: str | None = None,
           journey_key: str | None = None, source_ip: str | None = None,
           whole: bool = True) -> tuple[dict[str, Any], int]:
    """A PATCH; `whole` False: the answer need not show cartItem (a `fields` selection without it),
    so the lines are not read back."""
    _check_caller(caller)
    domain.validate_body(patch)
    for key in ("id", "href"):
        if key in patch and patch[key] != (href(basket_id) if key == "href" else basket_id):
            raise Invalid(f"{key} is set by the server and cannot be changed", "invalidInput")
    changes = dict(patch)
    if journey_key:
        changes["context"] = {"journeyKey": journey_key, **(patch.get("context") or {})}

    def mutate(draft: Draft, at: dt.datetime) -> Change:
        if domain.effective_status(draft.doc, at) == domain.EXPIRED:
            raise Unprocessable(f"basket {basket_id} has expired", "basketExpired")
        return _apply(draft, changes, Actor.of(caller), at, source_ip)

    doc, version = _change(basket_id, tmf.parse_if_match(if_match),
                           lambda: _load_readable(basket_id, caller, header=True), mutate, whole)
    logger.info("basket changed", extra={"basketId": basket_id, "by": caller.role, "status": doc.get("status"),
                                         "changes": domain.describe_changes(patch)})
    return doc, version


def delete(basket_id: str, caller: Caller, if_match: str | None = None) -> None:
    """Delete a basket (its header, at its version); basket-events deletes its lines after it."""
    _check_caller(caller)

    def loaded() -> tuple[store.Stored, int]:
        found = _load_readable(basket_id, caller, header=True)
        return found, found.version

    def check(found: store.Stored) -> None:
        if domain.effective_status(found.doc, tmf.now()) != domain.EXPIRED:
            domain.check_item_editor(found.doc, Actor.of(caller))

    db.delete(f"basket {basket_id}", loaded, lambda version: store.remove(basket_id, version), check=check,
              expected=tmf.parse_if_match(if_match), attempts=settings.basket_write_attempts())
    logger.info("basket deleted", extra={"basketId": basket_id, "by": caller.role})


def delete_lines(basket_id: str) -> int:
    """For basket-events: the lines of a basket deleted or expired (its header is gone). Safe to
    repeat; a basket still there keeps them."""
    if store.load_header(basket_id) is not None:
        return 0
    return store.delete_lines(basket_id)


def _single_id(params: Mapping[str, str]) -> str | None:
    if params.get("id") and "," not in params["id"]:
        return params["id"]
    if params.get("href") and "," not in params["href"]:
        return params["href"].rstrip("/").rsplit("/", 1)[-1]
    return None


def _listed_keys(caller: Caller, at: dt.datetime) -> list[str]:
    """The index keys of a list without filters, one after another: a customer's own (by-owner),
    a channel's anonymous baskets of today and yesterday, the agents' two worklists (by-list)."""
    if caller.role == "customer":
        return [f"CUSTOMER#{caller.customer_id}"]
    if caller.role == "channel":
        return [domain.anonymous_key(caller.channel, tmf.iso(day)) for day in (at, at - dt.timedelta(days=1))]
    return [f"WORKLIST#{domain.WITH_AGENT}", f"WORKLIST#{domain.OFFERED}"]


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """A customer lists their baskets; a channel the anonymous baskets of a visitor
    (relatedParty.id=) or, without one, those its channel started today and yesterday; an agent a
    customer's baskets (relatedParty.id=) or the worklists (withAgent, assistanceOffered).
    Filters on the headers; the baskets of the page are read whole (a Query of its lines each: the
    index items carry the header's facts and composition, so no GetItem), unless `fields` shows
    no cartItem."""
    _check_caller(caller)
    q = tmf.list_query(params, tmf.attributes("shoppingCart", "TMF663", models=[schemas.ShoppingCart],
                                              extras=domain.EXTENSION_ATTRIBUTES))
    at = tmf.now()
    single, party = _single_id(params), params.get("relatedParty.id")
    headers: list[store.Stored]
    paged: int | None = None   # the total, when DynamoDB paged (no filter): documents.paged_keys
    if not q.filters and caller.role in ("customer", "channel", "agent"):
        headers, paged = store.page_headers(_listed_keys(caller, at), q.offset, q.limit, by_list=caller.role != "customer")
    elif single:
        found = store.load_header(single)
        headers = [found] if found else []
    elif caller.role == "customer":
        headers = store.headers_by_owner(f"CUSTOMER#{caller.customer_id}")
    elif party and "," not in party:
        headers = store.headers_by_owner(f"CUSTOMER#{party}") + store.headers_by_owner(f"VISITOR#{party}")
    elif caller.role == "channel":
        headers = [h for day in (at, at - dt.timedelta(days=1))
                   for h in store.headers_by_list(domain.anonymous_key(caller.channel, tmf.iso(day)))]
    else:
        wanted = [s for s in (params.get("status") or "").split(",") if s] or [domain.WITH_AGENT, domain.OFFERED]
        headers = [h for s in wanted if s in (domain.WITH_AGENT, domain.OFFERED) for h in store.headers_by_list(f"WORKLIST#{s}")]
    listed = {h.doc["id"]: h for h in headers}

    def whole(doc: dict[str, Any]) -> dict[str, Any]:
        """A listed basket read whole: the header as the list read it (with its facts and
        composition) and its lines (one Query; none for a basket stored whole before)."""
        found = listed[doc["id"]]
        return domain.present(_whole(found, store.lines(doc["id"]) if found.legacy is None else found.legacy), at)

    readable = [domain.present(h.doc, at) for h in headers if domain.readable(h.doc, caller.role, caller.customer_id)]
    if q.filters and domain.shows_lines([f[0] for f in q.filters]):   # a filter on the lines: read them first
        readable = [whole(d) for d in readable]
    items, total = (readable, paged) if paged is not None else \
        tmf.page([d for d in readable if tmf.matches(d, q.filters)], q.offset, q.limit)
    lines_shown = domain.shows_lines(q.fields or None)
    return [tmf.select_fields(whole(d) if lines_shown and "cartItem" not in d else d, q.fields) for d in items], total


# --- for the stream's readers ------------------------------------------------------------------
def event_bodies(old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
                 ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The basket before and after a change as TMF663 hub events carry it, from the stream's
    header images: after, read whole (one Query of its lines, priced as a GET prices them) when
    it has at most OMNISHOP_HUB_EVENT_MAX_ITEMS lines, else its header (an event must fit a queue
    message: a subscriber reads a larger basket by its href). Before: the same lines when the
    change wrote none, else without cartItem (what the lines were is not kept)."""
    old, new = streams.body(old_image), streams.body(new_image)
    shown_old = domain.present(old, tmf.now()) if old else None
    if new is None:
        return shown_old, None
    found = store.stored(new, 0, streams.attribute(new_image, "facts"), streams.attribute(new_image, "composition"))
    limit = settings.hub_event_max_items()
    if found.legacy is not None:
        items = found.legacy
    else:
        items = store.lines(new["id"], limit + 1) if lines.line_count(found.composition) <= limit else []
    small = 0 < len(items) <= limit or lines.line_count(found.composition) == 0
    shown_new = domain.present(_whole(found, items) if small else found.doc, tmf.now())
    if old and shown_old is not None and old.get(domain.LINES_AT) == new.get(domain.LINES_AT) \
            and "cartItem" in shown_new:
        shown_old["cartItem"] = shown_new["cartItem"]
    return shown_old, shown_new


# --- for other contexts -------------------------------------------------------------------------
def system_move(basket_id: str, status: str, channel: str | None = None) -> tuple[dict[str, Any], int]:
    """The platform moves a basket: the abandoned-basket process offers assistance
    (assistanceOffered), ordering marks it ordered. Safe to repeat."""
    def mutate(draft: Draft, at: dt.datetime) -> Change | None:
        if draft.doc.get("status") == status:
            return None
        return _moved_by_system(draft, status, channel, at)

    return _change(basket_id, None, lambda: store.load_header(basket_id), mutate)


def _moved_by_system(draft: Draft, status: str, channel: str | None, at: dt.datetime) -> Change:
    draft.doc = domain.move(draft.doc, status, Actor.system(), True)
    draft.doc = domain.touch(draft.doc, Actor.system(channel), tmf.iso(at), [f"status {status}"], None, (None, None))
    return _finish(draft, domain.Basket(draft.doc).current_channel, at)


def ordered_write(found: store.Stored, channel: str | None = None) -> store.BasketRecord:
    """For ordering: the write marking a basket ordered, conditional on the version it was read at,
    for the order's own transaction (an order and its basket's `ordered` are one write: the
    header only, its lines are not changed)."""
    draft, expires = _moved_by_system(Draft.of(found), domain.ORDERED, channel, tmf.now())
    return store.record(draft.doc, found.version, draft.facts, expires, draft.composition, found.legacy)


def return_unordered(basket_id: str, reason: str, code: str, item_ids: list[str], version: int | None = None
                     ) -> tuple[dict[str, Any], int, bool]:
    """For ordering's callers: an approved basket that could not be ordered leaves `approved` (to
    the agent who handled it, else to the customer; domain.not_ordered); with `version`, the
    basket awaiting approval at that version (approved by the link, not orderable) does. (basket,
    version, changed); a basket no longer in that state is left as it is. Safe to repeat."""
    changed: list[bool] = []

    def mutate(draft: Draft, at: dt.datetime) -> Change | None:
        changed.clear()
        status = draft.doc.get("status")
        if status != domain.APPROVED and (version is None or draft.version != version or status != domain.AWAITING):
            return None
        earlier = list(((draft.doc.get("context") or {}).get("orderIssue") or {}).get("cartItem") or [])
        draft.doc = domain.not_ordered(draft.doc, reason, code, item_ids, tmf.iso(at), domain.last_agent(draft.doc))
        draft.read([*earlier, *item_ids])
        for line_id in dict.fromkeys([*earlier, *item_ids]):
            line = draft.current(line_id)
            if line is not None:
                draft.after[line_id] = domain.with_issue_note(line, reason, tmf.iso(at), line_id in item_ids)
        draft.doc = domain.touch(draft.doc, Actor.system(), tmf.iso(at),
                                 [f"status {draft.doc['status']}: not ordered ({code})"], None, (None, None))
        changed.append(True)
        return _finish(draft, domain.Basket(draft.doc).current_channel, at)

    doc, new_version = _change(basket_id, None, lambda: store.load_header(basket_id), mutate)
    return doc, new_version, bool(changed)


def approved_before(cutoff: str) -> list[dict[str, Any]]:
    """Approved baskets (headers) last changed before `cutoff` (ISO): one Query on the sparse
    list index."""
    return store.by_list(domain.APPROVED_KEY, cutoff)


def open_baskets(customer_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The customer's open baskets (the newest `limit` of them, for the 360 view), summarised: a
    Query on the sparse open-by-owner index, so ordered and cancelled baskets are not read (nor
    any line)."""
    at = tmf.now()
    out = []
    for doc in store.open_of(f"CUSTOMER#{customer_id}", limit):
        status = domain.effective_status(doc, at)
        if status in domain.OPEN:
            out.append({"id": doc["id"], "href": doc["href"], "status": status, "lastUpdate": doc["lastUpdate"],
                        "itemCount": domain.item_count(doc), "cartTotalPrice": doc.get("cartTotalPrice"),
                        "context": {k: v for k, v in domain.Basket(doc).context.items() if k != "changes"},
                        "@referredType": domain.TYPE})
    return out


def adopt_visitor_baskets(visitor_id: str, customer_id: str) -> int:
    """Hand-over step (chalicelib.customer.identity): the visitor's open baskets become the
    customer's, each merged into the basket the customer already had (else the newest one is
    adopted as it is, and the others merged into it). A basket whose lines would not fit (the
    lines a basket may hold, or the 99 one change may write) is adopted as it is instead: a
    login never fails on it. Safe to repeat: merged items keep derived ids, a merged basket is
    deleted only after the merge is written."""
    at = tmf.now()
    anonymous = [d for d in store.by_owner(f"VISITOR#{visitor_id}")
                 if domain.effective_status(d, at) in domain.MERGEABLE and not domain.customer_of(d)]
    if not anonymous:
        return 0
    mine = [d for d in store.by_owner(f"CUSTOMER#{customer_id}") if domain.effective_status(d, at) in domain.MERGEABLE]
    party = customer_domain.customer_party(customer_id, tmf.href(customer_domain.API_ROOT, "customer", customer_id))
    target_id = mine[0]["id"] if mine else anonymous[0]["id"]
    if not mine:
        _adopt_as_is(target_id, party)
    merged = 0
    for source in (d for d in anonymous if d["id"] != target_id):
        try:
            _merge(target_id, source, store.lines(source["id"]))
        except (Unprocessable, Invalid) as exc:
            if exc.code not in ("basketFull", "tooManyItemChanges"):
                raise
            _adopt_as_is(source["id"], party)
            logger.info("visitor basket kept apart: it does not fit", extra={"basketId": source["id"],
                                                                             "into": target_id, "why": exc.code})
            continue
        found = store.load_header(source["id"])
        if found is not None:
            try:
                store.remove(source["id"], found.version)
            except store.StaleVersion:
                # changed meanwhile: fail this delivery, the retry merges the change and deletes it
                raise RuntimeError(f"visitor basket {source['id']} changed while being merged") from None
        merged += 1
    logger.info("visitor baskets adopted", extra={"basketId": target_id, "customerId": customer_id,
                                                  "merged": merged})
    return len(anonymous)


def _adopt_as_is(basket_id: str, party: Mapping[str, Any]) -> None:
    """A visitor's basket becomes the customer's as it is (its lines untouched)."""
    def mutate(draft: Draft, now: dt.datetime) -> Change | None:
        if domain.customer_of(draft.doc):
            return None
        draft.doc["relatedParty"] = [dict(party), *(draft.doc.get("relatedParty") or [])]
        draft.doc = domain.touch(draft.doc, Actor.system(domain.Basket(draft.doc).current_channel), tmf.iso(now),
                                 ["identified: basket now the customer's"], None, (None, None))
        draft.facts = None
        return _finish(draft, domain.Basket(draft.doc).current_channel, now)

    _change(basket_id, None, lambda: store.load_header(basket_id), mutate, whole=False)


def _merge(target_id: str, source: Mapping[str, Any], source_lines: list[dict[str, Any]]) -> None:
    """A visitor's basket's lines and context merged into the customer's basket (one change)."""
    def mutate(draft: Draft, now: dt.datetime) -> Change:
        items = draft.read_all()
        for item in domain.merge_items(items, source_lines, source["id"])[len(items):]:
            draft.after[item["id"]] = item
        draft.doc["context"] = domain.merge_context(draft.doc, source)
        draft.doc = domain.touch(draft.doc, Actor.system(domain.Basket(draft.doc).current_channel), tmf.iso(now),
                                 [f"merged basket {source['id']}"], None, (None, None))
        draft.facts = None
        return _finish(draft, domain.Basket(draft.doc).current_channel, now)

    _change(target_id, None, lambda: store.load_header(target_id), mutate, whole=False)
