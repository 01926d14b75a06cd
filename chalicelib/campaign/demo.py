"""The demo campaign (fixed id, safe to load twice): the Home Security launch for residential
broadband holders whose contract ends within 60 days, by SMS then email, with no schedule (run it
with POST .../campaign/camp-home-security/run). Its id is the campaign code the demo basket and
interactions carry, so what they did counts in its report."""
from __future__ import annotations

import datetime as dt

from chalicelib import tmf
from chalicelib.campaign import domain, service, store

CAMPAIGN_ID = "camp-home-security"
BODY = {
    "name": "Home Security launch", "description": "Protect your home: cameras, sensors and 24/7 monitoring",
    "productOffering": {"id": "po-home-security", "name": "Home Security", "@referredType": "ProductOffering"},
    "targetSegment": {"rule": [{"attribute": "segment", "operator": "in", "value": ["residential"]},
                               {"attribute": "productsHeld", "operator": "in", "value": ["po-broadband-500"]},
                               {"attribute": "contractEndWithinDays", "operator": "lte", "value": 60}]},
    "channel": [{"id": "sms"}, {"id": "email"}],
    "messageTemplate": {"sms": "Hi {firstName}, {offerName} is here: cameras and 24/7 monitoring. See {link}",
                        "email": "Dear {firstName},\n\n{offerName} protects your home. See {link}\n",
                        "subject": "{offerName} for you"},
}


def load() -> int:
    if store.load(CAMPAIGN_ID) is not None:
        return 0
    now = tmf.now()
    body = {**BODY, "validFor": {"startDateTime": tmf.iso(now), "endDateTime": tmf.iso(now + dt.timedelta(days=90))}}
    doc, _ = domain.new_campaign(body, CAMPAIGN_ID, service.href(CAMPAIGN_ID), tmf.iso(now), now)
    try:
        store.write(doc, None)
    except store.StaleVersion:
        return 0
    return 1
