"""Campaign bodies (our campaign API) the tests of several folders post."""
import datetime as dt

from chalicelib import tmf
from tests.support.names import RECOMMEND


def home_security(**extra):
    """The Home Security launch: residential broadband holders near contract end, by SMS."""
    body = {"name": "Home Security launch", "description": "Protect your home",
            "productOffering": {"id": "po-home-security"},
            "targetSegment": {"rule": [{"attribute": "segment", "operator": "in", "value": ["residential"]},
                                       {"attribute": "productsHeld", "operator": "in", "value": ["po-broadband-500"]},
                                       {"attribute": "contractEndWithinDays", "operator": "lte", "value": 60}]},
            "channel": [{"id": "sms"}],
            "messageTemplate": {"sms": "Hi {firstName}, {offerName} is here for you: {link}"},
            "validFor": {"startDateTime": tmf.now_iso(),
                         "endDateTime": tmf.iso(tmf.now() + dt.timedelta(days=30))}}
    body.update(extra)
    return body


def recommend(api, who, customer="cust-andrea", basket=None, channel=None):
    body = {"relatedParty": {"id": customer, "role": "customer", "@referredType": "Customer"}}
    if basket:
        body["shoppingCart"] = [{"id": basket}]
    if channel:
        body["channel"] = [{"id": channel}]
    status, doc, _ = api.call("POST", RECOMMEND, who, body)
    assert status == 201, doc
    return doc
