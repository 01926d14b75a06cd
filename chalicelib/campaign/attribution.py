"""Campaign attribution, called by the basket stream (functions/campaign_attribution.py): a
basket or order carrying a campaign's tracking code counts for it; and the landing of a tracking
link (GET /c/{code}).
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib import settings, tmf
from chalicelib.campaign import domain, store
from chalicelib.errors import not_found


def _campaign_of(code: Any) -> tuple[str, str | None] | None:
    parsed = domain.parse_code(code)
    if parsed:
        return parsed
    if isinstance(code, str) and domain.CAMPAIGN_ID.match(code):
        return code, None     # a campaign-wide code (e.g. in a social post)
    return None


def attribute(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """A basket (or order) change from a stream: a basket that arrives with a campaign's tracking
    code counts for it once, and once more as an order when it is ordered, with its revenue."""
    if not new:
        return []
    code = (new.get("context") or {}).get("campaignCode")
    found = _campaign_of(code)
    if found is None or store.load(found[0]) is None:
        return []
    campaign_id, tag = found
    done = []
    if (old or {}).get("context", {}).get("campaignCode") != code or old is None:
        if store.once_and_count(campaign_id, f"BASKET#{new['id']}", {"baskets": 1}, detail={"code": code}):
            done.append("basket")
        if tag and store.mark_landed(campaign_id, tag):
            done.append("landed")
    if new.get("status") == "ordered" and (old or {}).get("status") != "ordered":
        value = domain.revenue(new.get("cartTotalPrice"))
        if store.once_and_count(campaign_id, f"ORDER#{new['id']}", {"orders": 1, "revenue": value}):
            done.append("order")
    return done


def land(code: str) -> dict[str, Any]:
    """GET /c/{code}: the customer followed a campaign link. Counted once; answers where to go."""
    found = domain.parse_code(code)
    campaign = store.load(found[0]) if found else None
    if campaign is None or found is None:
        raise not_found("campaign link", code if len(code) <= 80 else code[:80])
    doc = campaign[0]
    landed = store.mark_landed(found[0], found[1])
    oid = doc["productOffering"]["id"]
    return {"campaignCode": code, "campaign": tmf.ref(doc, domain.TYPE), "productOffering": doc["productOffering"],
            **({"promotion": doc["promotion"]} if doc.get("promotion") else {}),
            "firstVisit": landed, "next": f"{settings.link_base_url()}/offer/{oid}?campaignCode={code}"}
