"""Customer-derived data through side doors, per the access table:

- queryProductRecommendation naming a customer, from a channel token: 403 before any lookup
  (the same answer whether the customer exists), no products held, no contract ends;
- communicationMessage with a `{firstName}`/`{name}` template to a customer, from a role that
  may not read customers: 403, nothing rendered, stored or sent;
- journey flooding: 51 touches posted by another customer under Andrea's journey key leave her
  current journey intact in the agent's 360 view;
- owned attributes: a customer (or a signing-up channel) cannot set her segment, status, credit
  or engaged party; agents can. 403 naming the attribute, nothing written.

Each fails on the code before: 200 with Andrea's products held / 404 for an unknown customer;
201 with "Hello Andrea" and an SMS; an empty currentJourney; 200 and the segment flipped.
"""
from __future__ import annotations

from chalicelib.customer.demo import HOME_SECURITY_JOURNEY
from tests.security.roles import ANDREA, ANDREA_MARKERS, STACY, as_role, http, world  # noqa: F401
from tests.support.stored import sms_sent, stored_items

ANDREA_MOBILE = "+447700900123"

CM, PI = "/tmf-api/customerManagement/v4", "/tmf-api/partyInteraction/v4"
REC = "/tmf-api/recommendationManagement/v4/queryProductRecommendation"
COM = "/tmf-api/communicationManagement/v4/communicationMessage"


def _for(customer_id):
    return {"relatedParty": {"id": customer_id, "@referredType": "Customer"}}


def test_a_channel_cannot_recommend_for_a_named_customer(world, as_role, http):
    channel = as_role("channel")
    real = http("POST", REC, channel, _for(ANDREA))
    unknown = http("POST", REC, channel, _for("cust-nobody"))
    assert real[0] == unknown[0] == 403 and real[1] == unknown[1]    # existence is not told
    assert "Broadband" not in real[2] and "contract" not in real[2]
    # the customer herself and an agent may; the channel may still ask about an anonymous basket
    for who in ("customer", "agent"):
        status, doc, _ = http("POST", REC, as_role(who), _for(ANDREA))
        assert status == 201 and doc["relatedParty"]["id"] == ANDREA, (who, doc)
    assert http("POST", REC, as_role("other customer"), _for(ANDREA))[0] == 404
    status, basket, _ = http("POST", "/tmf-api/shoppingCart/v4/shoppingCart", channel,
                             {"cartItem": [{"productOffering": {"id": "po-phone-x"}}]})
    assert status == 201
    assert http("POST", REC, channel, {"shoppingCart": [{"id": basket["id"]}]})[0] == 201


def test_personal_templates_need_a_role_that_reads_the_customer(world, as_role, http):
    channel = as_role("channel")
    before = len(stored_items("notify"))
    for customer_id in (ANDREA, "cust-nobody"):
        for content in ("Hello {firstName}", "Dear {name}, your order"):
            status, body, text = http("POST", COM, channel, {
                "content": content, "messageType": "SMS",
                "receiver": [{"party": {"id": customer_id, "@referredType": "Customer"}}]})
            assert status == 403 and "Andrea" not in text, (customer_id, content, body)
    assert sms_sent() == [] and len(stored_items("notify")) == before
    # an agent's personal message is rendered (and the channel's plain one is allowed)
    status, doc, _ = http("POST", COM, as_role("agent"), {
        "content": "Hello {firstName}", "messageType": "SMS",
        "receiver": [{"party": {"id": STACY, "@referredType": "Customer"}}]})
    assert status == 201 and doc["content"] == "Hello Stacy"
    status, doc, _ = http("POST", COM, channel, {
        "content": "Your parcel is on its way", "messageType": "SMS",
        "receiver": [{"party": {"id": STACY, "@referredType": "Customer"}}]})
    assert status == 201 and doc["content"] == "Your parcel is on its way"


def test_another_customers_touches_under_her_journey_key_do_not_empty_her_journey(world, as_role, http, pump):
    agent = as_role("agent")
    _, view, _ = http("GET", f"{CM}/customer/{ANDREA}/view360", agent)
    mine = view["currentJourney"]
    assert mine["journeyKey"] == HOME_SECURITY_JOURNEY and mine["interactions"]
    stacy = {**as_role("other customer"), "X-Journey-Key": HOME_SECURITY_JOURNEY}
    for n in range(51):
        status, _, text = http("POST", f"{PI}/partyInteraction", stacy,
                               {"reason": f"flood {n}", "direction": "inbound", "journeyKey": HOME_SECURITY_JOURNEY})
        assert status == 201, text
    pump.drain()
    _, view, _ = http("GET", f"{CM}/customer/{ANDREA}/view360", agent)
    journey = view["currentJourney"]
    assert journey["journeyKey"] == HOME_SECURITY_JOURNEY
    assert [i["id"] for i in journey["interactions"]][-len(mine["interactions"]):] == \
        [i["id"] for i in mine["interactions"]]
    assert not any("flood" in (i.get("reason") or "") for i in journey["interactions"])
    # Stacy's own view shows her touches under that key, at most JOURNEY_TOUCHES of them
    _, hers, _ = http("GET", f"{CM}/customer/{STACY}/view360", agent)
    assert hers["currentJourney"]["journeyKey"] == HOME_SECURITY_JOURNEY
    assert len(hers["currentJourney"]["interactions"]) == 50


def _segment(doc):
    return next((c["value"] for c in doc.get("characteristic") or [] if c["name"] == "segment"), None)


def test_customers_cannot_set_what_decides_eligibility(world, as_role, http):
    andrea = as_role("customer")
    for patch, named in (({"characteristic": [{"name": "segment", "value": "business"}]}, "characteristic.segment"),
                         ({"characteristic": []}, "characteristic.segment"),
                         ({"characteristic": [{"name": "segment", "value": "residential"},
                                              {"name": "creditRating", "value": "AAA"}]}, "characteristic.creditRating"),
                         ({"status": "vip"}, "status"),
                         ({"creditProfile": [{"creditScore": 999}]}, "creditProfile"),
                         ({"engagedParty": {"id": "x", "@referredType": "Organization"}}, "engagedParty")):
        status, body, _ = http("PATCH", f"{CM}/customer/{ANDREA}", andrea, patch)
        assert status == 403 and named in body["message"], (patch, body)
    odd = [None, 5, "", [], [1, "a"], {}, {"id": 5}, [{"name": 5}], [{"name": ["segment"]}], [{"value": "x"}]]
    for key in ("characteristic", "engagedParty", "status", "creditProfile"):
        for value in odd:
            for who, method, path in ((andrea, "PATCH", f"{CM}/customer/{ANDREA}"),
                                      (as_role("channel"), "POST", f"{CM}/customer")):
                status, body, _ = http(method, path, who, {"name": "Andrea Rossi", key: value})
                assert 400 <= status < 500 or status in (200, 201), (key, value, status, body)
    # a name given twice (the check would read one value, the rules the other): refused for all
    for who, method, path in ((andrea, "PATCH", f"{CM}/customer/{ANDREA}"), (as_role("channel"), "POST", f"{CM}/customer")):
        twice = [{"name": "segment", "value": "business"}, {"name": "segment", "value": "residential"}]
        status, body, _ = http(method, path, who, {"name": "Andrea Rossi", "characteristic": twice})
        if who is andrea:   # her segment stays as it is, by one reading: only the repetition is wrong
            assert status == 400 and "repeated: segment" in body["message"], body
        else:               # a channel may not set a segment at all
            assert status in (400, 403), body
    from chalicelib.rules import service as rules

    assert rules.profile(ANDREA)["segment"] == "residential"
    _, doc, _ = http("GET", f"{CM}/customer/{ANDREA}", andrea)
    assert _segment(doc) == "residential" and doc["status"] == "approved"
    # her own characteristics, keeping the segment as it is, are hers to change
    status, doc, _ = http("PATCH", f"{CM}/customer/{ANDREA}", andrea, {"characteristic": [
        {"name": "segment", "value": "residential"}, {"name": "favouriteColour", "value": "green"}]})
    assert status == 200 and _segment(doc) == "residential"
    # an agent sets the segment
    status, doc, _ = http("PATCH", f"{CM}/customer/{ANDREA}", as_role("agent"),
                          {"characteristic": [{"name": "segment", "value": "business"}]})
    assert status == 200 and _segment(doc) == "business"


def test_a_channel_signing_up_a_visitor_sets_no_owned_attribute(world, as_role, http):
    channel = as_role("channel")
    person = {"name": "Vic Tor", "engagedParty": {"id": "p-vic", "@referredType": "Individual"}}
    for extra, named in (({"characteristic": [{"name": "segment", "value": "business"}]}, "characteristic.segment"),
                         ({"status": "approved"}, "status"),
                         ({"engagedParty": {"id": "p-org", "@referredType": "Organization"}}, "engagedParty")):
        status, body, _ = http("POST", f"{CM}/customer", channel, {**person, **extra})
        assert status == 403 and named in body["message"], (extra, body)
    status, doc, _ = http("POST", f"{CM}/customer", channel, person)
    assert status == 201 and doc["status"] == "initialized"


def test_a_channel_cannot_tell_from_a_plain_message_whether_a_customer_exists(world, as_role, http, clock):
    """A channel may send a plain message to a customer id (a parcel notice), but its answer must
    say the same whether the id is a customer who got the SMS, one who may not be contacted, or
    nobody: no state reason, no resolved address, no name (issue 10 point 4). At noon in London
    (`clock`), so Andrea's quiet hours do not hold her SMS whenever the suite runs."""
    channel = as_role("channel")
    answers = {}
    for customer_id in (ANDREA, "cust-nobody"):
        status, body, text = http("POST", COM, channel, {
            "content": "Your parcel is on its way", "messageType": "SMS",
            "receiver": [{"party": {"id": customer_id, "@referredType": "Customer"}}]})
        assert status == 201, body
        assert not any(m in text for m in ANDREA_MARKERS), text
        answers[customer_id] = {k: v for k, v in body.items()   # all but what names this message or its time
                                if k not in ("id", "href", "sendTime", "creationDate", "lastUpdate", "receiver")}
        assert [r.get("party", {}).get("id", r.get("id")) for r in body["receiver"]] == [customer_id]
    assert answers[ANDREA] == answers["cust-nobody"], answers
    assert any(ANDREA_MOBILE in m for m in sms_sent())   # she got it all the same
