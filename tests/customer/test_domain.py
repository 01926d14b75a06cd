"""The customer context's rules, plain pytest (no AWS)."""
import datetime as dt

import pytest

from chalicelib.customer import domain
from chalicelib.errors import ApiError

AT = "2025-01-10T10:00:00.000Z"
PHONE, EMAIL = "+447700900123", "andrea.rossi@example.com"


def customer(**extra):
    body = {"name": "Andrea", "engagedParty": {"id": "p1", "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": PHONE}},
                              {"mediumType": "email", "characteristic": {"emailAddress": EMAIL}}], **extra}
    return domain.new_customer(body, "c1", "http://x/customer/c1", AT, "agent")


def refused(fn, status=400):
    with pytest.raises(ApiError) as err:
        fn()
    assert err.value.status == status, err.value.message
    return err.value


@pytest.mark.parametrize("number", ["07700900123", "+44 7700 900123", "+0447700900123", "+4477", "447700900123",
                                    "+44770090012345678", "tel:+447700900123", 447700900123])
def test_phone_numbers_must_be_e164(number):
    err = refused(lambda: customer(contactMedium=[{"mediumType": "mobile", "characteristic": {"phoneNumber": number}}]))
    assert ("E.164" in err.message or "string" in err.message) and str(number) not in err.message  # never echoed


@pytest.mark.parametrize("address", ["andrea", "andrea@", "@example.com", "a b@example.com", "a@example",
                                     "a..b@example.com", ".a@example.com", "a@-example.com", "a@example.c"])
def test_emails_must_be_valid(address):
    err = refused(lambda: customer(contactMedium=[{"mediumType": "email", "characteristic": {"emailAddress": address}}]))
    assert err.code == "invalidEmail" and address not in err.message


def test_a_valid_customer_gets_server_fields():
    doc = customer()
    assert doc["id"] == "c1" and doc["@type"] == "Customer" and doc["status"] == "initialized"
    assert doc["lastUpdate"] == AT


@pytest.mark.parametrize("extra, code", [
    ({"engagedParty": {"@referredType": "Robot", "id": "1"}}, None),
    ({"name": ""}, None),
    ({"contactMedium": [{"mediumType": "pigeon", "characteristic": {}}]}, None),
    ({"contactMedium": [{"mediumType": "mobile", "characteristic": {}}]}, None),
    ({"contactMedium": [{"mediumType": "postalAddress", "characteristic": {"street1": "x"}}]}, None),
    ({"contactPreference": {"consent": {"fax": {"service": True}}}}, "unknownConsentChannel"),
    ({"contactPreference": {"consent": {"sms": {"spam": True}}}}, "unknownConsentPurpose"),
    ({"contactPreference": {"consent": {"sms": {"service": "yes"}}}}, None),
    ({"contactPreference": {"quietHours": {"start": "25:00", "end": "08:00", "timeZone": "Europe/London"}}}, None),
    ({"contactPreference": {"quietHours": {"start": "21:00", "end": "08:00", "timeZone": "Mars/Olympus"}}}, None),
    ({"validFor": {"startDateTime": "yesterday"}}, None),
    ({"validFor": {"startDateTime": "2025-02-01T00:00:00Z", "endDateTime": "2025-01-01T00:00:00Z"}}, None),
])
def test_bad_customers_are_refused(extra, code):
    err = refused(lambda: customer(**extra))
    if code:
        assert err.code == code


def test_oversized_customer_is_413():
    refused(lambda: customer(characteristic=[{"name": f"c{i}", "value": "x" * 900} for i in range(90)]), 413)


def test_customer_may_not_change_what_agents_decide():
    doc = customer()
    refused(lambda: domain.patched_customer(doc, {"status": "closed"}, AT, role="customer"), 403)
    assert domain.patched_customer(doc, {"status": "closed"}, AT, role="agent")["status"] == "closed"
    assert domain.patched_customer(doc, {"name": "Andrea R"}, AT, role="customer")["name"] == "Andrea R"
    refused(lambda: domain.patched_customer(doc, {"id": "other"}, AT, role="agent"))


def test_consent_changes_list_each_path():
    old = customer(contactPreference={"consent": {"sms": {"service": True, "marketing": True}}})
    new = domain.patched_customer(old, {"contactPreference": {"consent": {"sms": {"marketing": False},
                                                                          "email": {"service": True}}}}, AT, "customer")
    assert domain.consent_changes(old, new) == [
        {"path": "consent.email.service", "from": None, "to": True},
        {"path": "consent.sms.marketing", "from": True, "to": False}]
    assert domain.consent_changes(new, domain.patched_customer(new, {"name": "x"}, AT, "customer")) == []


QUIET = {"start": "21:00", "end": "08:00", "timeZone": "Europe/London"}


@pytest.mark.parametrize("utc, quiet_until", [
    ("2025-01-10T12:00:00+00:00", None),
    ("2025-01-10T21:30:00+00:00", "2025-01-11T08:00:00+00:00"),
    ("2025-01-11T07:59:00+00:00", "2025-01-11T08:00:00+00:00"),
    ("2025-07-10T20:30:00+00:00", "2025-07-11T07:00:00+00:00"),  # 21:30 BST: ends 08:00 BST = 07:00 UTC
    ("2025-07-10T19:30:00+00:00", None),
])
def test_quiet_hours_follow_the_customers_time_zone(utc, quiet_until):
    until = domain.quiet_until(QUIET, dt.datetime.fromisoformat(utc))
    assert (until.isoformat() if until else None) == quiet_until


def test_contact_decision_checks_consent_medium_and_quiet_hours():
    doc = customer(contactPreference={"consent": {"sms": {"service": True, "marketing": False},
                                                  "post": {"service": True}}, "quietHours": QUIET})
    noon, night = dt.datetime(2025, 1, 10, 12, tzinfo=dt.timezone.utc), dt.datetime(2025, 1, 10, 23, tzinfo=dt.timezone.utc)
    assert domain.contact_decision(doc, "sms", "service", noon) == {"allowed": True, "reason": "consent given"}
    assert domain.contact_decision(doc, "sms", "marketing", noon)["allowed"] is False
    assert domain.contact_decision(doc, "email", "service", noon)["reason"] == "no service consent for email"
    assert domain.contact_decision(doc, "post", "service", noon)["reason"] == "no contact medium for post"
    late = domain.contact_decision(doc, "sms", "service", night)
    assert late["allowed"] is False and late["notBefore"] == "2025-01-11T08:00:00.000Z"
    refused(lambda: domain.contact_decision(doc, "pigeon", "service", noon))
    refused(lambda: domain.contact_decision(doc, "sms", "spam", noon))


def test_contact_summary_carries_no_addresses():
    summary = domain.contact_summary(customer(contactPreference={"consent": {"sms": {"service": True}}}))
    assert summary["channels"]["sms"] == {"reachable": True, "service": True, "marketing": False}
    assert summary["channels"]["social"]["reachable"] is False
    assert PHONE not in str(summary) and EMAIL not in str(summary)


def test_contract_end_is_the_longest_product_term():
    doc = {"productTerm": [{"validFor": {"startDateTime": "2024-01-01T00:00:00Z", "endDateTime": "2025-01-01T00:00:00Z"}},
                           {"validFor": {"startDateTime": "2024-01-01T00:00:00Z", "endDateTime": "2026-01-01T00:00:00Z"}},
                           {"name": "no end"}]}
    end = domain.contract_end(doc)
    assert end == "2026-01-01T00:00:00Z" and domain.contract_end({}) is None
    now = dt.datetime(2025, 11, 15, tzinfo=dt.timezone.utc)
    assert domain.contract_ending(end, now) and domain.days_left(end, now) == 47
    assert not domain.contract_ending(end, dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc))
    assert not domain.contract_ending(end, dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc))  # ended
    assert not domain.contract_ending(None, now) and domain.days_left(None, now) is None


def interaction(**extra):
    body = {"reason": "asked about TV", "direction": "inbound", "channel": [{"id": "web"}], **extra}
    return domain.new_interaction(body, "i1", "h", AT)


def test_interactions_get_defaults_and_a_canonical_direction():
    doc = interaction(direction="Inbounds")
    assert doc["direction"] == "inbound" and doc["status"] == "completed"
    assert doc["interactionDate"] == {"startDateTime": AT} and domain.occurred(doc) == AT
    assert interaction(direction="outbound")["direction"] == "outbound"


@pytest.mark.parametrize("extra", [
    {"direction": "sideways"}, {"reason": ""}, {"channel": []}, {"status": "done"},
    {"interactionDate": {"startDateTime": "2025-01-02T00:00:00Z", "endDateTime": "2025-01-01T00:00:00Z"}},
    {"interactionDate": {"startDateTime": "not a date"}}, {"journeyKey": "has spaces"},
    {"interactionItem": [{"reason": "no reference"}]},
    {"relatedParty": [{"id": "a", "role": "customer"}, {"id": "b", "role": "customer"}]},
])
def test_bad_interactions_are_refused(extra):
    refused(lambda: interaction(**extra))


def test_owner_is_the_customer_then_the_visitor():
    assert domain.owner(interaction()) is None
    assert domain.owner(interaction(relatedParty=[{"id": "v1", "role": "visitor"}])) == ("visitor", "v1")
    both = interaction(relatedParty=[{"id": "v1", "role": "visitor"}, {"id": "c1", "@referredType": "Customer"}])
    assert domain.owner(both) == ("customer", "c1")


def test_journey_touches_come_from_the_newest_interactions_only_when_they_prove_them():
    def touch(n, key):
        return {"id": f"i{n}", "journeyKey": key}

    n_max = domain.JOURNEY_TOUCHES
    mixed = [touch(n, "a" if n % 2 else "b") for n in range(n_max)]         # newest first, 25 of "a"
    assert domain.journey_touches(mixed, "a", complete=True) == [t for t in mixed if t["journeyKey"] == "a"]
    assert domain.journey_touches(mixed, "a", complete=False) is None        # older touches may exist
    only_a = [touch(n, "a") for n in range(n_max + 5)]
    assert domain.journey_touches(only_a, "a", complete=False) == only_a[:n_max]
