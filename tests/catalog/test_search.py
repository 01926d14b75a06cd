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
def web(token):
    return {"Authorization": f"Bearer {token('channel', channel='web')}"}


@pytest.fixture
def social(token):
    return {"Authorization": f"Bearer {token('channel', channel='social')}"}


@pytest.fixture
def admin(token):
    return {"Authorization": f"Bearer {token('catalog-admin')}", "Content-Type": "application/json"}


@pytest.fixture
def demo(aws):
    from chalicelib.catalog import demo as catalog_demo

    catalog_demo.load()


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
