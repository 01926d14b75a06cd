"""The demo promotion (fixed id, kept if present): issue 15's example, "-20% on Broadband for new
customers who come from the Home Security campaign, not combinable with the bundle discount, until
31 March, web and app only", as TMF671 data."""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib import tmf
from chalicelib.campaign.demo import CAMPAIGN_ID
from chalicelib.promotion import domain, service, store

PROMOTION_ID = "promo-home-security-broadband"


def until_31_march(now: dt.datetime) -> str:
    """The end of the next 31 March (this year's while it has not passed)."""
    year = now.year if (now.month, now.day) <= (3, 31) else now.year + 1
    return f"{year}-03-31T23:59:59.999Z"


def body(now: dt.datetime) -> dict[str, Any]:
    return {
        "name": "Home Security welcome: 20% off Broadband",
        "description": "-20% on Broadband for new customers who come from the Home Security campaign, "
                       "not combinable with the bundle discount, until 31 March, web and app only",
        "promotionType": "Discount", "lifecycleStatus": domain.ACTIVE, "exclusiveGroup": "bundle",
        "validFor": {"startDateTime": tmf.iso(now), "endDateTime": until_31_march(now)},
        "pattern": [{
            "name": "new customers from the Home Security campaign, on the web or the app", "priority": 1,
            "description": "new customer from the Home Security campaign, on the web or the app",
            "criteriaGroupLogicalRelationship": "AND",
            "criteriaGroup": [
                {"groupName": "web and app only", "criteriaLogicalRelationship": "OR", "criteria": [
                    {"criteriaParameter": "channel", "criteriaOperator": "=", "criteriaValue": "web"},
                    {"criteriaParameter": "channel", "criteriaOperator": "=", "criteriaValue": "app"}]},
                {"groupName": "new customers from the campaign", "criteria": [
                    {"criteriaParameter": "customerStatus", "criteriaOperator": "=", "criteriaValue": "new"},
                    {"criteriaParameter": "campaignCode", "criteriaOperator": "=", "criteriaValue": CAMPAIGN_ID}]}],
            "action": [{"actionType": "percentageOff", "actionValue": "20", "priceType": "recurring",
                        "actionEntityRef": {"id": "po-broadband-500", "name": "Broadband 500",
                                            "@referredType": "ProductOffering"}}]}],
    }


def load() -> int:
    if store.load(PROMOTION_ID) is not None:
        return 0
    now = tmf.now()
    doc = domain.new_promotion(body(now), PROMOTION_ID, service.href(PROMOTION_ID), tmf.iso(now))
    written = store.insert(doc) is not None
    service.forget()
    return int(written)
