"""Campaign rules without AWS: targeting as data, templates, schedules, tracking codes, the report."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.campaign import domain
from chalicelib.errors import ApiError

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
ANDREA = domain.Facts("residential", "individual", "South West England", (("po-broadband-500", 45),), ("sms",))


def rule(attribute, value, operator=None):
    return {"attribute": attribute, "value": value, **({"operator": operator} if operator else {})}


@pytest.mark.parametrize("rules, expected", [
    ([rule("segment", ["residential"])], True),
    ([rule("segment", ["business"])], False),
    ([rule("segment", ["business"], "notIn")], True),
    ([rule("productsHeld", ["po-broadband-500"])], True),
    ([rule("productsHeld", ["po-broadband-500"], "notIn")], False),
    ([rule("productsHeld", ["po-broadband-500"]), rule("contractEndWithinDays", 60, "lte")], True),
    ([rule("productsHeld", ["po-broadband-500"]), rule("contractEndWithinDays", 30, "lte")], False),
    ([rule("productsHeld", ["po-mobile-unlimited"], "notIn"), rule("contractEndWithinDays", 45)], True),
    ([rule("region", ["London"])], False),
    ([rule("region", "South West England")], True),
    ([rule("consent", ["email"])], False),
    ([rule("consent", ["sms", "email"])], True),
    ([rule("customerType", ["organization"])], False),
    ([], True),
])
def test_targeting_rules_are_data_over_customer_facts(rules, expected):
    assert domain.targeted(rules, ANDREA) is expected


@pytest.mark.parametrize("bad, code", [
    (rule("shoeSize", [42]), "unknownAttribute"),
    (rule("segment", ["x"], "gt"), "unknownOperator"),
    (rule("contractEndWithinDays", "soon"), "invalidInput"),
    (rule("segment", []), "invalidInput"),
    (rule("consent", ["fax"]), "unknownChannel"),
])
def test_a_bad_rule_is_refused_saying_what(bad, code):
    with pytest.raises(ApiError) as err:
        domain.check_rules([bad])
    assert err.value.status == 400 and err.value.code == code


def test_templates_use_only_the_fields_a_campaign_fills_in():
    domain.check_templates({"sms": "Hi {firstName}: {offerName} {link} ({campaignCode})"}, ["sms"])
    for templates, channels in (({"sms": "Hi {shoeSize}"}, ["sms"]),          # unknown to the platform
                                ({"sms": "Your order {orderId}"}, ["sms"]),   # known, not a campaign's
                                ({"sms": "Hi"}, ["sms", "email"]),            # a channel without text
                                ({"sms": "Hi {firstName"}, ["sms"])):         # malformed
        with pytest.raises(ApiError) as err:
            domain.check_templates(templates, channels)
        assert err.value.status == 400 and err.value.code == "invalidTemplate"


def test_schedules_once_or_recurring_never_in_the_past_or_malformed():
    window = (NOW, NOW + dt.timedelta(days=30))
    at = domain.check_schedule({"at": "2026-03-02T12:00:05Z"}, window, NOW)
    assert at == NOW + dt.timedelta(seconds=5)
    assert domain.expression({"at": "2026-03-02T13:00:05+01:00"}) == "at(2026-03-02T12:00:05)"
    assert domain.check_schedule({"cron": "0 9 ? * MON *"}, window, NOW) == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.timezone.utc)
    assert domain.expression({"cron": "0 9 ? * MON *"}) == "cron(0 9 ? * MON *)"
    for schedule, code in (({"at": "2026-03-02T11:59:59Z"}, "scheduleInPast"),
                           ({"cron": "0 9 * * MON *"}, "invalidSchedule"),      # both day fields
                           ({"cron": "61 9 ? * MON *"}, "invalidSchedule"),
                           ({"cron": "cron(0 9 ? * MON *)"}, "invalidSchedule"),
                           ({"cron": "0 9 ? * MON 2020"}, "invalidSchedule"),    # never fires
                           ({"at": "2026-05-01T00:00:00Z"}, "invalidSchedule"),  # after validFor ends
                           ({"at": "2026-03-03T00:00:00Z", "cron": "0 9 ? * MON *"}, "invalidSchedule")):
        with pytest.raises(ApiError) as err:
            domain.check_schedule(schedule, window, NOW)
        assert err.value.code == code, schedule


def test_tracking_codes_are_stable_per_customer_and_lead_back_to_the_campaign():
    code = domain.tracking_code("c-1", "cust-andrea")
    assert code == domain.tracking_code("c-1", "cust-andrea") != domain.tracking_code("c-1", "cust-stacy")
    assert domain.parse_code(code) == ("c-1", domain.tag("c-1", "cust-andrea"))
    assert "cust-andrea" not in code and domain.parse_code("camp-home-security") is None
    assert domain.message_id("c-1", "cust-andrea") == "campaign-c-1-cust-andrea"


def test_the_cap_week_and_the_report():
    assert domain.week(NOW) == "2026-W10"
    assert domain.revenue([{"price": {"taxIncludedAmount": {"value": 49, "unit": "EUR"}}},
                           {"price": {"taxIncludedAmount": {"value": 14.99, "unit": "EUR"}}}]) == 63.99
    report = domain.report({"id": "c-1", "href": "h", "name": "n"}, {"targeted": 3, "sent": 1, "suppressedConsent": 1,
                                                                     "suppressedCap": 1, "revenue": 63.99}, "t")
    assert report["suppressed"] == {"consent": 1, "frequencyCap": 1}
    assert (report["targeted"], report["sent"], report["baskets"], report["revenue"]["value"]) == (3, 1, 0, 63.99)
