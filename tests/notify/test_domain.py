"""Notification rules without AWS: channel choice by consent and contact medium, quiet-hours
deferral, templates and their fields, the API's input."""
import copy
import datetime as dt

import pytest

from chalicelib.customer.demo import CUSTOMERS
from chalicelib.errors import ApiError
from chalicelib.notify import domain
from chalicelib.notify.domain import TemplateError

ANDREA, STACY, ACME = (copy.deepcopy(c) for c in CUSTOMERS)
NOON = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.timezone.utc)          # 12:00 in London
NIGHT = dt.datetime(2026, 6, 1, 22, 30, tzinfo=dt.timezone.utc)        # 23:30 in London


def req(purpose="service", content="Hi {firstName}", **kw):
    return domain.MessageRequest(customer_id=kw.pop("customer_id", "c"), purpose=purpose, content=content, **kw)


def test_sms_when_consented_and_mobile():
    plan = domain.plan(req(), ANDREA, NOON)
    assert (plan.action, plan.channel, plan.address) == ("send", "sms", "+447700900123")


def test_email_when_no_sms_consent():
    andrea = copy.deepcopy(ANDREA)
    andrea["contactPreference"]["consent"]["sms"]["service"] = False
    plan = domain.plan(req(), andrea, NOON)
    assert (plan.action, plan.channel, plan.address) == ("send", "email", "andrea.rossi@example.com")


def test_email_when_no_mobile():
    andrea = copy.deepcopy(ANDREA)
    andrea["contactMedium"] = [m for m in andrea["contactMedium"] if m["mediumType"] != "mobile"]
    assert domain.plan(req(), andrea, NOON).channel == "email"


def test_nothing_with_every_reason():
    plan = domain.plan(req(purpose="marketing"), ACME, NOON)
    assert plan.action == "skip" and plan.reason == "no marketing consent for sms; no marketing consent for email"
    stacy_email_only = domain.plan(req(channels=["email"]), STACY, NOON)
    assert stacy_email_only.action == "skip" and stacy_email_only.reason == "no service consent for email"
    assert domain.plan(req(), None, NOON) == domain.Plan("skip", "unknown customer")


def test_quiet_hours_defer_until_they_end():
    plan = domain.plan(req(), ANDREA, NIGHT)
    assert plan.action == "defer" and plan.not_before == "2026-06-02T07:00:00.000Z" and plan.reason == "quiet hours"
    assert domain.plan(req(), STACY, NIGHT).action == "send"   # no quiet hours


def test_channel_order_and_preference():
    andrea = copy.deepcopy(ANDREA)
    andrea["contactPreference"]["preferredChannel"] = "email"
    assert domain.plan(req(), andrea, NOON).channel == "email"
    assert domain.plan(req(channels=["sms", "email"]), andrea, NOON).channel == "sms"   # explicit order wins
    assert domain.plan(req(content={"email": "Hi"}), ANDREA, NOON).channel == "email"  # only an email text


def test_not_before_defers():
    later = "2026-06-01T12:00:00Z"
    plan = domain.plan(req(not_before=later), ANDREA, NOON)
    assert plan.action == "defer" and plan.not_before == "2026-06-01T12:00:00.000Z"


def test_templates_fill_allowed_fields():
    r = req(content={"sms": "Hi {firstName}, {offerName}: {link} {{literal}}", "email": "Dear {name}"},
            fields={"offerName": "Home Security", "link": "https://x/l/t"}, subject="{offerName} for you")
    assert domain.compose(r, "sms", ANDREA) == ("Hi Andrea, Home Security: https://x/l/t {literal}", None)
    assert domain.compose(r, "email", ANDREA) == ("Dear Andrea Rossi", "Home Security for you")
    assert domain.compose(req(content="Hi"), "email", ANDREA) == ("Hi", domain.DEFAULT_SUBJECT)


@pytest.mark.parametrize("content,fields,match", [
    ("Hi {phoneNumber}", None, "unknown template field"),
    ("Hi {firstName.upper}", None, "plain names"),
    ("Hi {0}", None, "plain names"),
    ("Hi {firstName!r}", None, "plain names"),
    ("Hi {firstName", None, "malformed"),
    ("Hi", {"email": "x"}, "unknown field"),
])
def test_bad_templates_are_400(content, fields, match):
    with pytest.raises(TemplateError, match=match) as err:
        req(content=content, fields=fields)
    assert err.value.status == 400


def test_missing_value_is_an_error():
    with pytest.raises(TemplateError, match="no value"):
        domain.compose(req(content="Your order {orderId}"), "sms", ANDREA)
    with pytest.raises(TemplateError, match="no value"):
        domain.compose(req(), "sms", ACME)  # an organisation has no first name


def test_sms_too_long_is_400():
    with pytest.raises(ApiError, match="at most 1600"):
        domain.compose(req(content="x" * 1601), "sms", ANDREA)


@pytest.mark.parametrize("kw,code", [
    (dict(purpose="spam"), "unknownPurpose"), (dict(channels=["fax"]), "unknownChannel"),
    (dict(channels=[]), "unknownChannel"), (dict(content=""), "invalidContent"),
    (dict(content={"fax": "x"}), "invalidContent"), (dict(content={"sms": 5}), "invalidContent"),
    (dict(fields={"email": "x"}), "invalidTemplate"), (dict(not_before="soon"), "invalidInput"),
    (dict(customer_id=None), "noReceiver"),
])
def test_bad_requests_are_400(kw, code):
    with pytest.raises(ApiError) as err:
        req(**kw)
    assert (err.value.status, err.value.code) == (400, code)


def test_a_request_is_checked_once_and_stored_as_before():
    r = req(content="Hi {firstName}", channels=["email", "email"], fields={"link": "https://x/l"}, resume=1,
            not_before="2026-06-01T13:00:00+01:00", related=[{"id": "b1", "@referredType": "ShoppingCart"}])
    # the dict domain.request() returned (and notify's store keeps): same keys, same values
    assert r.to_item() == {"customerId": "c", "purpose": "service", "templates": {"email": "Hi {firstName}"},
                           "subject": None, "fields": {"link": "https://x/l"}, "channels": ["email"],
                           "journeyKey": None, "related": [{"id": "b1", "@referredType": "ShoppingCart"}],
                           "notBefore": "2026-06-01T12:00:00.000Z", "address": None, "resume": True,
                           "senderParty": None, "extra": {}, "unaddressed": False}
    assert "reason" not in r.to_item() and req(reason="why").to_item()["reason"] == "why"
    assert domain.MessageRequest.from_item(r.to_item()) == r
    assert req().to_item()["templates"] == {"sms": "Hi {firstName}", "email": "Hi {firstName}"}
    with pytest.raises(AttributeError):
        r.purpose = "marketing"   # frozen


def test_api_request_receivers_and_roles():
    body = {"content": "Hello", "messageType": "sms", "receiver": [{"party": {"id": "cust-andrea"}}], "sender": {}}
    r = domain.api_request(body, "agent", None)
    assert (r.customer_id, r.channels, r.purpose, r.address, r.resume) == ("cust-andrea", ("sms",), "service", None, True)
    assert domain.api_request(body, "marketing", None).purpose == "marketing"
    raw = domain.api_request({**body, "messageType": "Email", "receiver": [{"email": "p@example.com"}]}, "agent", None)
    assert (raw.customer_id, raw.address, raw.channels) == (None, "p@example.com", ("email",))
    assert domain.api_request({**body, "receiver": [{}]}, "agent", None).unaddressed is True
    assert domain.api_request(body, "agent", None, "jrn-1").journey_key == "jrn-1"


@pytest.mark.parametrize("change,role,code", [
    ({"messageType": "fax"}, "agent", "unknownMessageType"),
    ({"receiver": []}, "agent", "invalidInput"),
    ({"receiver": [{}, {}]}, "agent", "invalidInput"),
    ({"content": 5}, "agent", "invalidInput"),
    ({"receiver": [{"phoneNumber": "0770 0900"}]}, "agent", "invalidPhoneNumber"),
    ({"messageType": "Email", "receiver": [{"email": "nope"}]}, "agent", "invalidEmail"),
    ({"receiver": [{"phoneNumber": "+447700900999"}]}, "marketing", "consentRequired"),
    ({"characteristic": [{"name": "purpose", "value": "service"}]}, "marketing", "invalidPurpose"),
    ({"receiver": [{"phoneNumber": "+447700900999"}], "content": "Hi {firstName}"}, "agent", "invalidTemplate"),
    ({"attachment": [{"url": "https://x"}]}, "agent", "attachmentNotSupported"),
    ({"scheduledSendTime": "tomorrow"}, "agent", "invalidInput"),
])
def test_api_bad_input(change, role, code):
    body = {"content": "Hello", "messageType": "SMS", "receiver": [{"party": {"id": "cust-andrea"}}], "sender": {},
            **change}
    with pytest.raises(ApiError) as err:
        domain.api_request(body, role, None)
    assert err.value.status == 400 and err.value.code == code, err.value.message
    assert "+4477" not in err.value.message and "nope" not in err.value.message


def test_patch_cancels_only_unsent():
    msg = {"id": "m", "state": "initial", "content": "x"}
    assert domain.patched(msg, {"state": "cancelled"}, "t")["state"] == "cancelled"
    for state in ("completed", "inProgress"):
        with pytest.raises(ApiError) as err:
            domain.patched({**msg, "state": state}, {"state": "cancelled"}, "t")
        assert err.value.status == 422
    with pytest.raises(ApiError) as err:
        domain.patched(msg, {"content": "changed"}, "t")
    assert err.value.status == 422
    assert domain.patched(msg, {"description": "note"}, "t")["description"] == "note"
