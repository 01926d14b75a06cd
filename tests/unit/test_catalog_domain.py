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
    assert job["status"] == "Not Started"
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


def _required_references(spec: dict, name: str, path: tuple = (), seen: frozenset = frozenset()):
    """(path, required fields at each level of it) for every nested object of definition `name`
    that TMF620 says has required fields: ((("agreement", True),), [["id"]]) and so on."""
    definitions = spec["definitions"]
    for field, prop in definitions[name].get("properties", {}).items():
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if not ref or ref.split("/")[-1] in seen:
            continue
        target = ref.split("/")[-1]
        here = path + ((field, "items" in prop, definitions[target].get("required", [])),)
        if definitions[target].get("required"):
            yield here
        yield from _required_references(spec, target, here, seen | {name, target})


def _body_without(path: tuple, missing: str) -> dict:
    """A body reaching down `path`, every object on the way with its required fields, the last
    one without `missing`."""
    inner: dict = {}
    for n, (field, is_list, required) in reversed(list(enumerate(path))):
        level = {key: "x" for key in required if not (n == len(path) - 1 and key == missing)}
        level.update(inner)
        inner = {field: [level] if is_list else level}
    return inner


def _cases():
    import json

    from tests.support.shared import SHARED

    specs = sorted((SHARED / "tmf/specs").glob("TMF620*.json"))
    assert specs
    for spec_path in specs:
        spec = json.loads(spec_path.read_text())
        for kind in ("catalog", "category", "productSpecification", "productOfferingPrice", "productOffering"):
            definition = kind[0].upper() + kind[1:] + "_Create"
            for path in _required_references(spec, definition):
                for missing in path[-1][2]:
                    where = ".".join(f"{f}[]" if is_list else f for f, is_list, _ in path)
                    yield pytest.param(kind, path, missing, id=f"{spec_path.name.split('.swagger')[0].rsplit('-', 1)[-1]}-{kind}.{where}.{missing}")


@pytest.mark.parametrize("kind,path,missing", list(_cases()))
def test_a_reference_without_what_the_spec_requires_is_refused(kind, path, missing):
    """Every nested object TMF620 gives required fields (references: id; RelatedParty:
    @referredType; target schemas: @schemaLocation, @type) is refused without them, whatever the
    offering: the server never answers 201 with a body the spec says is invalid (fuzz found
    resourceCandidate without id)."""
    body = {"name": "x", **_body_without(path, missing)}
    with pytest.raises(ApiError) as exc:
        make(body, domain.kind(kind))
    assert exc.value.status == 400, exc.value.message
