"""The 360 Customer View's rules as plain functions over plain values: what a valid customer,
product held and interaction is, consent and quiet hours, what a consent change audits, whose
partition an interaction belongs to, and what the 360 view shows.

Messages never echo a phone number or an email address: they say where the problem is.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from pydantic import BaseModel

from chalicelib import deferred, tmf
from chalicelib.errors import TooLarge, bad_request, invalid, unprocessable

if TYPE_CHECKING:
    from chalicelib import access
else:   # the access table: only contact roles and owned attributes need it
    access = deferred.module("chalicelib.access")

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.customer.schemas")
pydantic = deferred.module("pydantic")

API_ROOT = "/tmf-api/customerManagement/v4"
API_NAME = "customerManagement"
INTERACTION_API_ROOT = "/tmf-api/partyInteraction/v4"
INTERACTION_API_NAME = "partyInteraction"

CUSTOMER_TYPE = "Customer"
INTERACTION_TYPE = "PartyInteraction"
AUDIT_TYPE = "ContactPreferenceAudit"
VIEW_TYPE = "Customer360View"

# Consent is given per channel and purpose; each channel is reached through these contact media.
CHANNEL_MEDIA: dict[str, tuple[str, ...]] = {
    "sms": ("mobile",), "email": ("email",), "phone": ("mobile", "phone"),
    "post": ("postalAddress",), "social": ("socialNetwork",),
}
CONSENT_CHANNELS = tuple(CHANNEL_MEDIA)
PURPOSES = ("service", "marketing")
DIRECTIONS = {"inbound": "inbound", "inbounds": "inbound", "outbound": "outbound", "outbounds": "outbound"}
DEFAULT_STATUS = "initialized"
SERVER_OWNED = ("id", "href", "@type", "lastUpdate")
MAX_DOCUMENT_BYTES = 64 * 1024
CONTRACT_ENDING_DAYS = 60
VIEW_INTERACTIONS = 20
MAX_VIEW_INTERACTIONS = 100
JOURNEY_TOUCHES = 50
VIEW_OPEN_ITEMS = 20      # open baskets, orders in flight: the newest 20 of each

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
EMAIL = re.compile(r"^(?!\.)(?!.*\.\.)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}(?<!\.)@"
                   r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


# --- validation -------------------------------------------------------------------------------
def validate_payload(what: str, schema: type[BaseModel], doc: Mapping[str, Any]) -> None:
    try:
        schema.model_validate(doc)
    except pydantic.ValidationError as exc:
        raise invalid(what, exc) from None


def check_size(what: str, doc: Mapping[str, Any]) -> None:
    size = len(json.dumps(doc, separators=(",", ":")))
    if size > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"the {what} would be {size} bytes; at most {MAX_DOCUMENT_BYTES} are stored",
                       "payloadTooLarge")


def check_phone(value: Any, where: str) -> None:
    if not isinstance(value, str) or not E164.match(value):
        raise bad_request(f"{where} is not an E.164 phone number (+, country code, 8 to 15 digits, "
                          "no spaces)", "invalidPhoneNumber")


def check_email(value: Any, where: str) -> None:
    if not isinstance(value, str) or len(value) > 254 or not EMAIL.match(value):
        raise bad_request(f"{where} is not a valid email address", "invalidEmail")


def check_contact_media(media: Iterable[Mapping[str, Any]], where: str) -> None:
    for i, medium in enumerate(media):
        at, kind = f"{where}.{i}.characteristic", medium.get("mediumType")
        ch = medium.get("characteristic") or {}
        if kind in ("mobile", "phone") and ch.get("phoneNumber") is None:
            raise bad_request(f"{at}.phoneNumber is required for a {kind} contact medium")
        if kind == "email" and ch.get("emailAddress") is None:
            raise bad_request(f"{at}.emailAddress is required for an email contact medium")
        if kind == "postalAddress" and not (ch.get("country") and (ch.get("city") or ch.get("postCode"))):
            raise bad_request(f"{at} needs a country and a city or postCode for a postal address")
        for name in ("phoneNumber", "faxNumber"):
            if ch.get(name) is not None:
                check_phone(ch[name], f"{at}.{name}")
        if ch.get("emailAddress") is not None:
            check_email(ch["emailAddress"], f"{at}.emailAddress")
        period = medium.get("validFor") or {}
        tmf.check_period(period.get("startDateTime"), period.get("endDateTime"), f"{where}.{i}.validFor")


def time_zone(name: str, where: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"{where} {name!r} is not an IANA time zone (e.g. Europe/London)") from None


def check_preferences(pref: Mapping[str, Any] | None) -> None:
    if not pref:
        return
    for channel, purposes in (pref.get("consent") or {}).items():
        if channel not in CONSENT_CHANNELS:
            raise bad_request(f"contactPreference.consent: unknown channel {channel!r}; channels are "
                              f"{', '.join(CONSENT_CHANNELS)}", "unknownConsentChannel")
        for purpose in purposes:
            if purpose not in PURPOSES:
                raise bad_request(f"contactPreference.consent.{channel}: unknown purpose {purpose!r}; "
                                  f"purposes are {', '.join(PURPOSES)}", "unknownConsentPurpose")
    preferred = pref.get("preferredChannel")
    if preferred is not None and preferred not in CONSENT_CHANNELS:
        raise bad_request(f"contactPreference.preferredChannel must be one of {', '.join(CONSENT_CHANNELS)}",
                          "unknownConsentChannel")
    if pref.get("quietHours"):
        time_zone(pref["quietHours"]["timeZone"], "contactPreference.quietHours.timeZone")


def validate_customer(doc: Mapping[str, Any]) -> None:
    """Check a whole customer document; raise 400 (413 when too large) saying what is wrong."""
    validate_payload("customer", schemas.Customer, doc)
    check_contact_media(doc.get("contactMedium") or [], "contactMedium")
    for i, party in enumerate(doc.get("relatedParty") or []):
        check_contact_media(party.get("contactMedium") or [], f"relatedParty.{i}.contactMedium")
    names = [c.get("name") for c in doc.get("characteristic") or [] if isinstance(c, Mapping)]
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:   # one value per name: the rules and the owned-attribute check must read the same one
        raise bad_request(f"characteristic names must be unique; repeated: {', '.join(repeated)}")
    engaged = doc["engagedParty"].get("@referredType")
    if engaged is not None and engaged not in ("Individual", "Organization"):
        raise bad_request("engagedParty.@referredType must be Individual or Organization")
    period = doc.get("validFor") or {}
    tmf.check_period(period.get("startDateTime"), period.get("endDateTime"), "validFor")
    check_preferences(doc.get("contactPreference"))
    check_organisation(doc)
    check_size("customer", doc)


# --- business customers: contacts by role, parent organisation, sites ---------------------------
PARENT_ROLE = "parentOrganization"   # relatedParty role naming the parent (a Customer id)
MAX_HIERARCHY_DEPTH = 5              # a contact's roles reach this many levels down


def is_organisation(doc: Mapping[str, Any]) -> bool:
    return (doc.get("engagedParty") or {}).get("@referredType") == "Organization"


def segment(doc: Mapping[str, Any]) -> str:
    """The customer's market segment: its `segment` characteristic (agent-owned), else business
    for an organisation and residential for a person (what the rules and the catalogue read)."""
    named = next((c.get("value") for c in doc.get("characteristic") or []
                  if isinstance(c, Mapping) and c.get("name") == "segment"), None)
    return str(named) if named else ("business" if is_organisation(doc) else "residential")


def contact_roles(doc: Mapping[str, Any], party_id: str) -> frozenset[str]:
    """The contact roles (access.CONTACT_ROLES) `party_id` holds in this organisation itself."""
    return frozenset(str(p.get("role")) for p in doc.get("relatedParty") or []
                     if isinstance(p, Mapping) and p.get("id") == party_id and p.get("role") in access.CONTACT_ROLES)


def parent_id(doc: Mapping[str, Any]) -> str | None:
    return next((p.get("id") for p in doc.get("relatedParty") or []
                 if isinstance(p, Mapping) and p.get("role") == PARENT_ROLE), None)


def contacts_with(doc: Mapping[str, Any], role: str) -> list[Mapping[str, Any]]:
    return [p for p in doc.get("relatedParty") or [] if isinstance(p, Mapping) and p.get("role") == role]


def site(doc: Mapping[str, Any], site_id: str) -> Mapping[str, Any] | None:
    return next((s for s in doc.get("site") or [] if isinstance(s, Mapping) and s.get("id") == site_id), None)


SITE_ROLE = "site"   # an item's product.place role naming one of the customer's sites


def site_of(item: Mapping[str, Any]) -> str | None:
    """The customer site an order or quote item is for (its product's place with role `site`)."""
    return next((str(p["id"]) for p in (item.get("product") or {}).get("place") or []
                 if isinstance(p, Mapping) and p.get("role") == SITE_ROLE and p.get("id")), None)


def check_sites(items: Sequence[Mapping[str, Any]], customer: Mapping[str, Any] | None, where: str) -> None:
    """Every site an item names is one of the customer's sites (422 unknownSite otherwise)."""
    sites = {s.get("id") for s in (customer or {}).get("site") or [] if isinstance(s, Mapping)}
    for n, item in enumerate(items):
        named = site_of(item)
        if named is not None and named not in sites:
            raise unprocessable(f"{where}.{n}: site {named!r} is not one of the customer's sites"
                                + (f" ({', '.join(sorted(map(str, sites)))})" if sites else " (it has none)"),
                                "unknownSite")


def check_organisation(doc: Mapping[str, Any]) -> None:
    """Contacts with business roles, a parent and sites belong to organisations only; a parent is
    another customer (the schema makes every related party name its id), site ids are unique."""
    business = [p for p in doc.get("relatedParty") or []
                if p.get("role") in access.CONTACT_ROLES or p.get("role") == PARENT_ROLE]
    if (business or doc.get("site")) and not is_organisation(doc):
        raise bad_request("contacts by role, a parent organisation and sites are for an Organization customer",
                          "notAnOrganisation")
    if any(p.get("role") == PARENT_ROLE and p.get("id") == doc.get("id") for p in business):
        raise bad_request("an organisation cannot be its own parent", "hierarchyCycle")
    if len([p for p in business if p.get("role") == PARENT_ROLE]) > 1:
        raise bad_request("an organisation has at most one parent", "hierarchyCycle")
    ids = [s.get("id") for s in doc.get("site") or []]
    repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
    if repeated:
        raise bad_request(f"site ids must be unique; repeated: {', '.join(repeated)}", "duplicateSite")


def _strip_server_owned(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in SERVER_OWNED}


def _typed(body: Mapping[str, Any], type_name: str) -> dict[str, Any]:
    """The caller's attributes with @type set (a caller's sub-type keeps ours as @baseType)."""
    doc = _strip_server_owned(body)
    if body.get("@type") not in (None, type_name):
        doc["@baseType"] = type_name
    doc["@type"] = body.get("@type") or type_name
    return doc


def new_customer(body: Mapping[str, Any], rid: str, href: str, at: str, role: str) -> dict[str, Any]:
    """A new customer. What decides status or eligibility (access.OWNED_ATTRIBUTES: status, credit,
    segment, ...) is set by its owners only; a channel signing a person up may name the person
    (an Individual engagedParty): that an organisation is a business customer is an agent's call."""
    doc = _typed(body, CUSTOMER_TYPE)
    doc.setdefault("status", DEFAULT_STATUS)
    out = {"id": rid, "href": href, **doc, "lastUpdate": at}
    party = doc.get("engagedParty")
    person = party if isinstance(party, Mapping) and party.get("@referredType") == "Individual" else None
    access.check_owned_attributes(role, {"status": DEFAULT_STATUS, "engagedParty": person}, out)
    validate_customer(out)
    return out


def patched_customer(current: Mapping[str, Any], patch: Mapping[str, Any], at: str, role: str) -> dict[str, Any]:
    """The customer after a JSON merge patch, validated. Only their owners change the attributes
    that decide status or eligibility (access.OWNED_ATTRIBUTES): a customer changing its own
    record may not touch its status, accounts, engaged party, credit or segment (403 naming it)."""
    for key in SERVER_OWNED:
        if key in patch and patch[key] != current.get(key):
            raise bad_request(f"{key} is set by the server and cannot be changed")
    access.check_owned_attributes(role, current, tmf.merge_patch(dict(current), dict(patch)))
    doc = tmf.merge_patch(dict(current), _strip_server_owned(patch))
    doc.update(id=current["id"], href=current["href"], lastUpdate=at)
    doc["@type"] = current.get("@type", CUSTOMER_TYPE)
    validate_customer(doc)
    return doc


# --- consent, quiet hours, contact --------------------------------------------------------------
def _preference_values(doc: Mapping[str, Any] | None) -> dict[str, Any]:
    pref = (doc or {}).get("contactPreference") or {}
    out: dict[str, Any] = {f"consent.{c}.{p}": v for c, ps in (pref.get("consent") or {}).items()
                           for p, v in ps.items()}
    out["quietHours"] = pref.get("quietHours")
    out["preferredChannel"] = pref.get("preferredChannel")
    return out


def consent_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed in consent, quiet hours or the preferred channel: [{path, from, to}]."""
    before, after = _preference_values(old), _preference_values(new)
    return [{"path": key, "from": before.get(key), "to": after.get(key)}
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def audit_record(customer_id: str, changes: list[dict[str, Any]], changed_by: Mapping[str, Any],
                 aid: str, at: str, journey_key: str | None = None) -> dict[str, Any]:
    doc = {"id": aid, "@type": AUDIT_TYPE, "customerId": customer_id, "changedAt": at,
           "changedBy": dict(changed_by), "changes": changes}
    if journey_key:
        doc["journeyKey"] = journey_key
    return doc


def consent(doc: Mapping[str, Any], channel: str, purpose: str) -> bool:
    pref = doc.get("contactPreference") or {}
    return bool(((pref.get("consent") or {}).get(channel) or {}).get(purpose, False))


SERVICE_CONTACT_ROLE = "technicalContact"   # who an organisation's service messages go to


def contact_address(doc: Mapping[str, Any], channel: str, purpose: str) -> str | None:
    """The phone number / email / ... a channel reaches the customer at (preferred medium first).
    An organisation's service messages (order milestones, appointments) go to its technical
    contacts first, then to the organisation's own media; marketing only to its own."""
    tiers = [list(doc.get("contactMedium") or [])]
    if purpose == "service" and is_organisation(doc):
        tiers.insert(0, [m for p in contacts_with(doc, SERVICE_CONTACT_ROLE) for m in p.get("contactMedium") or []])
    for tier in tiers:
        found = _address_in(tier, channel)
        if found is not None:
            return found
    return None


def contact_with_right(doc: Mapping[str, Any], right: str, channel: str) -> str | None:
    """An organisation's address on `channel` of a contact whose role grants `right`
    (access.CONTACT_RIGHTS, in the order the roles are listed there: a quote to accept goes to a
    buyer before an approver); None for an Individual or when no such contact is reachable."""
    if not is_organisation(doc):
        return None
    for role in access.contact_roles_for(right):
        found = _address_in([m for p in contacts_with(doc, role) for m in p.get("contactMedium") or []], channel)
        if found is not None:
            return found
    return None


def _address_in(given: list[Any], channel: str) -> str | None:
    media = [m for m in given if isinstance(m, Mapping) and m.get("mediumType") in CHANNEL_MEDIA.get(channel, ())]
    media.sort(key=lambda m: not m.get("preferred"))
    for medium in media:
        ch = medium.get("characteristic") or {}
        if medium.get("mediumType") == "postalAddress":
            return ", ".join(ch[k] for k in ("street1", "street2", "postCode", "city", "country") if ch.get(k))
        value = ch.get("phoneNumber") or ch.get("emailAddress") or ch.get("socialNetworkId")
        if value:
            return value
    return None


def quiet_until(quiet: Mapping[str, Any] | None, at: dt.datetime) -> dt.datetime | None:
    """When quiet hours are on at `at`, the moment they end; otherwise None."""
    if not quiet:
        return None
    zone = time_zone(quiet["timeZone"], "quietHours.timeZone")
    local = at.astimezone(zone)
    start, end = (dt.time.fromisoformat(quiet[k]) for k in ("start", "end"))
    now = local.time()
    inside = (start <= now < end) if start < end else (now >= start or now < end)
    if not inside or start == end:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += dt.timedelta(days=1)
    return ends.astimezone(dt.timezone.utc)


def contact_decision(doc: Mapping[str, Any], channel: str, purpose: str, at: dt.datetime) -> dict[str, Any]:
    """May we contact this customer through `channel` for `purpose` at `at`? Every notification
    asks: {"allowed", "reason", "notBefore" (quiet hours: when to try again)}."""
    if channel not in CONSENT_CHANNELS:
        raise bad_request(f"unknown channel {channel!r}; channels are {', '.join(CONSENT_CHANNELS)}",
                          "unknownConsentChannel")
    if purpose not in PURPOSES:
        raise bad_request(f"unknown purpose {purpose!r}; purposes are {', '.join(PURPOSES)}",
                          "unknownConsentPurpose")
    if not consent(doc, channel, purpose):
        return {"allowed": False, "reason": f"no {purpose} consent for {channel}"}
    if contact_address(doc, channel, purpose) is None:
        return {"allowed": False, "reason": f"no contact medium for {channel}"}
    until = quiet_until((doc.get("contactPreference") or {}).get("quietHours"), at)
    if until is not None:
        return {"allowed": False, "reason": "quiet hours", "notBefore": tmf.iso(until)}
    return {"allowed": True, "reason": "consent given"}


def contact_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Per channel: reachable (a contact medium exists) and consent per purpose. No addresses."""
    pref = doc.get("contactPreference") or {}
    channels = {c: {"reachable": contact_address(doc, c, "service") is not None,
                    **{p: consent(doc, c, p) for p in PURPOSES}} for c in CONSENT_CHANNELS}
    return {"channels": channels, "preferredChannel": pref.get("preferredChannel"),
            "quietHours": pref.get("quietHours"),
            "contactMedia": sorted({m.get("mediumType") for m in doc.get("contactMedium") or []})}


# --- products held (TMF637 products, chalicelib/inventory) --------------------------------------
def contract_end(product: Mapping[str, Any]) -> str | None:
    """The end of a product's longest commitment (its productTerm validFor.endDateTime)."""
    ends = [str((t.get("validFor") or {}).get("endDateTime")) for t in product.get("productTerm") or []
            if isinstance(t, Mapping) and (t.get("validFor") or {}).get("endDateTime")]
    return max(ends, key=lambda e: tmf.parse_datetime(e, "productTerm.validFor.endDateTime")) if ends else None


def days_left(end: str | None, at: dt.datetime) -> int | None:
    """Whole days from `at` to a contract's end (None: no contract)."""
    return None if not end else (tmf.parse_datetime(end, "endDateTime") - at).days


def contract_ending(end: str | None, at: dt.datetime, days: int = CONTRACT_ENDING_DAYS) -> bool:
    """Eligible for an upgrade: the contract ends within `days` (and has not ended)."""
    left = days_left(end, at)
    return left is not None and 0 <= left <= days


def journey_key(value: str | None) -> str | None:
    """The X-Journey-Key a channel sent, checked."""
    if not value:
        return None
    if not re.match(schemas.IDENTIFIER, value):
        raise bad_request("X-Journey-Key must be 1 to 128 letters, digits, '.', '_', ':' or '-'")
    return value


# --- interactions -----------------------------------------------------------------------------
def direction(value: Any) -> str:
    canonical = DIRECTIONS.get(str(value).strip().lower()) if isinstance(value, str) else None
    if canonical is None:
        raise bad_request("direction must be inbound (the party started it) or outbound (we did)")
    return canonical


def _role(party: Mapping[str, Any]) -> str:
    return str(party.get("role") or "").lower()


def parties(doc: Mapping[str, Any], role: str, referred_type: str | None = None) -> list[str]:
    return list(dict.fromkeys(
        p["id"] for p in doc.get("relatedParty") or []
        if _role(p) == role or (referred_type and p.get("@referredType") == referred_type)))


def owner(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """Whose history an interaction belongs to: ("customer", id), ("visitor", id) or None."""
    customers = parties(doc, "customer", CUSTOMER_TYPE)
    if len(customers) > 1:
        raise bad_request("an interaction concerns one customer; relatedParty names several")
    if customers:
        return "customer", customers[0]
    visitors = parties(doc, "visitor")
    return ("visitor", visitors[0]) if visitors else None


def customer_party(customer_id: str, href: str | None = None) -> dict[str, Any]:
    out = {"id": customer_id, "role": "customer", "@referredType": CUSTOMER_TYPE}
    if href:
        out["href"] = href
    return out


def agent_party(agent_id: str) -> dict[str, Any]:
    return {"id": agent_id, "role": "agent", "@referredType": "Individual"}


def with_party(doc: Mapping[str, Any], party: Mapping[str, Any]) -> dict[str, Any]:
    """The interaction with `party` among its relatedParty (once, by id and role)."""
    present = any(p.get("id") == party["id"] and _role(p) == party["role"] for p in doc.get("relatedParty") or [])
    return dict(doc) if present else {**doc, "relatedParty": [*(doc.get("relatedParty") or []), dict(party)]}


def new_interaction(body: Mapping[str, Any], rid: str, href: str, at: str) -> dict[str, Any]:
    """The stored interaction: the caller's attributes, defaults, canonical direction."""
    doc = _typed(body, INTERACTION_TYPE)
    doc.pop("creationDate", None)
    validate_payload("partyInteraction", schemas.PartyInteraction, doc)
    doc["direction"] = direction(doc["direction"])
    period = doc.get("interactionDate") or {"startDateTime": at}
    tmf.check_period(period.get("startDateTime"), period.get("endDateTime"), "interactionDate")
    doc["interactionDate"] = period
    doc.setdefault("status", "completed")
    for i, item in enumerate(doc.get("interactionItem") or []):
        if not item.get("item") and not item.get("id"):
            raise bad_request(f"interactionItem.{i} must reference the item it concerns (item.id)")
    out = {"id": rid, "href": href, **doc, "creationDate": at, "statusChangeDate": at}
    owner(out)
    check_size("partyInteraction", out)
    return out


def occurred(interaction: Mapping[str, Any]) -> str:
    """When it happened (the history's order): its start, else its creation."""
    start = (interaction.get("interactionDate") or {}).get("startDateTime")
    return tmf.iso(tmf.parse_datetime(start, "interactionDate.startDateTime")) if start else interaction["creationDate"]


# --- the 360 view -----------------------------------------------------------------------------
def current_journey(interactions: Sequence[Mapping[str, Any]]) -> str | None:
    """The journey of the newest interaction that belongs to one."""
    return next((i["journeyKey"] for i in interactions if i.get("journeyKey")), None)


def journey_touches(newest: Sequence[Mapping[str, Any]], key: str, complete: bool) -> list[Mapping[str, Any]] | None:
    """The newest JOURNEY_TOUCHES touches of journey `key`, when `newest` (a partition's newest
    interactions, newest first; all of them if `complete`) is enough to know them: it holds that
    many of the journey's touches, or the whole history. None: the journey must be read."""
    touches = [i for i in newest if i.get("journeyKey") == key]
    if complete or len(touches) >= JOURNEY_TOUCHES:
        return touches[:JOURNEY_TOUCHES]
    return None


def view_360(customer: Mapping[str, Any], products: list[dict[str, Any]], interactions: list[dict[str, Any]],
             journey: list[dict[str, Any]], sections: Mapping[str, list[Any]], at: dt.datetime) -> dict[str, Any]:
    held = [{**p, "contractDaysLeft": days_left(contract_end(p), at)} for p in products]
    key = current_journey(interactions)
    return {
        "@type": VIEW_TYPE,
        "id": customer["id"],
        "customer": dict(customer),
        "contact": contact_summary(customer),
        "productsHeld": held,
        "contractEnding": [p["id"] for p in products if contract_ending(contract_end(p), at)],
        **{name: list(items) for name, items in sections.items()},
        "interactions": interactions,
        "currentJourney": {"journeyKey": key, "interactions": journey} if key else None,
        "generatedAt": tmf.iso(at),
    }
