"""Demo rules (fixed ids, safe to load twice). With the demo catalogue and customers:

- TV Max needs broadband (in the basket or held); the Extreme Bundle and its parts exclude each
  other (one rule, both ways); the Extreme Bundle is an upgrade for broadband holders within 60 days of contract end
  (Andrea: 45 days left, eligible; Acme: 530 days, not yet) and for individuals only;
- broadband needs fibre at the address, mobile needs 4G or 5G (coverage table in data/);
- Broadband 500 + TV Max + Mobile Unlimited bought apart are priced as the Extreme Bundle.
The Phone X plan's "requires a handset" comes from the catalogue's productOfferingRelationship.
"""
from __future__ import annotations

from typing import Any

from chalicelib import tmf
from chalicelib.rules import domain, service


def _refs(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


RULES: list[dict[str, Any]] = [
    {"id": "rule-tv-needs-broadband", "name": "TV needs broadband", "ruleType": "requires",
     "productOffering": _refs("po-tv-max"), "requires": _refs("po-broadband-500", "po-extreme-bundle")},
    {"id": "rule-bundle-excludes-parts", "name": "Extreme Bundle replaces its parts", "ruleType": "excludes",
     "productOffering": _refs("po-extreme-bundle"),
     "excludes": _refs("po-broadband-500", "po-tv-max", "po-mobile-unlimited")},
    {"id": "rule-bundle-upgrade", "name": "Extreme Bundle upgrade near contract end", "ruleType": "upgrade",
     "productOffering": _refs("po-extreme-bundle"), "upgradeFrom": _refs("po-broadband-500"), "withinDays": 60},
    {"id": "rule-bundle-individuals", "name": "Extreme Bundle for individuals", "ruleType": "eligibility",
     "productOffering": _refs("po-extreme-bundle"), "customerType": ["individual"]},
    {"id": "rule-broadband-fibre", "name": "Broadband needs fibre", "ruleType": "serviceability",
     "productOffering": _refs("po-broadband-500", "po-extreme-bundle"), "technology": ["fibre"]},
    {"id": "rule-mobile-coverage", "name": "Mobile needs 4G or 5G", "ruleType": "serviceability",
     "productOffering": _refs("po-mobile-unlimited", "po-phone-x-plan-24"), "technology": ["4g", "5g"]},
    {"id": "rule-extreme-bundle-price", "name": "Extreme Bundle price for its parts", "ruleType": "bundlePrice",
     "bundle": {"id": "po-extreme-bundle", "name": "Extreme Bundle"}},
]


def load() -> int:
    at = tmf.now_iso()
    for rule in RULES:
        service.put_rule({**rule, "href": service.rule_href(rule["id"]), "@type": domain.RULE_TYPE,
                          "lifecycleStatus": "active", "lastUpdate": at})
    return len(RULES)
