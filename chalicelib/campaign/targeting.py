"""Targeting facts, called by the inventory stream (functions/campaign_targeting.py), the runner
and the sender: what a customer holds, projected onto its customer item, and the targeting rules
judged on it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from chalicelib import inventory, rules
from chalicelib.campaign import domain
from chalicelib.customer import set_targeting
from chalicelib.rules import places



def project_targeting(customer_id: str) -> dict[str, Any] | None:
    """Project what a customer holds (offering, contract end) onto its customer item, from the
    inventory: what the runner filters on without reading anything per customer. Called on every
    inventory change (functions/campaign_targeting.py) and by the sender for a customer without
    facts yet. Recomputed from the inventory each time, so a replay is harmless. None when the
    customer is not there."""
    facts = {"held": rules.profile_of({}, inventory.held(customer_id))["held"]}
    return facts if set_targeting(customer_id, facts) else None


def rules_profile(customer: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The central rules' profile of a customer (rules.profile) from its document and its
    projected facts, without reading the inventory."""
    return {**rules.profile_of(customer, []), "held": list(facts.get("held") or [])}


def targeted(campaign: Mapping[str, Any], customer: Mapping[str, Any], facts: Mapping[str, Any],
             now: dt.datetime) -> bool:
    profile = rules_profile(customer, facts)
    region = places.region(profile.get("postCode"))[0]
    return domain.targeted(campaign["targetSegment"].get("rule") or [],
                           domain.facts(profile, region, now, customer))
