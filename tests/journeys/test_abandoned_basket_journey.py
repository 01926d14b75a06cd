"""Seed 000 steps 3 to 6 over HTTP against the local runtime, the abandoned-basket state machine
executing for real in moto (idle time 2 s):
3. Andrea, logged in at home, puts Home Security in a basket and leaves;
4. the idle basket triggers the process: one SMS offering help, with a signed link (moto SNS);
5. she accepts: the basket is on the agents' worklist; an agent claims it, sees her 360 view and
   the Extreme Bundle recommended, adds it and hands the basket back;
6. the approval email (moto SES) carries the summary, prices and a link; she approves, and the
   approval submits the order. Every message is a communicationMessage and an interaction on
   her journey."""
import json
import time

import pytest

from tests.support import runtimes
from tests.support.appointments import installed_over_http
from tests.support.links import TOKEN, link_for, texts

CARTS = "/tmf-api/shoppingCart/v4/shoppingCart"
MOBILE, EMAIL = "+447700900123", "andrea.rossi@example.com"
JOURNEY = "jrn-andrea-home-security"
# idle time 2 s; simulated stacks report each milestone after 0.2 s, not 1 s (the same runtime as
# tests/recovery/test_runtime.py's, when both run in one process)
ENV = runtimes.IDLE_BASKETS
# tests/recovery/test_runtime.py's runtime; mostly waits on idle timers (tests/support/scheduling.py)
pytestmark = [runtimes.shared(ENV, waits=True), pytest.mark.waits]


def _auth(runtime, role, **claims):
    return {"Authorization": f"Bearer {runtime.token(role, **claims)}"}


def _wait_status(runtime, basket_id, headers, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        _, _, cart = runtime.request("GET", f"{CARTS}/{basket_id}", None, headers)
        if cart["status"] == wanted:
            return cart
        assert time.monotonic() < deadline, cart
        time.sleep(0.25)


def _customer_like_andrea(runtime, agent, mobile, email):
    """A customer like the demo's Andrea (Broadband 500 on a contract ending soon, consent, an
    address with fibre, no quiet hours), registered through the API. Not Andrea herself: her demo
    basket (chalicelib/basket/demo.py) is recoverable from the runtime's start, and one reminder
    per customer (the outreach cap) would go to whichever basket the workflow saw first."""
    status, _, customer = runtime.request("POST", "/tmf-api/customerManagement/v4/customer", {
        "name": "Andrea Bianchi", "engagedParty": {"id": f"party-{mobile}", "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": mobile}},
                          {"mediumType": "email", "characteristic": {"emailAddress": email}},
                          {"mediumType": "postalAddress", "characteristic": {
                              "street1": "12 Elm Road", "city": "Bristol", "postCode": "BS1 4DJ", "country": "GB"}}],
        "characteristic": [{"name": "segment", "value": "residential"}],
        "contactPreference": {"consent": {"sms": {"service": True, "marketing": True},
                                          "email": {"service": True, "marketing": True}}}}, agent)
    assert status == 201, customer
    now = time.time()
    status, _, held = runtime.request("POST", f"/tmf-api/customerManagement/v4/customer/{customer['id']}/product", {
        "name": "Broadband 500", "productOffering": {"id": "po-broadband-500"},
        "contract": {"startDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 700 * 86400)),
                     "endDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 30 * 86400))}}, agent)
    assert status == 201, held
    return customer["id"]


def test_abandoned_basket_recovered_through_sms_agent_and_approval_email(local_runtime_factory):
    runtime = local_runtime_factory(**ENV)
    agent = _auth(runtime, "agent", channel="callcenter", sub="agent-maria")
    mobile, email_address = "+447700900321", "andrea.bianchi@example.com"   # this journey's customer
    me = _customer_like_andrea(runtime, agent, mobile, email_address)
    andrea = {**_auth(runtime, "customer", channel="web", customerId=me, sub=me), "X-Journey-Key": JOURNEY}

    # 3. she puts Home Security in a basket and leaves
    status, _, cart = runtime.request("POST", CARTS, {
        "cartItem": [{"productOffering": {"id": "po-home-security"},
                      "product": {"productCharacteristic": [{"name": "cameras", "value": 4}]}}],
        "context": {"device": "home PC"}}, andrea)
    assert status == 201, cart
    basket_id = cart["id"]

    # 4. one SMS offering help, with a link that names no personal data
    token, view, sms = link_for(runtime, "sns", mobile, basket_id, "basket.recover")
    assert {a["name"] for a in view["actions"]} == {"accept", "resume"}
    assert "Andrea Bianchi" not in json.dumps(view) and mobile not in token
    assert _wait_status(runtime, basket_id, andrea, "assistanceOffered")

    # 5. she accepts; the basket is on the worklist; an agent claims it
    status, _, accepted = runtime.request("POST", f"/recovery/link/{token}/accept")
    assert status == 200 and accepted["status"] == "withAgent", accepted
    status, _, again = runtime.request("POST", f"/recovery/link/{token}/accept")
    assert status == 200 and again["changed"] is False
    status, headers, work = runtime.request("GET", "/recovery/worklist?claimed=false", None, agent)
    assert status == 200 and basket_id in [w["id"] for w in work], work
    status, _, claimed = runtime.request("POST", f"/recovery/worklist/{basket_id}/claim", None, agent)
    assert status == 200 and claimed["claimedBy"] == "agent-maria", claimed
    other = _auth(runtime, "agent", channel="callcenter", sub="agent-other")
    status, _, body = runtime.request("POST", f"/recovery/worklist/{basket_id}/claim", None, other)
    assert status == 409 and body["code"] == "alreadyClaimed"
    status, _, item = runtime.request("GET", f"/recovery/worklist/{basket_id}", None, agent)
    assert status == 200, item
    assert me in json.dumps(item["customer360"]) and item["shoppingCart"]["id"] == basket_id
    recommended = [r["productOffering"]["id"] for r in item["recommendation"] or []]
    assert recommended and recommended[0] == "po-extreme-bundle", item["recommendation"]

    # the agent adds the Extreme Bundle and hands the basket back for approval
    status, _, cart = runtime.request("PATCH", f"{CARTS}/{basket_id}", {
        "cartItem": [{"productOffering": {"id": "po-extreme-bundle"}}]}, agent)
    assert status == 200, cart
    # the engineers' visits the order needs: one for the bundle, one for Home Security
    installed_over_http(runtime, agent, me, "po-extreme-bundle", "po-home-security")
    status, _, cart = runtime.request("PATCH", f"{CARTS}/{basket_id}", {"status": "awaitingApproval"}, agent)
    assert status == 200, cart

    # 6. the approval email: summary, prices, link; she approves; the order is submitted
    token, view, email = link_for(runtime, "ses", email_address, basket_id, "basket.approve")
    assert "Extreme" in email and "Home Security" in email and "Total:" in email
    status, _, body = runtime.request("POST", f"/recovery/link/{token}/accept")
    assert status == 400 and body["code"] == "invalidLink"          # an approval link cannot accept
    status, _, approved = runtime.request("POST", f"/recovery/link/{token}/approve")
    assert status == 200 and approved["status"] in ("approved", "ordered"), approved
    _wait_status(runtime, basket_id, andrea, "ordered")
    _, _, orders = runtime.request("GET", "/tmf-api/productOrderingManagement/v4/productOrder", None, andrea)
    assert [o for o in orders if (o.get("shoppingCart") or {}).get("id") == basket_id]

    # one reminder SMS only, and every message on her journey
    recovery_sms = [t for t in texts(runtime.moto_data().get("sns", {}), mobile, []) if "/recovery/link/" in t]
    mine = [t for t in recovery_sms for tok in TOKEN.findall(t)
            if runtime.request("GET", f"/recovery/link/{tok}")[2].get("shoppingCart", {}).get("id") == basket_id]
    assert len(mine) == 1
    _, _, messages = runtime.request("GET", "/tmf-api/communicationManagement/v4/communicationMessage", None, agent)
    ids = {m["id"] for m in messages}
    assert f"basket-{basket_id}-reminder-1" in ids
    assert any(i.startswith(f"basket-{basket_id}-approval-v") for i in ids)
    _, _, history = runtime.request("GET", "/tmf-api/partyInteraction/v4/partyInteraction", None, andrea)
    about = [i for i in history if basket_id in json.dumps(i)]
    reasons = " | ".join(i.get("reason") or "" for i in about)
    assert "reminder 1" in reasons and "approval email" in reasons, reasons
    assert all(i.get("journeyKey", JOURNEY) == JOURNEY for i in about if "message" in i.get("id", ""))


def test_make_demo_plays_the_whole_story_to_a_completed_order(local_runtime_factory):
    """`make demo` (infra/local/demo.py) against the same runtime: a new customer from the store
    through campaign SMS, basket, reminder, agent upsell and approval email to three child orders."""
    from infra.local.demo import Demo

    runtime = local_runtime_factory(**ENV)
    lines: list[str] = []
    demo = Demo(runtime.url, out=lines.append)
    facts = demo.run()
    demo.summary()
    assert facts["state"] == "completed", facts
    assert sorted((stack, state) for stack, _, state, _ in facts["children"]) == [
        ("csp-stack-a", "completed"), ("csp-stack-b", "completed"), ("iot-partner-x", "completed")]
    assert (facts["report"]["sent"], facts["report"]["baskets"]) >= (1, 1), facts["report"]
    text = "\n".join(lines)
    for said in ("meet Home Security", "/recovery/link/", "Your basket is ready for your approval",
                 "Extreme Bundle", "is complete", "Summary"):
        assert said in text, said
