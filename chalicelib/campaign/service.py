"""Recommendation & Campaign: what the campaign modules share (the campaign's href, its offer
on sale now, the live campaigns). The use cases are split by their caller:
    management.py   the API (marketing): campaigns, their schedules, run now, the report
    runner.py       a campaign's EventBridge schedule (functions/campaign_runner.py) and the
                    campaign-send queue's run messages: page the customers, queue them in batches
    targeting.py    the inventory stream (functions/campaign_targeting.py): targeting facts
    sender.py       the campaign-send queue (functions/campaign_send.py): send to one batch
    attribution.py  the basket stream (functions/campaign_attribution.py), and a tracking link's
                    landing (GET /c/{code})

A run walks every customer page by page (a Query on the customer table's by-kind index, never a
Scan), keeps those the targeting rules may hold for (judged on the page alone: the document and
the targeting facts projected on the customer item, see targeting.project_targeting), queues their
ids in batches and checkpoints its cursor after each page, so a retried or crashed run resumes
where it stopped and a million customers never sit in one Lambda. The sender reads a batch's
customers in one BatchGetItem and decides per customer: targeting rules, the central rules for the
offer, consent and quiet hours, the weekly frequency cap; then sends once (the notify message id
and the target record are keyed on campaign + customer).
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from chalicelib import catalog, settings, tmf
from chalicelib.campaign import domain, store
from chalicelib.errors import unprocessable


def href(campaign_id: str) -> str:
    return tmf.href(domain.API_ROOT, domain.RESOURCE, campaign_id)


def check_offer(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's offering must be on sale now (active/launched, inside its validFor)."""
    oid = campaign["productOffering"]["id"]
    found = catalog.published_offering(oid, None) or next(
        (o for o in (catalog.published_offering(oid, c) for c in domain.CHANNELS) if o), None)
    if found is None:
        raise unprocessable(f"productOffering {oid} is not an active offering of the catalogue", "offeringNotActive")
    return found


_live: dict[str, Any] = {}


def live_campaigns() -> list[dict[str, Any]]:
    """Live campaigns (active, inside validFor): one Query at most every few seconds per container."""
    if not _live or time.monotonic() - _live["at"] > settings.live_campaigns_cache_seconds():
        _live.update(at=time.monotonic(), docs=store.all_campaigns())
    now = tmf.now()
    return [c for c in _live["docs"] if domain.live(c, now)]


def forget_live_campaigns() -> None:
    _live.clear()
