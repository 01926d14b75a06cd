"""Catalogue rules without AWS."""
import datetime as dt

import pytest

from chalicelib.catalog import domain
from chalicelib.errors import ApiError

PO = domain.kind("productOffering")
POP = domain.kind("productOfferingPrice")
AT = "2026-11-22T10:00:00.000Z"
NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.timezone.utc)


def make(body, k=PO):
    return domain.new_resource(k, body, "id-1", "http://x/id-1", AT)


def test_create_sets_server_attributes_and_defaults():
    doc = make({"name": "Broadband", "id": "spoofed", "lastUpdate": "1999"})
    assert doc["id"] == "id-1" and doc["lastUpdate"] == AT and doc["@type"] == "ProductOffering"
    assert doc["lifecycleStatus"] == "inDesign" and doc["version"] == "1.0"


@pytest.mark.parametrize("body,words", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": 12}, "name"),
    ({"name": "x", "isBundle": "yes"}, "isBundle"),
    ({"name": "x", "lifecycleStatus": "shipping"}, "lifecycleStatus"),
    ({"name": "x", "channel": "web"}, "channel"),
    ({"name": "x", "validFor": {"startDateTime": "2026-02-01T00:00:00Z", "endDateTime": "2026-01-01T00:00:00Z"}},
     "endDateTime"),
    ({"name": "x", "validFor": {"startDateTime": "soon"}}, "startDateTime"),
])
def test_invalid_offerings_say_what_is_wrong(body, words):
    with pytest.raises(ApiError) as exc:
        make(body)
    assert exc.value.status == 400 and words in exc.value.message


@pytest.mark.parametrize("body", [
    {"name": "p", "priceType": "sometimes"},
    {"name": "p", "price": {"unit": "euro", "value": 1}},
    {"name": "p", "price": {"unit": "EUR", "value": -1}},
    {"name": "p", "recurringChargePeriodType": "fortnight"},
])
def test_invalid_prices(body):
    with pytest.raises(ApiError):
        make(body, POP)


def test_lifecycle_transitions():
    domain.check_transition(PO, "inDesign", "active")
    domain.check_transition(PO, "active", "retired")
    domain.check_transition(PO, "active", "active")
    for old, new in [("inDesign", "obsolete"), ("retired", "active"), ("obsolete", "inDesign")]:
        with pytest.raises(ApiError) as exc:
            domain.check_transition(PO, old, new)
        assert exc.value.status == 422


def test_patch_cannot_touch_server_owned_fields_or_remove_status():
    doc = make({"name": "x"})
    with pytest.raises(ApiError):
        domain.patched(PO, doc, {"id": "other"}, AT)
    with pytest.raises(ApiError):
        domain.patched(PO, doc, {"lifecycleStatus": None}, AT)
    assert domain.patched(PO, doc, {"description": "d"}, AT)["description"] == "d"


def test_jobs_are_immutable():
    job = domain.new_resource(domain.kind("importJob"), {"url": "file:///x"}, "j", "h", AT)
    assert job["status"] == "notStarted"
    with pytest.raises(ApiError):
        domain.patched(domain.kind("importJob"), job, {"url": "y"}, AT)


def test_visibility_by_lifecycle_period_and_channel():
    offer = {"lifecycleStatus": "active", "channel": [{"id": "web"}],
             "validFor": {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}}
    assert domain.visible(PO, offer, "web", NOW)
    assert not domain.visible(PO, offer, "store", NOW)
    assert not domain.visible(PO, {**offer, "lifecycleStatus": "inDesign"}, "web", NOW)
    assert not domain.visible(PO, offer, "web", dt.datetime(2027, 2, 1, tzinfo=dt.timezone.utc))
    assert domain.visible(PO, {"lifecycleStatus": "launched"}, "sms", NOW)  # no channel list: everywhere


def test_references_into_own_catalogue_only():
    refs = domain.references(PO, {"category": [{"id": "c"}], "productOfferingPrice": [{"id": "p"}],
                                  "bundledProductOffering": [{"id": "o"}],
                                  "productSpecification": {"id": "9881"}})
    assert {(k, i) for k, i, _ in refs} == {("category", "c"), ("productOfferingPrice", "p"), ("productOffering", "o")}


def test_published_offers_cannot_be_deleted():
    with pytest.raises(ApiError) as exc:
        domain.check_deletable(PO, {"id": "x", "lifecycleStatus": "active"})
    assert exc.value.status == 409
    domain.check_deletable(PO, {"id": "x", "lifecycleStatus": "retired"})


def test_fulfilment_stack_and_sweep_rule():
    spec = {"relatedParty": [{"id": "csp-stack-a", "role": "fulfilmentStack"}]}
    assert domain.fulfilment_stack(spec) == "csp-stack-a"
    ended = {"lifecycleStatus": "active", "validFor": {"endDateTime": "2026-01-01T00:00:00Z"}}
    assert domain.expired_but_published(PO, ended, NOW)
    assert not domain.expired_but_published(PO, {**ended, "lifecycleStatus": "retired"}, NOW)
