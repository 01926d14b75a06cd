"""The one place qualification rules are evaluated. Plain functions over plain values.

Rules come from two sources, evaluated together:
- the catalogue itself: an offering's `channel` list (channel availability), its `marketSegment`
  (segment eligibility) and its `productOfferingRelationship` of type requires / requiresHandset
  (compatibility) or excludes;
- rule documents managed by catalog-admin (`qualificationRule`): channel, eligibility (segment,
  customer type), requires (an add-on needs its base, in the basket or held), excludes, upgrade
  (holders of an offering must be near their contract end) and serviceability (a technology at
  the address, from the coverage table). bundlePrice rules are pricing, not qualification.

An item is `qualified` when nothing fails, `unqualified` when something fails, `undetermined`
when nothing fails but something could not be checked (no address yet).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re
from typing import Any, Iterable, Mapping

from chalicelib.view import ref_id
from chalicelib import deferred, tmf
from chalicelib.errors import bad_request, invalid

# imported on first use: importing this module does not load them (chalicelib/deferred.py)
schemas = deferred.module("chalicelib.rules.schemas")
customer_domain = deferred.module("chalicelib.customer.domain")
pydantic = deferred.module("pydantic")

API_ROOT = "/tmf-api/productOfferingQualification/v4"
API_NAME = "productOfferingQualification"
RULE_KIND = "qualificationRule"          # stored in the catalogue table, read through its cache
RULE_TYPE = "QualificationRule"
POQ_TYPE = "ProductOfferingQualification"
SERVER_OWNED = ("id", "href", "@type", "lastUpdate")

QUALIFIED, UNQUALIFIED, UNDETERMINED = "qualified", "unqualified", "undetermined"
# What an anonymous visitor is taken to be until they log in.
ANONYMOUS_SEGMENT = "residential"
ANONYMOUS_CUSTOMER_TYPE = "individual"
REQUIRES_RELATIONSHIPS = ("requires", "requiresHandset")
EXCLUDES_RELATIONSHIPS = ("excludes",)
GUIDED_STEPS = (("plan", "compatiblePlan"), ("accessory", "accessory"))


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the rules know about the sale: the channel, the customer (None when anonymous) and
    the address's technologies (None when no address is known)."""
    channel: str | None
    segment: str | None = None
    customer_type: str | None = None
    held: tuple[tuple[str, int | None], ...] = ()     # (offering id, contract days left)
    technologies: frozenset[str] | None = None
    known_customer: bool = False

    @property
    def effective_segment(self) -> str | None:
        return self.segment if self.known_customer else ANONYMOUS_SEGMENT

    @property
    def effective_customer_type(self) -> str | None:
        return self.customer_type if self.known_customer else ANONYMOUS_CUSTOMER_TYPE

    def holds(self, offering_ids: Iterable[str]) -> list[tuple[str, int | None]]:
        wanted = set(offering_ids)
        return [h for h in self.held if h[0] in wanted]


# --- rule documents ---------------------------------------------------------------------------
def _strip_server_owned(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in SERVER_OWNED}


def validate_rule(doc: Mapping[str, Any]) -> None:
    try:
        rule = schemas.QualificationRule.model_validate(doc)
    except pydantic.ValidationError as exc:
        raise invalid(RULE_KIND, exc) from None
    needs = {"channel": "channel", "eligibility": None, "requires": "requires", "excludes": "excludes",
             "upgrade": "upgradeFrom", "serviceability": "technology", "bundlePrice": "bundle"}[rule.ruleType]
    if needs and not getattr(rule, needs):
        raise bad_request(f"a {rule.ruleType} rule needs {needs}")
    if rule.ruleType == "eligibility" and not (rule.marketSegment or rule.customerType):
        raise bad_request("an eligibility rule needs marketSegment or customerType")
    if rule.ruleType != "bundlePrice" and not rule.productOffering:
        raise bad_request(f"a {rule.ruleType} rule needs productOffering: the offerings it is about")


def new_rule(body: Mapping[str, Any], rid: str, href: str, at: str) -> dict[str, Any]:
    doc = {"id": rid, "href": href, "@type": RULE_TYPE, **_strip_server_owned(body), "lastUpdate": at}
    doc.setdefault("lifecycleStatus", "active")
    validate_rule(doc)
    return doc


def patched_rule(current: Mapping[str, Any], patch: Mapping[str, Any], at: str) -> dict[str, Any]:
    for key in SERVER_OWNED:
        if key in patch and patch[key] != current.get(key):
            raise bad_request(f"{key} is set by the server and cannot be changed")
    doc = tmf.merge_patch(dict(current), _strip_server_owned(patch))
    doc.update(id=current["id"], href=current["href"], lastUpdate=at)
    doc["@type"] = RULE_TYPE
    validate_rule(doc)
    return doc


def _ids(refs: Iterable[Any] | None) -> set[str]:
    out = set()
    for r in refs or []:
        rid = r.get("id") if isinstance(r, Mapping) else r
        if rid:
            out.add(str(rid))
    return out


def applicable(rule: Mapping[str, Any], offering_id: str) -> bool:
    """An active rule about this offering (an excludes rule is about both sides)."""
    if rule.get("lifecycleStatus", "active") != "active":
        return False
    sides = _ids(rule.get("productOffering"))
    if rule.get("ruleType") == "excludes":
        sides |= _ids(rule.get("excludes"))
    return offering_id in sides


def catalogue_rules(offering: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rules an offering carries in the catalogue, in the shape of rule documents."""
    oid = offering["id"]
    about = [{"id": oid}]
    out: list[dict[str, Any]] = []
    channels = [c.get("id") or c.get("name") for c in offering.get("channel") or []]
    if channels:
        out.append({"id": f"catalogue:{oid}:channel", "ruleType": "channel", "productOffering": about,
                    "channel": channels})
    segments = [s.get("id") or s.get("name") for s in offering.get("marketSegment") or []]
    if segments:
        out.append({"id": f"catalogue:{oid}:marketSegment", "ruleType": "eligibility", "productOffering": about,
                    "marketSegment": segments})
    rels = offering.get("productOfferingRelationship") or []
    for kinds, rule_type in ((REQUIRES_RELATIONSHIPS, "requires"), (EXCLUDES_RELATIONSHIPS, "excludes")):
        for rel in rels:
            if rel.get("relationshipType") in kinds:
                out.append({"id": f"catalogue:{oid}:{rel['relationshipType']}:{rel['id']}", "ruleType": rule_type,
                            "productOffering": about, rule_type: [{"id": rel["id"], "name": rel.get("name")}],
                            "relationshipType": rel["relationshipType"]})
    return out


def rules_for(offering: Mapping[str, Any], documents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    oid = offering["id"]
    return [*catalogue_rules(offering), *(d for d in documents if applicable(d, oid))]


# --- evaluation -------------------------------------------------------------------------------
def _reason(rule: Mapping[str, Any], code: str, label: str) -> dict[str, Any]:
    return {"code": code, "label": rule.get("message") or label, "ruleId": rule["id"], "@type": "EligibilityUnavailabilityReason"}


def _names(refs: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    return " or ".join(names.get(r["id"]) or r.get("name") or r["id"] for r in refs)


def check(rule: Mapping[str, Any], offering: Mapping[str, Any], others: set[str], facts: Facts,
          names: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """(UNQUALIFIED | UNDETERMINED, reason) when the rule does not pass, else None. `others` are
    the offering ids of the other items being qualified together (the rest of the basket)."""
    kind, title = rule["ruleType"], offering.get("name") or offering["id"]
    if kind == "channel":
        allowed = [str(c) for c in rule.get("channel") or []]
        if facts.channel not in allowed:
            return UNQUALIFIED, _reason(rule, "notSoldInChannel",
                                        f"{title} is not sold in the {facts.channel} channel (only: {', '.join(allowed)})")
    elif kind == "eligibility":
        segments, types = rule.get("marketSegment") or [], rule.get("customerType") or []
        if segments and facts.effective_segment not in segments:
            return UNQUALIFIED, _reason(rule, "segmentNotEligible",
                                        f"{title} is for the {', '.join(segments)} segment, not {facts.effective_segment}")
        if types and facts.effective_customer_type not in types:
            return UNQUALIFIED, _reason(rule, "customerTypeNotEligible",
                                        f"{title} is for {', '.join(types)} customers, not {facts.effective_customer_type}")
    elif kind == "requires":
        needed = rule.get("requires") or []
        if not (_ids(needed) & others) and not facts.holds(_ids(needed)):
            code = "requiresHandset" if rule.get("relationshipType") == "requiresHandset" else "requires"
            return UNQUALIFIED, _reason(rule, code, f"{title} requires {_names(needed, names)} in the basket"
                                        + ("" if code == "requiresHandset" else " or already held"))
    elif kind == "excludes":
        side = "excludes" if offering["id"] in _ids(rule.get("productOffering")) else "productOffering"
        clash = [r for r in rule.get(side) or [] if r["id"] in others]
        if clash:
            return UNQUALIFIED, _reason(rule, "excludes", f"{title} cannot be bought with {_names(clash, names)}")
    elif kind == "upgrade":
        days = int(rule.get("withinDays", 60))
        for held_id, left in facts.holds(_ids(rule.get("upgradeFrom"))):
            if left is not None and left > days:
                return UNQUALIFIED, _reason(rule, "upgradeNotYetEligible",
                                            f"{title} is an upgrade of {names.get(held_id, held_id)}, possible within "
                                            f"{days} days of the contract end ({left} days left)")
    elif kind == "serviceability":
        wanted = [str(t) for t in rule.get("technology") or []]
        if facts.technologies is None:
            return UNDETERMINED, _reason(rule, "addressRequired",
                                         f"{title} needs {' or '.join(wanted)} at the address: give a postcode to check")
        if not set(wanted) & facts.technologies:
            return UNQUALIFIED, _reason(rule, "notServiceable",
                                        f"{title} needs {' or '.join(wanted)}, not available at this address")
    return None


def qualify(offering: Mapping[str, Any], rules: Iterable[Mapping[str, Any]], others: set[str], facts: Facts,
            names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """{"result": qualified | unqualified | undetermined, "reasons": [...]}"""
    outcomes = [o for o in (check(r, offering, others, facts, names or {}) for r in rules) if o]
    if any(status == UNQUALIFIED for status, _ in outcomes):
        result = UNQUALIFIED
    elif outcomes:
        result = UNDETERMINED
    else:
        result = QUALIFIED
    return {"result": result, "reasons": [reason for _, reason in outcomes]}


def overall(results: Iterable[str]) -> str:
    results = list(results)
    if UNQUALIFIED in results:
        return UNQUALIFIED
    return UNDETERMINED if UNDETERMINED in results else QUALIFIED


ANSWER_VALID_DAYS = 30
ECHOED = ("description", "expectedQualificationDate", "provideAlternative", "provideOnlyAvailable",
          "provideUnavailabilityReason")


def answer(body: Mapping[str, Any], answers: Iterable[Mapping[str, Any]], channel: str | None,
           notes: list[dict[str, Any]], at: dt.datetime) -> dict[str, Any]:
    """The productOfferingQualification document for these item answers (`id`, `qualification
    ItemResult`, `reasons`, the `productOffering` or `category` asked about, and for a category
    the qualifying offerings as `proposals`). Every requested item is answered; the offerings
    listed as proposals are only available (qualified) ones, which is what provideOnlyAvailable
    asks. provideUnavailabilityReason false drops reasons, provideAlternative false proposals."""
    reasons_wanted = body.get("provideUnavailabilityReason") is not False
    proposals_wanted = body.get("provideAlternative") is not False
    items = []
    for a in answers:
        entry = {"id": a["id"], **{k: a[k] for k in ("productOffering", "category") if k in a},
                 "qualificationItemResult": a["qualificationItemResult"], "state": "done",
                 "@type": "ProductOfferingQualificationItem"}
        if a.get("reasons") and reasons_wanted:
            entry["eligibilityUnavailabilityReason"] = list(a["reasons"])
        if a.get("proposals") and proposals_wanted:
            entry["alternateProductOfferingProposal"] = [
                {"id": str(n), "alternateProductOffering": ref, "@type": "AlternateProductOfferingProposal"}
                for n, ref in enumerate(a["proposals"], 1)]
        items.append(entry)
    when = tmf.iso(at)
    doc: dict[str, Any] = {
        "@type": POQ_TYPE, "instantSyncQualification": True, "state": "done",
        # productOfferingQualificationDateTime: the same moment under TMF679 v1's name (R18 CTK)
        "productOfferingQualificationDate": when, "productOfferingQualificationDateTime": when,
        "effectiveQualificationDate": when, "expirationDate": tmf.iso(at + dt.timedelta(days=ANSWER_VALID_DAYS)),
        "qualificationResult": overall(i["qualificationItemResult"] for i in items),
        "productOfferingQualificationItem": items, "relatedParty": list(body.get("relatedParty") or []),
        **{k: body[k] for k in ECHOED if body.get(k) is not None}}
    if channel:
        doc["channel"] = {"id": channel, "name": (body.get("channel") or {}).get("name") or channel}
    if notes:
        doc["note"] = notes
    return doc


# --- places: postcode and IP ------------------------------------------------------------------
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?(?:[0-9][A-Z]{2})?$")


def normalise_postcode(value: Any) -> str:
    if not isinstance(value, str):
        raise bad_request("postCode must be a string")
    code = re.sub(r"\s+", "", value).upper()
    if not _POSTCODE.match(code):
        raise bad_request("postCode is not a UK postcode or outward code (e.g. BS1 4DJ or BS1)")
    return f"{code[:-3]} {code[-3:]}" if len(code) >= 5 else code


def outward(code: str) -> str:
    return code.split(" ")[0]


def coverage_entry(postcode: str, table: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The coverage entry of a postcode: its exact outward code, else its area (letters)."""
    out = outward(normalise_postcode(postcode))
    area = re.sub(r"[^A-Z].*", "", out)   # its leading letters (_POSTCODE: it starts with one or two)
    entries = list(table)
    return (next((e for e in entries if e["prefix"] == out), None)
            or next((e for e in entries if e["prefix"] == area), None))


def region_for_ip(ip: str | None, networks: Iterable[Mapping[str, Any]]) -> str | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for net in networks:
        network = ipaddress.ip_network(net["cidr"])
        if address.version == network.version and address in network:
            return net["region"]
    return None


# --- guided selling ---------------------------------------------------------------------------
def related(offering: Mapping[str, Any], relationship: str) -> list[str]:
    return [r["id"] for r in offering.get("productOfferingRelationship") or []
            if r.get("relationshipType") == relationship]


def offering_ref(offering: Mapping[str, Any]) -> dict[str, Any]:
    out = {"id": offering["id"], "href": offering.get("href"), "name": offering.get("name"),
           "@referredType": "ProductOffering"}
    return {k: v for k, v in out.items() if v is not None}


def fact_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, before_channel: str | None,
                 after_channel: str | None, sale_postcode: str | None) -> list[str]:
    """What changed between the facts a basket was qualified with (customer profile, channel) and
    those at checkout, in words; the sale's own postcode (the basket's) does not change with the
    customer record. Empty when nothing the rules read changed."""
    before, after = before or {}, after or {}
    out = []
    if before_channel and after_channel and before_channel != after_channel:
        out.append(f"channel {before_channel} -> {after_channel}")
    for key in ("segment", "customerType") + (() if sale_postcode else ("postCode",)):
        if before.get(key) != after.get(key):
            out.append(f"{key} {before.get(key)} -> {after.get(key)}")
    had = {h[0] for h in before.get("held") or []}
    has = {h[0] for h in after.get("held") or []}
    if had != has:
        gained, lost = sorted(has - had), sorted(had - has)
        out.append("products held" + (f" +{', +'.join(gained)}" if gained else "")
                   + (f" -{', -'.join(lost)}" if lost else ""))
    return out


# --- contract rules (data/contract.json) -------------------------------------------------------
UPGRADE = "upgrade"   # a modify item that moves a product held to another offering


def change_kind(item: Mapping[str, Any], product: Mapping[str, Any]) -> str:
    """delete, upgrade (modify to another offering) or modify (same offering: a promotion, a
    characteristic)."""
    if item.get("action") == "modify":
        named = ref_id(item, "productOffering")
        if named and named != ref_id(product, "productOffering"):
            return UPGRADE
    return str(item.get("action"))


def early_termination(item: Mapping[str, Any], product: Mapping[str, Any], now: dt.datetime,
                      campaign_code: str | None, rules: Mapping[str, Any]) -> dict[str, Any] | None:
    """What changing `product` by `item` before its contract ends costs: None when the rules do
    not apply (the action is not listed, no contract, or it has ended); else {"fee" (Decimal),
    "unit", "months" (left, rounded up), "contractEnd", "kind", "name", "waiver" (the first
    waiver that matches, or None)}."""
    from decimal import Decimal

    rule = rules.get("earlyTermination") or {}
    kind = change_kind(item, product)
    end = customer_domain.contract_end(product)
    if kind not in (rule.get("appliesTo") or ()) or end is None:
        return None
    left = tmf.parse_datetime(end, "contractEnd") - now
    if left.total_seconds() <= 0:
        return None
    months = -(-left.days // 30) or 1
    fee = rule.get("fee") or {}
    amount = Decimal(str(fee.get("perRemainingMonth", 0))) * months
    if fee.get("maximum") is not None:
        amount = min(amount, Decimal(str(fee["maximum"])))
    waiver = None
    for w in rule.get("waivers") or []:
        if "withinDaysOfContractEnd" in w and left.total_seconds() <= float(w["withinDaysOfContractEnd"]) * 86400:
            waiver = w
        elif campaign_code and campaign_code in (w.get("campaignCode") or ()):
            waiver = w
        if waiver is not None:
            break
    return {"fee": amount, "unit": fee.get("unit", "EUR"), "months": months, "contractEnd": end, "kind": kind,
            "name": fee.get("name") or "Early termination fee", "waiver": dict(waiver) if waiver else None}
