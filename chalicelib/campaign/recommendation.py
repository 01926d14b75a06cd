"""TMF680 queryProductRecommendation: next-best offers for a customer and/or a basket, best first,
each with why, and only offers that pass the central rules for this customer and channel.

Sources, in order of weight: bundles that contain what the customer holds and is buying (with
the saving), upgrades when a contract is near its end (the central rules' upgrade rules),
accessories for a handset in the basket (the catalogue's productOfferingRelationship), and live
campaigns the customer is targeted by. Served from the catalogue cache; the DynamoDB reads are
the customer profile (one Query), the basket (one GetItem) and, every few seconds per
container, the live campaigns (one Query).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from chalicelib import access as rights
from chalicelib import catalog, deferred, rules, tmf
from chalicelib import basket as baskets
from chalicelib.auth import Caller
from chalicelib.basket import pricing
from chalicelib.campaign import domain, schemas
from chalicelib.customer import access
from chalicelib.customer import domain as customer_domain
from chalicelib.errors import bad_request, forbidden, not_found
from chalicelib.rules import domain as rules_domain
from chalicelib.rules import places

# imported on first use: importing this module does not load it (chalicelib/deferred.py)
campaigns = deferred.module("chalicelib.campaign.service")

API_ROOT = "/tmf-api/recommendationManagement/v4"
RESOURCE = "queryProductRecommendation"
TYPE = "QueryProductRecommendation"
ASKERS = rights.roles("recommendation", "ask")
# How much each kind of reason weighs (best first); ties go to the larger saving.
WEIGHTS = {"bundleSaving": 400, "upgradeEligible": 300, "campaignOffer": 200, "accessory": 100}
MAX_ITEMS = 10


@dataclasses.dataclass
class Candidate:
    offering: dict[str, Any]
    reasons: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    score: float = 0.0
    saving: Decimal | None = None
    replaces: set[str] = dataclasses.field(default_factory=set)   # basket offerings a bundle replaces

    def add(self, code: str, label: str, bonus: float = 0.0, **extra: Any) -> None:
        self.reasons.append({"code": code, "label": label, "@type": "RecommendationReason", **extra})
        self.score = max(self.score, WEIGHTS[code] + bonus)


def _customer_id(body: Mapping[str, Any], caller: Caller) -> str | None:
    party = body.get("relatedParty")
    parties = party if isinstance(party, list) else [party] if party else []
    named = [p["id"] for p in parties if str(p.get("role") or "customer").lower() == "customer"
             or p.get("@referredType") == "Customer"]
    if caller.role == "customer":
        if named and named[0] != caller.customer_id:
            raise not_found("customer", named[0])
        return caller.customer_id
    if named and not rights.may(caller, "customer", rights.READ):
        # Before any lookup: the answer must not tell whether the customer exists.
        raise forbidden(f"role {caller.role!r} may not recommend for a named customer (it reveals what they "
                        "hold); ask with the customer's own token or as an agent, or name only the basket")
    return named[0] if named else None


def _name(oid: str) -> str:
    found = catalog.cache.get("productOffering", oid)
    return (found[0].get("name") if found else None) or oid


def _names(ids: list[str]) -> str:
    return ", ".join(_name(i) for i in ids)


def _bundles(out: dict[str, Candidate], have: set[str], buying: set[str], channel: str | None,
             segment: str | None) -> None:
    """Bundles with a part the customer has or is buying, and what they save her: the prices of
    her channel and market segment (business prices), as her basket would charge them."""
    cat = baskets.catalogue
    for bundle in catalog.cache.all("productOffering"):
        parts = [p["id"] for p in bundle.get("bundledProductOffering") or []]
        overlap = [p for p in parts if p in have | buying]
        if not parts or not overlap or catalog.published_offering(bundle["id"], channel) is None:
            continue
        apart = sum((pricing.recurring_value(cat.offering(p) or {"id": p}, cat, channel, segment)[0] for p in parts),
                    Decimal(0))
        own, unit = pricing.recurring_value(bundle, cat, channel, segment)
        if apart <= own:
            continue
        saving = apart - own
        held, in_cart = [p for p in overlap if p in have], [p for p in overlap if p in buying]
        what = " and ".join(x for x in (f"you have {_names(held)}" if held else "",
                                         f"you are buying {_names(in_cart)}" if in_cart else "") if x)
        cand = out.setdefault(bundle["id"], Candidate(bundle))
        cand.saving, cand.replaces = saving, set(parts)
        cand.add("bundleSaving", f"{bundle.get('name')} contains what {what}: {_names(parts)} together for "
                                 f"{pricing.text(own)} {unit}/month instead of {pricing.text(apart)} {unit}/month "
                                 f"(save {pricing.text(saving)} {unit}/month)",
                 float(saving) + 10 * len(overlap),
                 saving={"value": pricing.number(saving), "unit": unit, "recurringChargePeriod": "month"})


def _upgrades(out: dict[str, Candidate], held: list[tuple[str, int | None]]) -> None:
    for rule in rules.documents():
        if rule.get("ruleType") != "upgrade" or rule.get("lifecycleStatus", "active") != "active":
            continue
        within = int(rule.get("withinDays", customer_domain.CONTRACT_ENDING_DAYS))
        sources = {r["id"] for r in rule.get("upgradeFrom") or []}
        ending = [(oid, left) for oid, left in held if oid in sources and left is not None and 0 <= left <= within]
        for oid, left in ending:
            for target in rule.get("productOffering") or []:
                found = catalog.cache.get("productOffering", target["id"])
                if found is None:
                    continue
                cand = out.setdefault(target["id"], Candidate(found[0]))
                cand.add("upgradeEligible", f"your {_name(oid)} contract ends in {left} days: "
                                            f"upgrade to {found[0].get('name')}", within - left)


def _accessories(out: dict[str, Candidate], buying: set[str]) -> None:
    for oid in sorted(buying):
        handset = catalog.cache.get("productOffering", oid)
        if not handset:
            continue
        for aid in rules_domain.related(handset[0], "accessory"):
            found = catalog.cache.get("productOffering", aid)
            if found:
                out.setdefault(aid, Candidate(found[0])).add(
                    "accessory", f"goes with the {handset[0].get('name')} in your basket")


def _campaign_offers(out: dict[str, Candidate], profile: Mapping[str, Any], at: dt.datetime) -> None:
    region = places.region(profile.get("postCode"))[0]
    fact = domain.facts(profile, region, at)
    for campaign in campaigns.live_campaigns():
        rules_ = [r for r in campaign["targetSegment"].get("rule") or [] if r.get("attribute") != "consent"]
        if not domain.targeted(rules_, fact):
            continue
        oid = campaign["productOffering"]["id"]
        found = catalog.cache.get("productOffering", oid)
        if found:
            # the campaign's TMF671 promotion, when it names one: what the customer gets
            promotion = {"promotion": campaign["promotion"]} if campaign.get("promotion") else {}
            out.setdefault(oid, Candidate(found[0])).add(
                "campaignOffer", f"{campaign.get('name')}: an offer for customers like you",
                campaign=tmf.ref(campaign, domain.TYPE), **promotion)


def _item(n: int, cand: Candidate, qualification: Mapping[str, Any]) -> dict[str, Any]:
    ref = rules_domain.offering_ref(cand.offering)
    item = {"id": str(n), "priority": n, "productOffering": ref,
            "product": {"name": cand.offering.get("name"), "productOffering": ref, "@type": "ProductRefOrValue"},
            "reason": sorted(cand.reasons, key=lambda r: -WEIGHTS[r["code"]]),
            "qualificationItemResult": qualification["result"], "@type": "RecommendationItem"}
    if cand.saving is not None:
        item["saving"] = next(r["saving"] for r in cand.reasons if "saving" in r)
    if cand.replaces:
        item["replaces"] = [{"id": p, "name": _name(p), "@referredType": "ProductOffering"} for p in sorted(cand.replaces)]
    return item


def query(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """POST queryProductRecommendation: instant, synchronous; the answer is not stored."""
    access.check_roles(caller, *ASKERS)
    customer_domain.validate_payload("queryProductRecommendation", schemas.QueryProductRecommendation, body)
    channel = ((body.get("channel") or [{}])[0].get("id") if caller.role == "agent" else None) or caller.channel
    customer_id = _customer_id(body, caller)
    carts = body.get("shoppingCart") or []
    if not customer_id and not carts:
        raise bad_request("name the customer (relatedParty) or a basket (shoppingCart) to recommend for")
    profile = rules.profile(customer_id) if customer_id else None
    if customer_id and profile is None:
        raise not_found("customer", customer_id)
    buying = baskets.offerings_in(carts[0]["id"], caller) if carts else set()
    at = tmf.now()
    fact = rules.facts(channel, profile, None, at)
    have = {oid for oid, _ in fact.held}
    found: dict[str, Candidate] = {}
    _bundles(found, have, buying, channel, fact.segment)
    _upgrades(found, list(fact.held))
    _accessories(found, buying)
    if profile is not None:
        _campaign_offers(found, profile, at)
    chosen = [c for oid, c in found.items() if oid not in have | buying
              and catalog.published_offering(oid, channel) is not None]
    results = [rules.qualify_items([c.offering, *({"id": b} for b in sorted(buying - c.replaces))], fact)[0]
               for c in chosen]
    passed = sorted(((c, r) for c, r in zip(chosen, results) if r["result"] == rules_domain.QUALIFIED),
                    key=lambda cr: (-cr[0].score, cr[0].offering.get("name") or ""))[:MAX_ITEMS]
    rid = tmf.new_id()
    doc = {"id": rid, "href": tmf.href(API_ROOT, RESOURCE, rid), "@type": TYPE, "instantSyncRecommendation": True,
           "state": "done", "validFor": {"startDateTime": tmf.iso(at), "endDateTime": tmf.iso(at + dt.timedelta(hours=1))},
           "channel": [{"id": channel, "name": channel}] if channel else [],
           "recommendationItem": [_item(n, c, r) for n, (c, r) in enumerate(passed, start=1)]}
    if customer_id:
        doc["relatedParty"] = {"id": customer_id, "role": "customer", "@referredType": "Customer",
                               "href": tmf.href(customer_domain.API_ROOT, "customer", customer_id)}
    if carts:
        doc["shoppingCart"] = [{"id": carts[0]["id"], "href": baskets.href(carts[0]["id"]),
                                "@referredType": "ShoppingCart"}]
    return doc
