"""TMF648 use cases: create (from items or a basket), read, list, change (a sent quote becomes a
new version), move through the life cycle (submit, approve, reject, accept, cancel), accept by
the emailed link, the approvers' worklist, the expiry sweep, what the quote stream consumer does
(hub events, emails), and the checkout of an accepted quote for chalicelib/ordering.

Prices come from the catalogue through basket pricing (chalicelib/basket/pricing.py), for the
channel the quote is made in; the discounts an agent agrees are applied on top (domain.py). Who
may do what: chalicelib/access.py ("quote") for the role, domain.MOVES for each state change;
whether a sales manager must approve: data/approval_rules.json.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from chalicelib.actor import Actor
from chalicelib import deferred, notify, settings, tmf
from chalicelib.auth import Caller
from chalicelib.customer import load_customer
from chalicelib.view import ref_id
from chalicelib.errors import ApiError, Gone, bad_request, conflict, forbidden, not_found, precondition_failed, unprocessable
from chalicelib.notify import links
from chalicelib.observability import logger
from chalicelib.quote import domain, store

# imported on first use: importing this module does not load it (chalicelib/deferred.py). The
# quote stream and the expiry sweep (functions/quote_*.py) price nothing and check no caller: the
# pricing, catalogue, rules and access modules are loaded by the API's calls; the customer rules
# by the first quote sent to a customer or validated.
schemas = deferred.module("chalicelib.quote.schemas")
access = deferred.module("chalicelib.access")
baskets = deferred.module("chalicelib.basket")
basket_domain = deferred.module("chalicelib.basket.domain")
customer_domain = deferred.module("chalicelib.customer.domain")
pricing = deferred.module("chalicelib.basket.pricing")
rules = deferred.module("chalicelib.rules")
rules_domain = deferred.module("chalicelib.rules.domain")

READ_ONLY = ("id", "href", "quoteDate", "quoteTotalPrice", "authorization", "productOrder", "relatedParty",
             "effectiveQuoteCompletionDate", "shoppingCart", "channel", "lastUpdate", "@type")
TERMS_BY = ("agent",)            # who may set discounts and contract terms
LINK_PATH = f"{domain.API_ROOT}/quoteLink"
LINK_CHANNEL = "email"


def href(quote_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, quote_id)


def _listed(docs: list[dict[str, Any]], params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
    """A page of quotes; a large quote's lines are read only for the quotes the page shows, unless
    a filter looks at them."""
    offset, limit = tmf.paging(params)
    filters = tmf.attribute_filters(params)
    if any(path.split(".", 1)[0] == "quoteItem" for path, _, _ in filters):
        docs = store.filled(docs)
    chosen = [d for d in docs if tmf.matches(d, filters)]
    items, total = tmf.page(chosen, offset, limit)
    return _shown(items, params), total


def _shown(items: list[dict[str, Any]], params: Mapping[str, str]) -> list[dict[str, Any]]:
    """A page's quotes as answered: their lines read for the large ones unless `fields=` leaves
    them out, then `fields=` (href always kept)."""
    fields = tmf.field_selection(params)
    if fields is None or "quoteItem" in {f.split(".", 1)[0] for f in fields}:
        items = store.filled(items)
    return [tmf.select_fields(d, fields and fields + ["href"]) for d in items]


# --- pricing ------------------------------------------------------------------------------------
def _priced(doc: dict[str, Any], channel: str | None) -> dict[str, Any]:
    """Every item priced from the catalogue for `channel` (422 for an offering not on sale there),
    the agreed discounts applied, and the totals."""
    items = doc["quoteItem"]
    offerings: dict[str, dict[str, Any]] = {}
    for n, item in enumerate(items):
        oid = item["productOffering"]["id"]
        try:
            offerings[oid] = rules.offering_for_sale(oid, channel)
        except ApiError as exc:
            raise unprocessable(f"quoteItem.{n}: {exc.message}", exc.code or "unknownOffering") from None
    lines = [{"id": i["id"], "quantity": i["quantity"], "status": "active", "productOffering": {"id": i["productOffering"]["id"]}}
             for i in items]
    bundle_ids = [r["bundle"]["id"] for r in rules.bundle_rules()]
    customer_id = domain.customer_of(doc)
    buyer = pricing.buyer(channel, rules.profile(customer_id) if customer_id else None, None, tmf.now())
    priced, cart_totals = pricing.price_basket(lines, offerings, baskets.catalogue, channel, bundle_ids, buyer)
    out_items = []
    for item, line in zip(items, priced):
        offering = offerings[item["productOffering"]["id"]]
        pct = domain.percent((item.get("discount") or {}).get("percentage"))
        done = {**item, "productOffering": rules_domain.offering_ref(offering), "@type": "QuoteItem",
                "quoteItemPrice": [domain.discounted(domain.quote_price(p), pct) for p in line["ItemTotalPrice"]]}
        if not item.get("itemTerm") and offering.get("productOfferingTerm"):
            done["itemTerm"] = domain.offering_terms(offering)
        out_items.append(done)
    quote_pct = domain.percent((doc.get("discount") or {}).get("percentage"))
    out = {**doc, "quoteItem": out_items}
    out["quoteTotalPrice"] = domain.totals(cart_totals, domain.item_savings(out_items), quote_pct)
    return out


def _standard_terms(doc: Mapping[str, Any]) -> dict[str, list[int]]:
    out = {}
    for item in doc.get("quoteItem") or []:
        offering = baskets.catalogue.offering(item["productOffering"]["id"]) or {}
        out[item["id"]] = [m for m in (domain.term_months(t) for t in offering.get("productOfferingTerm") or []) if m]
    return out


def _check_terms(body: Mapping[str, Any], caller: Caller, current: Mapping[str, Any] | None = None) -> None:
    """Discounts and contract terms are agreed by an agent (403 for others). On a change, only
    those it changes count: a line sent back with the discount or term it has, for the same
    offering (a JSON Patch of its quantity, a customer resending her lines), asks for nothing new."""
    was = {i.get("id"): i for i in (current or {}).get("quoteItem") or []}

    def new_terms(item: Mapping[str, Any]) -> bool:
        before = was.get(item.get("id")) or {}
        moved = ref_id(item, "productOffering") != ref_id(before, "productOffering")   # the terms were for that offering
        return any(name in item and (moved or item[name] != before.get(name)) for name in ("discount", "itemTerm"))

    asked = ("discount" in body and body["discount"] != (current or {}).get("discount")) or \
        any(new_terms(i) for i in body.get("quoteItem") or [])
    if asked and caller.role not in TERMS_BY:
        raise forbidden(f"discounts and contract terms are agreed by an agent, not by role {caller.role!r}")


def _check_grantable(doc: Mapping[str, Any]) -> None:
    largest, most = domain.largest_discount(doc), domain.grantable()
    if largest > most:
        raise unprocessable(f"a discount of {pricing.text(largest)}% is beyond what any approver may grant "
                            f"(at most {pricing.text(most)}%); nothing was written", "discountBeyondLimit")


def _numbered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [i.get("id") for i in items if i.get("id")]
    if len(set(ids)) != len(ids):
        raise bad_request("quoteItem ids must be unique", "duplicateItem")
    used, out, n = set(ids), [], 0
    for item in items:
        if not item.get("id"):
            n += 1
            while str(n) in used:
                n += 1
            item = {**item, "id": str(n)}
        out.append({**item, "action": item.get("action", "add"), "quantity": item.get("quantity", 1)})
    return out


# --- create -------------------------------------------------------------------------------------
def _customer_for(body: Mapping[str, Any], caller: Caller) -> str:
    named = [p.get("id") for p in body.get("relatedParty") or [] if str(p.get("role") or "").lower() == "customer"]
    if caller.role == "customer":
        if any(n != caller.customer_id for n in named):
            raise forbidden("a customer asks for quotes for herself only")
        return caller.own_customer_id
    if not named:
        raise unprocessable("a quote is for an identified customer: name her in relatedParty (role customer)",
                            "identifyCustomer")
    if load_customer(named[0]) is None:
        raise unprocessable(f"customer {named[0]} does not exist", "unknownCustomer")
    return named[0]


def _check_sites(items: list[dict[str, Any]], customer_id: str) -> None:
    """Items naming a site (product.place role site) name one of the customer's: 422 unknownSite."""
    if any(customer_domain.site_of(i) for i in items):
        found = load_customer(customer_id)
        customer_domain.check_sites(items, found[0] if found else None, "quoteItem")


def _check_size(doc: dict[str, Any]) -> None:
    """Each record the quote is stored as (its header, each page of its lines) within bounds."""
    for part in store.parts(doc):
        customer_domain.check_size("quote", part)


def _basket_items(ref: Mapping[str, Any], caller: Caller, customer_id: str) -> list[dict[str, Any]]:
    found = baskets.load(ref["id"])
    if found is None or not basket_domain.readable(found.doc, caller.role, caller.customer_id):
        raise not_found("shoppingCart", ref["id"])
    owner = basket_domain.customer_of(found.doc)
    if owner not in (None, customer_id):
        raise unprocessable(f"shoppingCart {ref['id']} is another customer's basket", "basketOfAnotherCustomer")
    items = [{"id": i["id"], "action": "add", "quantity": i.get("quantity", 1), "productOffering": {"id": i["productOffering"]["id"]},
              **({"product": product} if (product := {k: v for k, v in (i.get("product") or {}).items()
                                                     if k in ("productCharacteristic", "place")}) else {})}
             for i in found.doc.get("cartItem") or [] if i.get("status", "active") == "active"]
    if not items:
        raise unprocessable(f"shoppingCart {ref['id']} has no active items to quote", "emptyBasket")
    if len(items) > domain.MAX_ITEMS or any(i["quantity"] > domain.MAX_QUANTITY for i in items):
        raise unprocessable(f"a quote holds at most {domain.MAX_ITEMS} items of at most {domain.MAX_QUANTITY} each",
                            "tooManyItems")
    return items


def create(body: Mapping[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    access.check(caller, domain.RESOURCE, access.WRITE)
    customer_domain.validate_payload("quote", schemas.Quote, body)
    for name in ("id", "href", "state", "quoteDate", "quoteTotalPrice", "authorization", "productOrder", "version"):
        if name in body:
            raise bad_request(f"{name} is set by the server", "readOnlyField")
    _check_terms(body, caller)
    customer_id = _customer_for(body, caller)
    cart = body.get("shoppingCart")
    items = _basket_items(cart, caller, customer_id) if cart else [dict(i) for i in body["quoteItem"]]
    _check_sites(items, customer_id)
    at = tmf.now()
    try:
        valid = domain.valid_for(at, settings.quote_valid_days(), body.get("validFor"))
    except ValueError as exc:
        raise bad_request(str(exc), "invalidValidFor") from None
    qid = tmf.new_id()
    parties = [{"id": customer_id, "role": "customer", "@referredType": "Customer"}]
    if caller.role != "customer":
        parties.append({"id": caller.sub, "role": caller.role, "@referredType": "Individual"})
    doc = {k: v for k, v in body.items() if k not in ("quoteItem", "relatedParty", "validFor", "shoppingCart")}
    doc.update({"id": qid, "href": href(qid), "@type": domain.TYPE, "state": domain.IN_PROGRESS, "version": "1",
                "quoteDate": tmf.iso(at), "lastUpdate": tmf.iso(at), "validFor": valid, "relatedParty": parties,
                "quoteItem": _numbered(items), "channel": [{"id": caller.channel, "role": "sales channel"}]
                if caller.channel else []})
    if cart:
        doc["shoppingCart"] = {"id": cart["id"], "href": baskets.href(cart["id"]), "@referredType": basket_domain.TYPE}
    doc = _priced(doc, caller.channel)
    _check_grantable(doc)
    _check_size(doc)
    version = store.insert(doc)
    if version is None:
        raise conflict(f"quote {qid} exists already; send the request again")
    logger.info("quote created", extra={"quoteId": qid, "by": caller.role, "items": len(doc["quoteItem"])})
    return doc, version


# --- read -----------------------------------------------------------------------------------------
def read(quote_id: str, caller: Caller, number: str | None = None) -> tuple[dict[str, Any], int]:
    """The quote (`number`: a version sent before, as it was sent)."""
    access.check(caller, domain.RESOURCE, access.READ)
    found = store.load(quote_id)
    if found is None or not domain.visible(found[0], caller.role, caller.customer_id):
        raise not_found(domain.RESOURCE, quote_id)
    if number is None or number == found[0].get("version"):
        return found
    kept = store.load_version(quote_id, int(number)) if number.isdecimal() and number.isascii() and len(number) < 10 \
        else None
    if kept is None:
        raise not_found(f"{domain.RESOURCE} version", f"{quote_id} v{number}")
    return kept, found[1]


def search(params: Mapping[str, str], caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """Every quote (agents, sales managers), or one's own (a customer). A sales manager's
    `state=pending` is the worklist: one Query of the quotes waiting for approval."""
    access.check(caller, domain.RESOURCE, access.READ)
    own = caller.own_customer_id if caller.role == "customer" else None
    if not tmf.attribute_filters(params) and (own or domain.visible({}, caller.role, None)):
        offset, limit = tmf.paging(params)   # no filter: DynamoDB pages (store.page)
        items, total = store.page(offset, limit, own)
        return _shown(items, params), total
    if caller.role == "customer":
        docs = store.quotes(caller.own_customer_id)
    elif params.get("state") == domain.PENDING:
        docs = store.waiting()
    else:
        docs = store.quotes()
    return _listed([d for d in docs if domain.visible(d, caller.role, caller.customer_id)], params)


# --- change -------------------------------------------------------------------------------------
def update(quote_id: str, patch: Mapping[str, Any] | list[dict[str, Any]], caller: Caller,
           if_match: str | None = None) -> tuple[dict[str, Any], int]:
    """A merge patch, or a JSON Patch (RFC 6902 operations on the fields a patch may change),
    which is the merge patch of what its operations change."""
    access.check(caller, domain.RESOURCE, access.WRITE)
    current, version = read(quote_id, caller)
    if isinstance(patch, list):
        patch = domain.from_json_patch(current, patch, tuple(schemas.QuotePatch.model_fields))
        if not patch:
            return current, version
    customer_domain.validate_payload("quote patch", schemas.QuotePatch, patch)
    expected = tmf.parse_if_match(if_match)
    if expected is not None and expected != version:
        raise precondition_failed(f"quote {quote_id} is at version {version}, not {expected}", current)
    fixed = [k for k in READ_ONLY if k in patch]
    if fixed:
        raise bad_request(f"{', '.join(fixed)} of a quote cannot change", "readOnlyField")
    if "state" in patch:
        if set(patch) - {"state", "stateReason", "version"}:
            raise bad_request("a state change is sent alone (with stateReason, and version to accept)",
                              "stateChangeAlone")
        doc = _moved(current, patch, caller)
    else:
        if set(patch) & {"stateReason", "version"}:
            raise bad_request("stateReason and version go with a state change", "readOnlyField")
        doc, version = _changed(current, version, patch, caller), version
    return _write(doc, version, current, caller)


def _changed(current: dict[str, Any], version: int, patch: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """Items, discounts, validity: by an agent, or by the customer on her own quote before it is
    sent (no discounts). A sent (approved) quote becomes the next version; a pending one goes
    back in progress (its approval request with it)."""
    if caller.role not in ("agent", "customer"):
        raise forbidden(f"role {caller.role!r} approves or rejects quotes; it does not change them")
    state = current["state"]
    if state not in domain.OPEN:
        raise conflict(f"quote {current['id']} is {state}: it cannot change any more", "quoteClosed")
    if caller.role == "customer" and state != domain.IN_PROGRESS:
        raise conflict(f"quote {current['id']} is {state}: ask your agent to change it (a new version)",
                       "quoteSubmitted")
    _check_terms(patch, caller, current)
    at = tmf.now()
    if domain.expired(current, at):
        raise conflict(f"quote {current['id']} expired at {current['validFor']['endDateTime']}", "quoteExpired")
    doc = tmf.merge_patch(current, {k: v for k, v in patch.items() if k not in ("quoteItem", "validFor")})
    if "quoteItem" in patch:
        if patch["quoteItem"] is None:
            raise bad_request("quoteItem cannot be null: send the items the quote should hold")
        doc["quoteItem"] = _numbered([dict(i) for i in patch["quoteItem"]])
        _check_sites(doc["quoteItem"], domain.customer_of(doc) or "")
    if "validFor" in patch:
        try:
            doc["validFor"] = domain.valid_for(tmf.parse_datetime(current["quoteDate"], "quoteDate"),
                                               settings.quote_valid_days(), patch["validFor"])
        except ValueError as exc:
            raise bad_request(str(exc), "invalidValidFor") from None
    channel = ((current.get("channel") or [{}])[0]).get("id")
    doc = _priced(doc, channel)
    _check_grantable(doc)
    stamp = tmf.iso(at)
    if state == domain.APPROVED:
        doc = domain.next_version(doc, stamp)
    elif state == domain.PENDING:
        doc = {**domain.moved(doc, domain.IN_PROGRESS, stamp), "authorization": [
            a for a in doc.get("authorization") or [] if a.get("state") != "requested"]}
    return {**doc, "lastUpdate": stamp}


def _moved(current: dict[str, Any], patch: Mapping[str, Any], caller: Caller, role: str | None = None) -> dict[str, Any]:
    old, new, role = current["state"], patch["state"], role or caller.role
    if new == old:
        return current
    if (old, new) not in domain.MOVES:
        raise conflict(f"a quote {old} cannot become {new}", "invalidStateTransition")
    if not domain.may_move(old, new, role):
        allowed = ", ".join(domain.MOVES[(old, new)])
        raise forbidden(f"role {role!r} may not move a quote from {old} to {new}; {allowed} may")
    at = tmf.now()
    stamp, reason = tmf.iso(at), patch.get("stateReason")
    if new in (domain.PENDING, domain.APPROVED, domain.ACCEPTED) and domain.expired(current, at):
        raise conflict(f"quote {current['id']} expired at {current['validFor']['endDateTime']}", "quoteExpired")
    if old == domain.IN_PROGRESS and new in (domain.PENDING, domain.APPROVED):      # submitted
        needed = domain.approvals_needed(current, _standard_terms(current))
        if not needed:
            return domain.moved(current, domain.APPROVED, stamp)
        request = domain.authorization_request(needed, stamp)
        return {**domain.moved(current, domain.PENDING, stamp),
                "authorization": [*(current.get("authorization") or []), request]}
    if old == domain.PENDING:                                                           # decided
        if new == domain.REJECTED and not reason:
            raise bad_request("a rejection says why: stateReason", "reasonRequired")
        if new == domain.APPROVED:
            largest, may = domain.largest_discount(current), domain.max_discount(role)
            if largest > may:
                raise forbidden(f"a {pricing.text(largest)}% discount is beyond what role {role!r} may grant "
                                f"(at most {pricing.text(may)}%); nothing was written")
        given = [domain.authorization_given(a, new == domain.APPROVED, Actor(role, caller.sub), reason, stamp)
                 if a.get("state") == "requested" else a for a in current.get("authorization") or []]
        return {**domain.moved(current, new, stamp, reason), "authorization": given}
    if new == domain.ACCEPTED:
        asked = patch.get("version")
        if asked is None:
            raise bad_request("the customer accepts one version: send version", "versionRequired")
        if asked != current.get("version"):
            raise conflict(f"version {asked} of quote {current['id']} is not the latest sent (version "
                           f"{current.get('version')}): accept that one", "notLatestVersion")
    return domain.moved(current, new, stamp, reason)


def _write(doc: dict[str, Any], version: int, current: dict[str, Any], caller: Caller) -> tuple[dict[str, Any], int]:
    if doc is current:
        return current, version
    _check_size(doc)
    kept = current if doc.get("version") != current.get("version") else None
    try:
        version = store.replace(doc, version, kept, before=current)
    except store.StaleVersion:
        raise conflict(f"quote {doc['id']} was changed meanwhile; read it again", "quoteChanged") from None
    logger.info("quote changed", extra={"quoteId": doc["id"], "by": caller.role, "state": doc["state"],
                                        "quoteVersion": doc.get("version")})
    return doc, version


# --- the customer's link ----------------------------------------------------------------------------
def accept_link(quote_id: str, number: int, end: str) -> str:
    """The signed link in the customer's email: accepts version `number`, works until the quote's
    validity ends."""
    seconds = int((tmf.parse_datetime(end, "validFor.endDateTime") - tmf.now()).total_seconds())
    token = links.sign(domain.LINK_ACCEPT, domain.link_subject(quote_id, number), max(seconds, 1))
    return links.url(token, LINK_PATH)


def _linked(token: str) -> tuple[dict[str, Any], int, int]:
    link = links.verify(token, domain.LINK_ACCEPT)
    parsed = domain.parse_link_subject(link.subject)
    found = store.load(parsed[0]) if parsed else None
    if parsed is None or found is None:
        raise Gone("this quote no longer exists", "quoteGone")
    return found[0], found[1], parsed[1]


def link_view(token: str) -> dict[str, Any]:
    """What the link offers: the quote's prices and validity (no personal data) and `accept`."""
    doc, _, number = _linked(token)
    shown = doc if str(number) == doc.get("version") else store.load_version(doc["id"], number) or doc
    return {"quote": {k: shown.get(k) for k in ("id", "href", "version", "state", "validFor", "quoteTotalPrice")},
            "items": [{"name": i["productOffering"].get("name"), "quantity": i["quantity"]} for i in shown["quoteItem"]],
            "latestVersion": doc.get("version"),
            "actions": [{"name": "accept", "href": f"{LINK_PATH}/{token}/accept",
                         "description": f"accept version {number} of this quote"}]}


def accept_by_link(token: str) -> dict[str, Any]:
    """The customer accepts the version her email showed (409 when it is no longer the latest,
    expired, or no longer open to acceptance). Accepting again changes nothing."""
    doc, version, number = _linked(token)
    customer = domain.customer_of(doc)
    caller = Caller(sub=customer or "", role="customer", channel=LINK_CHANNEL, customer_id=customer)
    if doc["state"] == domain.ACCEPTED and doc.get("version") == str(number):
        return {"quote": {"id": doc["id"], "version": doc["version"], "state": doc["state"]}, "changed": False}
    moved = _moved(doc, {"state": domain.ACCEPTED, "version": str(number)}, caller)
    done, _ = _write(moved, version, doc, caller)
    return {"quote": {"id": done["id"], "version": done["version"], "state": done["state"]}, "changed": True}


# --- the expiry sweep -------------------------------------------------------------------------------
def sweep(at: str | None = None) -> int:
    """Cancel the open quotes whose validity ended (stateReason "expired"): how many. Safe to
    repeat: a quote changed or closed meanwhile is read again and left alone."""
    at = at or tmf.now_iso()
    ended = 0
    for listed in store.due_by(at):
        found = store.load(listed["id"])
        if found is None or found[0]["state"] not in domain.OPEN or not domain.expired(found[0], tmf.parse_datetime(at, "at")):
            continue
        try:
            store.replace(domain.moved(found[0], domain.CANCELLED, at, "expired"), found[1], before=found[0])
            ended += 1
        except store.StaleVersion:   # changed meanwhile: the next sweep looks again
            continue
    return ended


# --- the stream consumer: emails ------------------------------------------------------------------
APPROVAL_SUBJECT = "A quote waits for your approval"
APPROVAL_EMAIL = ("Quote {quote} (version {version}) for customer {customer} needs a sales manager's approval:\n\n"
                  "{why}\n\n{prices}\n\nOpen your worklist: {worklist}\n\nOmnishop")
CUSTOMER_SUBJECT = "Your Omnishop quote"
CUSTOMER_EMAIL = ("Hello {{name}},\n\nHere is your quote (version {version}), valid until {until}:\n\n{prices}\n\n"
                  "Accept it here: {{link}}\n\nOmnishop")


def _literal(text: Any) -> str:
    return str(text or "").replace("{", "{{").replace("}", "}}")


def _accepting_contact(customer_id: str | None) -> str | None:
    """A business customer's quote goes to a contact who may accept it (a buyer, else an
    approver); an Individual's (None) to her own address, by notify's consent rules."""
    found = load_customer(customer_id) if customer_id else None
    return customer_domain.contact_with_right(found[0], "accept", "email") if found else None


def on_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, version: int) -> list[str]:
    """What a quote's change sends (from the stream; each message once per id, so a record
    delivered twice sends nothing twice): approvers are asked when it becomes pending, the
    customer gets it with the accept link when it becomes approved (sent). Message ids sent."""
    if new is None or (old or {}).get("state") == new.get("state") and (old or {}).get("version") == new.get("version"):
        return []
    sent = []
    if new["state"] == domain.PENDING:
        mid = f"quote-{new['id']}-approval-{version}"
        why = "; ".join(a.get("description", "") for a in new.get("authorization") or [] if a.get("state") == "requested")
        text = APPROVAL_EMAIL.format(quote=new["id"], version=new.get("version"), customer=domain.customer_of(new),
                                     why=why, prices=domain.summary(new),
                                     worklist=f"{tmf.base_url()}{domain.API_ROOT}/quote?state=pending")
        notify.send(mid, notify.MessageRequest(
            purpose="service", content={"email": _literal(text)}, subject=APPROVAL_SUBJECT, channels=["email"],
            address=settings.quote_approvers_email(), resume=True, reason="quote waits for approval",
            related=[{"id": new["id"], "href": new.get("href"), "@referredType": domain.TYPE}]))
        sent.append(mid)
    if new["state"] == domain.APPROVED and domain.customer_of(new):
        number = domain.version_of(new)
        mid = f"quote-{new['id']}-v{number}"
        text = CUSTOMER_EMAIL.format(version=number, until=new["validFor"]["endDateTime"],
                                     prices=_literal(domain.summary(new)))
        notify.send(mid, notify.MessageRequest(
            customer_id=domain.customer_of(new), purpose="service", content={"email": text}, subject=CUSTOMER_SUBJECT,
            channels=["email"], address=_accepting_contact(domain.customer_of(new)), fields={"link": accept_link(new["id"], number, new["validFor"]["endDateTime"])},
            resume=True, reason="quote sent to the customer",
            related=[{"id": new["id"], "href": new.get("href"), "@referredType": domain.TYPE}]))
        sent.append(mid)
    return sent


# --- for checkout (chalicelib/ordering) -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Quoted:
    """An accepted quote to order: the order's id (one order per quote), the order body ordering
    captures, and the quote's write for the order's own transaction."""
    order_id: str
    body: dict[str, Any]
    quote: dict[str, Any]
    write: Any

    def priced(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order with the quote's agreed prices (discounts included), not today's catalogue."""
        by_id = {i["id"]: i for i in self.quote["quoteItem"]}
        items = []
        for item in order.get("productOrderItem") or []:
            quoted = by_id.get(item["id"])
            if quoted is not None:
                prices = [_order_price(p) for p in quoted.get("quoteItemPrice") or []]
                item = {**item, "itemTotalPrice": prices}
            items.append(item)
        totals = [_order_price(p) for p in self.quote.get("quoteTotalPrice") or []]
        return {**order, "productOrderItem": items, "orderTotalPrice": totals}


def _order_price(price: Mapping[str, Any]) -> dict[str, Any]:
    name = str(price.get("name") or "")
    out = {**price, "@type": "OrderPrice"}
    if name.startswith("Quote"):
        out["name"] = "Order" + name[len("Quote"):]
    return out


def order_id(quote_id: str) -> str:
    return f"quote-{quote_id}"


def order_checkout(body: Mapping[str, Any], caller: Caller, order_href: Any) -> Quoted:
    """POST productOrder {"quote": [{"id": ...}]}: the accepted quote the caller may see, as an
    order. 404 for a quote she may not see, 409 quoteNotAccepted for one not accepted (nothing
    written); a quote ordered before names its order (ordering answers that order again)."""
    refs = body.get("quote") or []
    if len(refs) != 1 or not isinstance(refs[0], Mapping) or not refs[0].get("id"):
        raise bad_request("an order is made from one quote: \"quote\": [{\"id\": ...}]")
    if body.get("productOrderItem") or body.get("shoppingCart"):
        raise bad_request("an order is made from a quote, a shoppingCart or productOrderItem: one of them")
    found = store.load(refs[0]["id"])
    if found is None or not domain.visible(found[0], caller.role, caller.customer_id):
        raise not_found(domain.RESOURCE, refs[0]["id"])
    doc, version = found
    oid = order_id(doc["id"])
    if doc["state"] != domain.ACCEPTED:
        raise conflict(f"quote {doc['id']} is {doc['state']}: only an accepted quote is ordered", "quoteNotAccepted")
    at = tmf.now_iso()
    marked = {**doc, "lastUpdate": at, "productOrder": [{"id": oid, "href": order_href(oid),
                                                          "@referredType": "ProductOrder"}]}
    order_body = {k: v for k, v in body.items() if k != "quote"}
    order_body.update({
        "quote": [{"id": doc["id"], "href": doc["href"], "version": doc.get("version"), "@referredType": domain.TYPE}],
        "relatedParty": [{"id": domain.customer_of(doc), "role": "customer", "@referredType": "Customer"}],
        "productOrderItem": [{"id": i["id"], "action": "add", "quantity": i["quantity"],
                              "productOffering": {"id": i["productOffering"]["id"]},
                              **({"product": i["product"]} if i.get("product") else {})} for i in doc["quoteItem"]]})
    return Quoted(oid, order_body, doc, store.ordered_write(marked, version, doc) if "productOrder" not in doc else None)

