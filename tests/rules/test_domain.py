"""Qualification rules, postcodes and IP regions: plain functions, no AWS."""
import pytest

from chalicelib.catalog.demo import CATALOGUE
from chalicelib.errors import ApiError
from chalicelib.rules import domain, places
from chalicelib.rules.demo import RULES

OFFERINGS = {o["id"]: o for o in CATALOGUE["productOffering"]}
ANON_WEB = domain.Facts(channel="web")


def qualify(oid, others=(), facts=ANON_WEB, rules=RULES):
    offering = OFFERINGS[oid]
    return domain.qualify(offering, domain.rules_for(offering, rules), set(others), facts,
                          {k: v["name"] for k, v in OFFERINGS.items()})


def codes(result):
    return [r["code"] for r in result["reasons"]]


def known(**kw):
    base = dict(channel="web", segment="residential", customer_type="individual", known_customer=True,
                technologies=frozenset({"fibre", "4g"}))
    return domain.Facts(**{**base, **kw})


def test_channel_availability_comes_from_the_catalogue():
    assert codes(qualify("po-phone-x-plan-24", ["po-phone-x"], domain.Facts(channel="social"))) == \
        ["notSoldInChannel", "addressRequired"]
    assert "notSoldInChannel" not in codes(qualify("po-phone-x-plan-24", ["po-phone-x"]))


def test_a_handset_plan_requires_a_handset_in_the_basket():
    result = qualify("po-phone-x-plan-24", facts=known())
    assert result["result"] == domain.UNQUALIFIED and codes(result) == ["requiresHandset"]
    assert "requires Phone X" in result["reasons"][0]["label"]
    assert qualify("po-phone-x-plan-24", ["po-phone-x"], known())["result"] == domain.QUALIFIED


def test_an_add_on_requires_its_base_in_the_basket_or_held():
    assert codes(qualify("po-tv-max", facts=known())) == ["requires"]
    assert qualify("po-tv-max", ["po-broadband-500"], known())["result"] == domain.QUALIFIED
    assert qualify("po-tv-max", facts=known(held=(("po-broadband-500", 400),)))["result"] == domain.QUALIFIED


def test_two_offers_exclude_each_other_both_ways_with_one_rule():
    assert "excludes" in codes(qualify("po-extreme-bundle", ["po-tv-max"], known(held=(("po-broadband-500", 10),))))
    assert "excludes" in codes(qualify("po-tv-max", ["po-extreme-bundle"], known()))


def test_upgrade_only_near_contract_end():
    near = known(held=(("po-broadband-500", 45),))
    far = known(held=(("po-broadband-500", 530),))
    assert qualify("po-extreme-bundle", facts=near)["result"] == domain.QUALIFIED
    result = qualify("po-extreme-bundle", facts=far)
    assert codes(result) == ["upgradeNotYetEligible"] and "530 days left" in result["reasons"][0]["label"]
    assert qualify("po-extreme-bundle", facts=known())["result"] == domain.QUALIFIED  # new customers may buy it


def test_segment_and_customer_type_eligibility():
    business = known(segment="business", customer_type="organization")
    assert codes(qualify("po-extreme-bundle", facts=business)) == ["segmentNotEligible", "customerTypeNotEligible"]
    # an anonymous visitor is taken to be a residential individual
    assert "segmentNotEligible" not in codes(qualify("po-extreme-bundle"))


def test_serviceability_by_address():
    assert qualify("po-broadband-500")["result"] == domain.UNDETERMINED
    assert codes(qualify("po-broadband-500", facts=known(technologies=frozenset({"adsl"})))) == ["notServiceable"]
    assert qualify("po-broadband-500", facts=known())["result"] == domain.QUALIFIED


def test_retired_rules_and_custom_messages():
    retired = [{**r, "lifecycleStatus": "retired"} if r["id"] == "rule-tv-needs-broadband" else r for r in RULES]
    assert qualify("po-tv-max", facts=known(), rules=retired)["result"] == domain.QUALIFIED
    custom = [{**r, "message": "TV needs our broadband"} if r["id"] == "rule-tv-needs-broadband" else r for r in RULES]
    assert qualify("po-tv-max", facts=known(), rules=custom)["reasons"][0]["label"] == "TV needs our broadband"


def test_overall_result():
    assert domain.overall(["qualified", "undetermined"]) == "undetermined"
    assert domain.overall(["qualified", "unqualified", "undetermined"]) == "unqualified"
    assert domain.overall(["qualified"]) == "qualified"


@pytest.mark.parametrize("body, problem", [
    ({"name": "x", "ruleType": "requires", "productOffering": [{"id": "a"}]}, "needs requires"),
    ({"name": "x", "ruleType": "eligibility", "productOffering": [{"id": "a"}]}, "marketSegment or customerType"),
    ({"name": "x", "ruleType": "serviceability", "technology": ["fibre"]}, "needs productOffering"),
    ({"name": "x", "ruleType": "magic", "productOffering": [{"id": "a"}]}, "ruleType"),
    ({"name": "x", "ruleType": "upgrade", "productOffering": [{"id": "a"}], "upgradeFrom": [{"id": "b"}],
      "withinDays": -1}, "withinDays"),
])
def test_invalid_rules_are_refused(body, problem):
    with pytest.raises(ApiError) as err:
        domain.new_rule(body, "r1", "http://x/r1", "2026-01-01T00:00:00Z")
    assert err.value.status == 400 and problem in err.value.message


def test_postcodes_and_coverage():
    assert domain.normalise_postcode("bs1 4dj") == "BS1 4DJ"
    assert domain.normalise_postcode("BS1") == "BS1"
    with pytest.raises(ApiError):
        domain.normalise_postcode("not a postcode")
    assert places.technologies("BS1 4DJ") >= {"fibre"}          # exact outward code
    assert "fibre" not in places.technologies("BS16 1AA")       # area BS only
    assert places.technologies("M1 1AA") and "adsl" not in places.technologies("M1 1AA")
    assert places.technologies("ML1 1AA") == frozenset()        # ML is not M: outside the table
    assert places.technologies(None) is None


def test_region_from_postcode_else_ip():
    assert places.region("BS1 4DJ", "192.0.2.10") == ("South West England", "postcode")
    assert places.region(None, "192.0.2.10") == ("London", "ip")
    assert places.region(None, "2001:db8::1") == ("South West England", "ip")
    assert places.region(None, "8.8.8.8") == (None, None)
    assert places.region(None, "not-an-ip") == (None, None)
    assert places.region(None, None) == (None, None)
