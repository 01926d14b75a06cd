"""Seed 000 steps 1-2 over HTTP against the local runtime: marketing schedules the Home Security
campaign a few seconds ahead; the runtime's scheduler fires the EventBridge schedule the API made,
the runner pages the customers and the sender sends the SMS to targeted customers with consent
only (readable in moto's /moto-api/data.json); Andrea follows the link and puts Home Security in a
basket with the campaign code, and the campaign's report counts her."""
import datetime as dt
import json
import re
import time

import pytest

pytestmark = pytest.mark.waits   # mostly waits (on a schedule and its sends): tests/support/scheduling.py

CAMPAIGNS = "/tmf-api/campaignManagement/v4/campaign"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
LINK = re.compile(r"/c/([A-Za-z0-9-]+\.[a-f0-9]{12})")
BOB_PHONE = "+447700900777"


def _auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def _iso(seconds):
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _wait(check, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_scheduled_campaign_reaches_consenting_targets_and_a_basket_from_the_link_counts(local_runtime):
    runtime = local_runtime
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-journey")
    marketing = _auth(runtime, "marketing", sub="marketer-journey")
    # Andrea's quiet hours would hold her SMS until the morning: the journey runs in the daytime.
    status, _, body = runtime.request("PATCH", f"{CUSTOMERS}/cust-andrea", {"contactPreference": {"quietHours": None}}, agent)
    assert status == 200, body
    # Bob is targeted too (broadband, contract ending) but gave no marketing consent.
    status, _, bob = runtime.request("POST", CUSTOMERS, {
        "name": "Bob Jones", "engagedParty": {"id": "party-bob", "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": BOB_PHONE}}],
        "contactPreference": {"consent": {"sms": {"service": True, "marketing": False}}}}, agent)
    assert status == 201, bob
    status, _, held = runtime.request("POST", f"{CUSTOMERS}/{bob['id']}/product", {
        "name": "Broadband 500", "productOffering": {"id": "po-broadband-500"},
        "contract": {"startDate": _iso(-700 * 86400), "endDate": _iso(30 * 86400)}}, agent)
    assert status == 201, held

    status, _, campaign = runtime.request("POST", CAMPAIGNS, {
        "name": "Home Security launch", "productOffering": {"id": "po-home-security"},
        "targetSegment": {"rule": [{"attribute": "segment", "value": ["residential"]},
                                   {"attribute": "productsHeld", "value": ["po-broadband-500"]},
                                   {"attribute": "contractEndWithinDays", "operator": "lte", "value": 60}]},
        "channel": [{"id": "sms"}],
        "messageTemplate": {"sms": "Hi {firstName}, meet {offerName}: {link}"},
        "schedule": {"at": _iso(3)}, "validFor": {"startDateTime": _iso(0), "endDateTime": _iso(7 * 86400)}}, marketing)
    assert status == 201, campaign

    def andreas_sms():
        text = json.dumps(runtime.moto_data().get("sns", {}))
        return text if "+447700900123" in text and "meet Home Security" in text else None

    text = _wait(andreas_sms)
    assert text, "no Home Security SMS reached Andrea"
    codes = [c for c in LINK.findall(text) if c.startswith(campaign["id"])]
    assert len(codes) == 1 and BOB_PHONE not in text          # one SMS, and none to Bob

    def everyone_decided():
        _, _, now = runtime.request("GET", f"{CAMPAIGNS}/{campaign['id']}/report", None, marketing)
        return now if now["targeted"] == now["sent"] + now["suppressed"]["consent"] == 2 else None

    report = _wait(everyone_decided, 30)
    assert report and (report["sent"], report["suppressed"]["consent"]) == (1, 1), report

    status, _, landing = runtime.request("GET", f"/c/{codes[0]}")
    assert status == 200 and landing["productOffering"]["id"] == "po-home-security", landing
    andrea = _auth(runtime, "customer", channel="web", customerId="cust-andrea", sub="cust-andrea")
    status, _, basket = runtime.request("POST", CARTS, {
        "cartItem": [{"productOffering": {"id": "po-home-security"}, "quantity": 1}],
        "context": {"campaignCode": codes[0], "device": "tablet"}}, andrea)
    assert status == 201, basket

    def attributed():
        _, _, now = runtime.request("GET", f"{CAMPAIGNS}/{campaign['id']}/report", None, marketing)
        return now if now["baskets"] == 1 else None

    report = _wait(attributed, 30)
    assert report and (report["landed"], report["baskets"]) == (1, 1), report
    assert runtime.request("GET", f"{CAMPAIGNS}/{campaign['id']}", None, marketing)[2]["schedule"]["expression"].startswith("at(")
