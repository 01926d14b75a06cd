"""Keyword search for channels (issue 15): prefix and typo tolerant over name, description,
category names and characteristic values, ranked, visibility first, paged; bad q is a 400."""
import json

import pytest

from chalicelib.catalog import search
from tests.catalog.test_api import BASE, post
from tests.support.tmf_spec import TMF_ERROR_KEYS

OFFERINGS = [
    {"id": "o-sec", "name": "Home Security Kit", "description": "Cameras and alarm for your home",
     "category": [{"id": "c-smart"}], "productSpecification": {"id": "s-cam"}},
    {"id": "o-fibre", "name": "Fibre 500", "description": "Broadband for a secure home office",
     "category": [{"id": "c-bb", "name": "Broadband"}]},
    {"id": "o-phone", "name": "Phone X", "prodSpecCharValueUse": [
        {"name": "colour", "productSpecCharacteristicValue": [{"value": "Midnight blue"}]}]},
]
CATEGORIES = [{"id": "c-smart", "name": "Smart home"}, {"id": "c-bb", "name": "Broadband"}]
SPECS = [{"id": "s-cam", "productSpecCharacteristic": [{"name": "brand", "productSpecCharacteristicValue": [
    {"value": "Acme"}]}]}]
INDEX = search.build(OFFERINGS, CATEGORIES, SPECS)


def ids(q):
    return [d["id"] for d in search.rank(OFFERINGS, search.query_terms(q), INDEX)]


@pytest.mark.parametrize("q,expected", [
    ("home secu", ["o-sec", "o-fibre"]),      # prefix; the name match ranks above the description's
    ("security", ["o-sec", "o-fibre"]),       # the stem "secur": "secure" in the description, below
    ("securty", ["o-sec"]),                   # a typo
    ("Hmoe Secrity", ["o-sec"]),              # two
    ("smart", ["o-sec"]),                     # a category name (from the category document)
    ("broadband", ["o-fibre"]),               # a category name on the reference, and the description
    ("acme", ["o-sec"]),                      # a characteristic value of the product specification
    ("midnight", ["o-phone"]),                # one of the offering's own characteristic values
    ("phone blue", ["o-phone"]),              # every term must match
    ("phone cameras", []),
    ("xyzzy", []),
])
def test_prefix_typos_fields_and_every_term(q, expected):
    assert ids(q) == expected


def test_a_name_match_ranks_above_a_description_match():
    offerings = [{"id": "a", "name": "Modem", "description": "router included"},
                 {"id": "b", "name": "Router", "description": "fast"}]
    index = search.build(offerings, [], [])
    assert [d["id"] for d in search.rank(offerings, ["router"], index)] == ["b", "a"]


@pytest.mark.parametrize("q,expected", [
    ("routers", ["r"]), ("router", ["r"]), ("camera", ["c"]), ("families", ["f"]), ("streaming", ["f"]),
])
def test_stems_find_other_forms_of_a_word(q, expected):
    offerings = [{"id": "r", "name": "Mesh router"}, {"id": "c", "name": "Indoor cameras"},
                 {"id": "f", "name": "Family plan", "description": "Streams in HD"}]
    index = search.build(offerings, [], [])
    assert [d["id"] for d in search.rank(offerings, search.query_terms(q), index)] == expected


def test_an_exact_word_ranks_above_its_stem_and_a_prefix():
    offerings = [{"id": "stem", "name": "Routers"}, {"id": "exact", "name": "Router"},
                 {"id": "prefix", "name": "Routerboard"}]
    index = search.build(offerings, [], [])
    assert [d["id"] for d in search.rank(offerings, ["router"], index)] == ["exact", "stem", "prefix"]


def test_only_the_candidates_given_are_ranked():
    assert [d["id"] for d in search.rank(OFFERINGS[1:], ["home"], INDEX)] == ["o-fibre"]


@pytest.mark.parametrize("raw", [None, "", "   ", "!!! ---", "x" * 201, " ".join(["a"] * 9)])
def test_bad_queries_are_refused(raw):
    from chalicelib.errors import ApiError

    with pytest.raises(ApiError) as err:
        search.query_terms(raw)
    assert err.value.status == 400


# --- over HTTP ------------------------------------------------------------------------------------
@pytest.fixture
def social(token):
    return {"Authorization": f"Bearer {token('channel', channel='social')}"}


def get(client, query, headers):
    r = client.http.get(f"{BASE}/productOffering?{query}", headers=headers)
    return r.status_code, json.loads(r.body), r.headers


def test_channel_search_is_ranked_and_paged(client, web, demo):
    status, items, headers = get(client, "q=phone+x", web)
    assert status == 200 and [o["id"] for o in items] == ["po-phone-x", "po-phone-x-case", "po-phone-x-plan-24"]
    status, items, headers = get(client, "q=phone+x&offset=1&limit=1&fields=name", web)
    assert [o["name"] for o in items] == ["Phone X case"] and headers["X-Total-Count"] == "3"
    status, items, _ = get(client, "q=brodband", web)                          # a typo
    assert [o["id"] for o in items] == ["po-broadband-500"]                      # 1000 is inDesign: not shown
    status, items, _ = get(client, "q=silv", web)                              # Phone X's colours
    assert [o["id"] for o in items] == ["po-phone-x"]
    status, items, _ = get(client, "q=phone&lifecycleStatus=active&isBundle=false", web)   # with filters
    assert status == 200 and len(items) == 3


def test_visibility_comes_before_ranking(client, web, social, admin, demo):
    status, items, _ = get(client, "q=phone+plan", social)       # the plan is not sold in social
    assert status == 200 and [o["id"] for o in items] == ["po-phone-x"] or items == []
    assert all(o["id"] != "po-phone-x-plan-24" for o in items)
    assert "po-phone-x-plan-24" in [o["id"] for o in get(client, "q=phone+plan", web)[1]]
    assert [o["id"] for o in get(client, "q=coming+soon", admin)[1]] == ["po-broadband-1000"]
    assert get(client, "q=coming+soon", web)[1] == []


def test_a_new_offering_is_found_once_the_catalogue_changes(client, web, admin, demo):
    r = post(client, "productOffering", {"name": "Zephyr Doorbell", "lifecycleStatus": "active"}, admin)
    assert r.status_code == 201
    from chalicelib.catalog import store

    store.cache.clear()
    assert [o["name"] for o in get(client, "q=zephyr+door", web)[1]] == ["Zephyr Doorbell"]


@pytest.mark.parametrize("query", ["q=", "q=%20", "q=" + "a" * 300, "q=" + "+".join(["w"] * 20)])
def test_bad_q_is_a_400_with_a_tmf_error(client, web, demo, query):
    status, body, _ = get(client, query, web)
    assert status == 400 and all(k in body for k in TMF_ERROR_KEYS), body


def test_q_is_not_a_filter_of_other_lists(client, admin, demo):
    r = client.http.get(f"{BASE}/category?q=broadband", headers=admin)
    assert r.status_code == 400 and json.loads(r.body)["code"] == "unknownFilter"


# --- facets ---------------------------------------------------------------------------------------
ALL_FACETS = ",".join(search.FACETS)


def counts(facets, name):
    return {b["value"]: b["count"] for b in facets[name]}


def test_facets_come_in_an_envelope_only_when_asked(client, web, demo):
    from tests.support import tmf_spec

    spec = tmf_spec.load("TMF620-ProductCatalog-v4.0.0")
    status, plain, headers = get(client, "q=phone&limit=2", web)
    assert status == 200 and isinstance(plain, list)
    assert spec.problems(plain, "GET", "/productOffering", 200) == []
    status, body, faceted_headers = get(client, f"q=phone&limit=2&facets={ALL_FACETS}", web)
    assert status == 200 and set(body) == {"items", "facets"} and body["items"] == plain
    assert faceted_headers["X-Total-Count"] == headers["X-Total-Count"] == "3"
    assert all(spec.problems(item, definition="ProductOffering") == [] for item in body["items"])
    # counted over the whole result set (3 offerings), not the page of 2
    assert counts(body["facets"], "category") == {"cat-devices": 1, "cat-accessories": 1, "cat-mobile": 1}
    assert counts(body["facets"], "colour") == {"black": 1, "silver": 1}
    assert counts(body["facets"], "stack") == {"csp-stack-b": 3}
    assert counts(body["facets"], "priceRange") == {"10-20": 1, "20-50": 1, "50-100": 1}
    assert counts(body["facets"], "contractTerm") == {"24": 1}
    assert body["facets"]["brand"] == []
    assert {"value": "cat-devices", "name": "Devices", "count": 1, "filter": "category.id=cat-devices"} \
        in body["facets"]["category"]


def test_facets_of_a_whole_list_count_only_what_the_channel_sees(client, web, social, admin, demo):
    _, body, _ = get(client, "facets=category,contractTerm,stack,brand,priceRange", web)
    assert len(body["items"]) == 10                     # broadband 1000 is inDesign: neither listed nor counted
    assert counts(body["facets"], "category") == {
        "cat-accessories": 2, "cat-mobile": 3, "cat-broadband": 1, "cat-bundles": 1, "cat-devices": 1,
        "cat-smart-home": 1, "cat-tv": 1}
    assert counts(body["facets"], "contractTerm") == {"12": 1, "24": 5}
    assert counts(body["facets"], "stack") == {"csp-stack-b": 6, "csp-stack-a": 2, "iot-partner-x": 1}
    assert counts(body["facets"], "brand") == {"IoT Partner X": 1}
    assert counts(body["facets"], "priceRange") == {"10-20": 3, "20-50": 5, "50-100": 2}
    assert [b["value"] for b in body["facets"]["priceRange"]] == ["10-20", "20-50", "50-100"]
    # social is not sold the Phone X plan: it sees no count of it
    _, body, _ = get(client, "facets=category", social)
    assert counts(body["facets"], "category")["cat-mobile"] == 2 and len(body["items"]) == 9
    # an author sees every offering, inDesign too
    _, body, _ = get(client, "facets=category", admin)
    assert counts(body["facets"], "category")["cat-broadband"] == 2


@pytest.mark.parametrize("facet", ["category", "priceRange", "contractTerm", "stack", "colour", "brand"])
def test_each_facet_values_filter_narrows_the_list_to_its_count(client, web, demo, facet):
    _, body, _ = get(client, f"facets={facet}", web)
    assert body["facets"][facet]
    for bucket in body["facets"][facet]:
        status, items, headers = get(client, bucket["filter"], web)
        assert status == 200 and len(items) == bucket["count"] == int(headers["X-Total-Count"]), bucket


def test_facet_filters_combine_with_q_and_each_other(client, web, demo):
    assert [o["id"] for o in get(client, "q=phone&colour=SILVER,gold", web)[1]] == ["po-phone-x"]
    assert [o["id"] for o in get(client, "q=phone&priceRange=10-20", web)[1]] == ["po-phone-x-case"]
    assert get(client, "stack=csp-stack-a&priceRange=50-100", web)[1] == []
    _, body, _ = get(client, "stack=csp-stack-b&facets=category", web)
    assert sum(b["count"] for b in body["facets"]["category"]) == 6


@pytest.mark.parametrize("query,code", [
    ("facets=category,sparkle", "unknownFacet"), ("facets=", "unknownFacet"), ("q=phone&facets=,", "unknownFacet"),
    ("colour=", "invalidInput"), ("brand=,,", "invalidInput"), ("q=" + "x" * 2000, "invalidInput"),
])
def test_bad_facets_are_a_400(client, web, demo, query, code):
    status, body, _ = get(client, query, web)
    assert status == 400 and body["code"] == code and all(k in body for k in TMF_ERROR_KEYS), body


def test_facets_are_not_a_parameter_of_other_lists(client, admin, demo):
    r = client.http.get(f"{BASE}/category?facets=category", headers=admin)
    assert r.status_code == 400 and json.loads(r.body)["code"] == "unknownFilter"


def test_price_bands_follow_the_channel_price():
    prices = [{"id": "p-all", "priceType": "recurring", "price": {"unit": "EUR", "value": 30}},
              {"id": "p-web", "priceType": "recurring", "price": {"unit": "EUR", "value": 5},
               "channel": [{"id": "web"}], "recurringChargePeriodType": "month"},
              {"id": "p-kit", "priceType": "oneTime", "price": {"unit": "EUR", "value": 300}}]
    offerings = [{"id": "o", "name": "Alarm", "productOfferingPrice": [{"id": "p-all"}, {"id": "p-web"}]},
                 {"id": "k", "name": "Kit", "productOfferingPrice": [{"id": "p-kit"}]},
                 {"id": "n", "name": "Nothing to pay"}]
    index = search.build(offerings, [], [], prices)
    assert counts(index.facets([0, 1, 2], ["priceRange"], "web"), "priceRange") == {"0-10": 1, "250-500": 1}
    assert counts(index.facets([0, 1, 2], ["priceRange"], "store"), "priceRange") == {"20-50": 1, "250-500": 1}
    assert index.select(search.Ask(wanted={"priceRange": frozenset({"0-10"})}), None, None, "web") == [0]
    assert index.select(search.Ask(wanted={"priceRange": frozenset({"0-10"})}), None, None, "store") == []


def test_a_channels_visible_set_is_kept_until_the_next_validfor_edge():
    import datetime as dt

    offerings = [{"id": "a", "name": "Always"},
                 {"id": "s", "name": "Spring", "validFor": {"startDateTime": "2027-03-01T00:00:00Z"}}]
    index = search.build(offerings, [], [])
    calls = []

    def test(doc, at):
        calls.append(doc["id"])
        return not doc.get("validFor") or at >= dt.datetime(2027, 3, 1, tzinfo=dt.timezone.utc)

    winter = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    assert index.visible("web", winter, lambda d: test(d, winter)) == {0}
    later = winter + dt.timedelta(days=30)
    assert index.visible("web", later, lambda d: test(d, later)) == {0} and len(calls) == 2   # kept
    spring = dt.datetime(2027, 3, 1, tzinfo=dt.timezone.utc)
    assert index.visible("web", spring, lambda d: test(d, spring)) == {0, 1} and len(calls) == 4   # edge passed


def test_paging_with_q_and_facets_pages_the_items_only(client, web, demo):
    pages = [get(client, f"q=phone&facets=category&offset={o}&limit=1", web)[1] for o in range(4)]
    assert [len(p["items"]) for p in pages] == [1, 1, 1, 0]
    assert all(p["facets"] == pages[0]["facets"] for p in pages)


def test_the_index_is_built_again_only_for_other_lists():
    offerings, categories, specs, prices = [dict(o) for o in OFFERINGS], list(CATEGORIES), list(SPECS), []
    first = search.index_for(offerings, categories, specs, prices)
    assert search.index_for(offerings, categories, specs, prices) is first
    changed = [*offerings, {"id": "o-new", "name": "Zephyr"}]       # the cache hands out a new list
    again = search.index_for(changed, categories, specs, prices)
    assert again is not first and [changed[p]["id"] for p in again.scores(["zephyr"])] == ["o-new"]
