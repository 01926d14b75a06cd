"""The demo catalogue the local runtime loads, so the acceptance story can be tried at once.

CSP offers are written directly; Home Security comes from the IoT partner's TMF620 export
(data/iot-partner-x-export.json) through the same import code an importJob runs.
Fixed ids make it safe to load twice and easy to use in curl examples.
"""
from __future__ import annotations

from typing import Any

from chalicelib import tmf
from chalicelib.catalog import domain, jobs, store

ALL_CHANNELS = [{"id": c} for c in ("web", "app", "social", "callcenter", "sms", "email", "store")]
RESIDENTIAL = [{"id": "residential", "name": "Residential"}]
BUSINESS = [{"id": "business", "name": "Business"}]
TERM_24 = [{"name": "24 months", "duration": {"amount": 24, "units": "month"}}]


def _stack(stack: str) -> list[dict[str, Any]]:
    return [{"id": stack, "name": stack, "role": domain.FULFILMENT_ROLE, "@referredType": "Organization"}]


def _spec(rid: str, name: str, stack: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "name": name, "lifecycleStatus": "active", "relatedParty": _stack(stack), **extra}


def _price(rid: str, name: str, price_type: str, value: float, **extra: Any) -> dict[str, Any]:
    doc = {"id": rid, "name": name, "priceType": price_type, "lifecycleStatus": "active",
           "price": {"unit": "EUR", "value": value}, **extra}
    if price_type == "recurring":
        doc.update(recurringChargePeriodType="month", recurringChargePeriodLength=1)
    return doc


def _offer(rid: str, name: str, spec: str | None, prices: list[str], category: str, **extra: Any) -> dict[str, Any]:
    doc = {"id": rid, "name": name, "lifecycleStatus": "active", "isBundle": False, "isSellable": True,
           "productOfferingPrice": [{"id": p} for p in prices], "category": [{"id": category}],
           "channel": ALL_CHANNELS, "marketSegment": RESIDENTIAL, **extra}
    if spec:
        doc["productSpecification"] = {"id": spec, "@referredType": "ProductSpecification"}
    return doc


def _rel(rid: str, kind: str) -> dict[str, Any]:
    return {"id": rid, "relationshipType": kind}


CATALOGUE: dict[str, list[dict[str, Any]]] = {
    "productSpecification": [
        _spec("ps-broadband", "Fibre broadband access", "csp-stack-a", installation="engineer",
              productSpecCharacteristic=[
            {"name": "speed", "valueType": "string", "productSpecCharacteristicValue": [
                {"value": "500 Mbps", "isDefault": True}, {"value": "1 Gbps"}]}]),
        _spec("ps-tv", "IPTV service", "csp-stack-a", installation="engineer"),
        _spec("ps-mobile", "Mobile voice and data", "csp-stack-b"),
        _spec("ps-handset", "Phone X handset", "csp-stack-b", productSpecCharacteristic=[
            {"name": "colour", "valueType": "string", "productSpecCharacteristicValue": [
                {"value": "black", "isDefault": True}, {"value": "silver"}]},
            {"name": "storage", "valueType": "string", "productSpecCharacteristicValue": [
                {"value": "128 GB", "isDefault": True}, {"value": "256 GB"}]}]),
        _spec("ps-accessory", "Handset accessory", "csp-stack-b"),
    ],
    "productOfferingPrice": [
        _price("pop-promo-6-months-free", "First 6 months free", "discount", 0, percentage=100,
               description="0 EUR for the first 6 months, then the regular monthly fee",
               productOfferingTerm=[{"name": "6 months", "duration": {"amount": 6, "units": "month"}}]),
        _price("pop-broadband-monthly", "Broadband 500 monthly fee", "recurring", 30,
               popRelationship=[_rel("pop-promo-6-months-free", "promotion")]),
        _price("pop-broadband-install", "Broadband installation", "oneTime", 49),
        _price("pop-tv-monthly", "TV Max monthly fee", "recurring", 20),
        _price("pop-mobile-half-price-6", "Half price for 6 months", "discount", 0, percentage=50,
               description="50% off the monthly fee for 6 months, for a subscription held already",
               productOfferingTerm=[{"name": "6 months", "duration": {"amount": 6, "units": "month"}}]),
        _price("pop-mobile-monthly", "Mobile Unlimited monthly fee", "recurring", 25,
               popRelationship=[_rel("pop-mobile-half-price-6", "subscriberPromotion")]),
        _price("pop-extreme-monthly", "Extreme Bundle monthly fee", "recurring", 60,
               description="Broadband 500 + TV Max + Mobile Unlimited: 15 EUR/month less than apart"),
        _price("pop-phone-x", "Phone X", "oneTime", 99),
        _price("pop-phone-x-plan", "Phone X plan monthly fee", "recurring", 35),
        _price("pop-case", "Phone X case", "oneTime", 19),
        _price("pop-charger", "Fast charger", "oneTime", 29),
        _price("pop-business-mobile-monthly", "Business Mobile monthly fee", "recurring", 15),
    ],
    "category": [
        {"id": "cat-broadband", "name": "Broadband", "isRoot": True, "lifecycleStatus": "active"},
        {"id": "cat-tv", "name": "TV", "isRoot": True, "lifecycleStatus": "active"},
        {"id": "cat-mobile", "name": "Mobile", "isRoot": True, "lifecycleStatus": "active"},
        {"id": "cat-devices", "name": "Devices", "isRoot": True, "lifecycleStatus": "active"},
        {"id": "cat-accessories", "name": "Accessories", "parentId": "cat-devices", "lifecycleStatus": "active"},
        {"id": "cat-bundles", "name": "Bundles", "isRoot": True, "lifecycleStatus": "active"},
        {"id": "cat-smart-home", "name": "Smart home", "isRoot": True, "lifecycleStatus": "active"},
    ],
    "productOffering": [
        _offer("po-broadband-500", "Broadband 500", "ps-broadband",
               ["pop-broadband-monthly", "pop-broadband-install"], "cat-broadband", productOfferingTerm=TERM_24),
        _offer("po-tv-max", "TV Max", "ps-tv", ["pop-tv-monthly"], "cat-tv", productOfferingTerm=TERM_24),
        _offer("po-mobile-unlimited", "Mobile Unlimited", "ps-mobile", ["pop-mobile-monthly"], "cat-mobile",
               productOfferingTerm=TERM_24),
        _offer("po-extreme-bundle", "Extreme Bundle", None, ["pop-extreme-monthly"], "cat-bundles",
               isBundle=True, productOfferingTerm=TERM_24,
               bundledProductOffering=[{"id": "po-broadband-500", "name": "Broadband 500"},
                                       {"id": "po-tv-max", "name": "TV Max"},
                                       {"id": "po-mobile-unlimited", "name": "Mobile Unlimited"}]),
        _offer("po-phone-x", "Phone X", "ps-handset", ["pop-phone-x"], "cat-devices",
               productOfferingRelationship=[_rel("po-phone-x-plan-24", "compatiblePlan"),
                                            _rel("po-phone-x-case", "accessory"),
                                            _rel("po-fast-charger", "accessory")]),
        _offer("po-phone-x-plan-24", "Phone X plan, 24 months", "ps-mobile", ["pop-phone-x-plan"], "cat-mobile",
               productOfferingTerm=TERM_24, productOfferingRelationship=[_rel("po-phone-x", "requiresHandset")],
               channel=[c for c in ALL_CHANNELS if c["id"] != "social"]),
        _offer("po-phone-x-case", "Phone X case", "ps-accessory", ["pop-case"], "cat-accessories"),
        _offer("po-fast-charger", "Fast charger", "ps-accessory", ["pop-charger"], "cat-accessories"),
        # business only (marketSegment): what Acme's buyer orders per site in the README
        _offer("po-business-mobile", "Business Mobile", "ps-mobile", ["pop-business-mobile-monthly"], "cat-mobile",
               marketSegment=BUSINESS),
        {**_offer("po-broadband-1000", "Broadband 1000 (coming soon)", "ps-broadband",
                  ["pop-broadband-install"], "cat-broadband"), "lifecycleStatus": "inDesign"},
    ],
    "catalog": [
        {"id": "catalog-consumer", "name": "Omnishop consumer catalogue", "catalogType": "productCatalog",
         "lifecycleStatus": "active",
         "category": [{"id": c} for c in ("cat-broadband", "cat-tv", "cat-mobile", "cat-devices",
                                          "cat-bundles", "cat-smart-home")]},
    ],
}


# The importJob's categoryMapping for the IoT partner: its offers (which have no category) go in
# our smart-home category.
PARTNER_CATEGORIES = [{"category": {"id": "cat-smart-home", "name": "Smart home"}}]


def _write(grouped: dict[str, list[dict[str, Any]]], at: str) -> int:
    writes, errors = jobs.prepare_import(grouped, at)
    if errors:
        raise ValueError(f"the demo catalogue is invalid: {errors}")
    for kind, doc in writes:
        doc.setdefault("@type", domain.kind(kind).type_name)
        store.upsert(kind, doc)
    return len(writes)


def load() -> int:
    """Write the demo catalogue (idempotent). Returns how many resources were written."""
    at = tmf.now_iso()
    written = _write(CATALOGUE, at)   # first: the partner's offers go in its categories
    partner = jobs.parse_export(jobs.read_source(str(jobs.DATA_DIR / "iot-partner-x-export.json")))
    return written + _write(jobs.map_categories(partner, PARTNER_CATEGORIES), at)
