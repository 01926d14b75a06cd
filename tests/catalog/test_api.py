"""TMF620 over HTTP (chalice test client, moto in-process): behaviour and every bad input."""
import json

import pytest

from chalicelib.catalog import store

BASE = "/tmf-api/productCatalogManagement/v4"


def post(client, path, body, headers):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.post(f"{BASE}/{path}", headers=headers, body=raw)


def count(kind):
    return len(store.query_kind(kind))


def test_create_read_list_patch_delete(client, admin):
    r = post(client, "productOffering", {"name": "Fibre 2G", "description": "fast"}, admin)
    assert r.status_code == 201
    doc = json.loads(r.body)
    assert r.headers["Location"] == doc["href"] and doc["href"].endswith(f"/productOffering/{doc['id']}")
    assert doc["@type"] == "ProductOffering" and doc["lifecycleStatus"] == "inDesign" and doc["lastUpdate"]
    r = client.http.get(f"{BASE}/productOffering/{doc['id']}", headers=admin)
    assert r.status_code == 200 and json.loads(r.body) == doc and r.headers["ETag"] == '"1"'
    r = client.http.patch(f"{BASE}/productOffering/{doc['id']}",
                          headers={**admin, "Content-Type": "application/merge-patch+json"},
                          body=json.dumps({"description": None, "lifecycleStatus": "active"}))
    patched = json.loads(r.body)
    assert r.status_code == 200 and "description" not in patched and patched["lifecycleStatus"] == "active"
    r = client.http.delete(f"{BASE}/productOffering/{doc['id']}", headers=admin)
    assert r.status_code == 409  # published: retire first
    client.http.patch(f"{BASE}/productOffering/{doc['id']}", headers=admin, body=json.dumps({"lifecycleStatus": "retired"}))
    assert client.http.delete(f"{BASE}/productOffering/{doc['id']}", headers=admin).status_code == 204
    assert client.http.get(f"{BASE}/productOffering/{doc['id']}", headers=admin).status_code == 404


def test_list_paging_fields_and_filters(client, admin, demo):
    r = client.http.get(f"{BASE}/productOffering?offset=2&limit=3&fields=name", headers=admin)
    items = json.loads(r.body)
    assert r.status_code == 200 and len(items) == 3
    assert int(r.headers["X-Total-Count"]) == count("productOffering") and r.headers["X-Result-Count"] == "3"
    assert all(set(i) == {"id", "name"} for i in items)
    r = client.http.get(f"{BASE}/productOffering?name=TV%20Max", headers=admin)
    assert [o["id"] for o in json.loads(r.body)] == ["po-tv-max"]
    r = client.http.get(f"{BASE}/productOffering?isBundle=true", headers=admin)
    assert [o["id"] for o in json.loads(r.body)] == ["po-extreme-bundle"]


def test_channels_only_see_what_is_published_for_them(client, token, demo):
    def ids(channel):
        headers = {"Authorization": f"Bearer {token('channel', channel=channel)}"}
        return {o["id"] for o in json.loads(client.http.get(f"{BASE}/productOffering", headers=headers).body)}

    assert "po-broadband-1000" not in ids("web")            # inDesign
    assert "po-phone-x-plan-24" in ids("web")
    assert "po-phone-x-plan-24" not in ids("social")        # not sold on social
    customer = {"Authorization": f"Bearer {token('customer', channel='social', customerId='c-1')}"}
    assert client.http.get(f"{BASE}/productOffering/po-phone-x-plan-24", headers=customer).status_code == 404
    assert client.http.get(f"{BASE}/productOffering/po-broadband-1000", headers=customer).status_code == 404
    assert client.http.get(f"{BASE}/importJob", headers=customer).status_code == 403


def test_bundles_promotions_and_terms_are_modelled(client, web, demo):
    bundle = json.loads(client.http.get(f"{BASE}/productOffering/po-extreme-bundle", headers=web).body)
    assert bundle["isBundle"] and {b["id"] for b in bundle["bundledProductOffering"]} == {
        "po-broadband-500", "po-tv-max", "po-mobile-unlimited"}
    monthly = json.loads(client.http.get(f"{BASE}/productOfferingPrice/pop-broadband-monthly", headers=web).body)
    promo_id = monthly["popRelationship"][0]["id"]
    promo = json.loads(client.http.get(f"{BASE}/productOfferingPrice/{promo_id}", headers=web).body)
    assert promo["percentage"] == 100 and promo["productOfferingTerm"][0]["duration"] == {"amount": 6, "units": "month"}
    spec = json.loads(client.http.get(f"{BASE}/productSpecification/ps-home-security", headers=web).body)
    assert {"id": "iot-partner-x", "role": "fulfilmentStack"}.items() <= spec["relatedParty"][0].items()


BAD_BODIES = [
    (b"{not json", 400, "malformedJson"),
    (b"[1, 2]", 400, "invalidInput"),
    (b"", 400, "invalidInput"),
    ({"description": "no name"}, 400, "invalidInput"),
    ({"name": 42}, 400, "invalidInput"),
    ({"name": "x", "isSellable": "maybe"}, 400, "invalidInput"),
    ({"name": "x", "lifecycleStatus": "onSale"}, 400, "invalidInput"),
    ({"name": "x", "category": [{"id": "cat-nowhere"}]}, 422, "unknownReference"),
    ({"name": "x", "description": "y" * (256 * 1024)}, 413, "payloadTooLarge"),
]


@pytest.mark.parametrize("body,status,code", BAD_BODIES)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(client, admin, body, status, code):
    before = count("productOffering")
    r = post(client, "productOffering", body, admin)
    error = json.loads(r.body)
    assert r.status_code == status, r.body
    assert error["code"] == code and error["@type"] == "Error" and error["status"] == str(status) and error["message"]
    assert count("productOffering") == before


def test_wrong_content_type_is_415(client, admin):
    r = post(client, "productOffering", "name=x", {**admin, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and json.loads(r.body)["@type"] == "Error"


@pytest.mark.parametrize("headers,status", [
    ({}, 401),
    ({"Authorization": "Bearer garbage"}, 401),
    ({"Authorization": "Token abc"}, 401),
])
def test_missing_or_invalid_token(client, headers, status):
    r = post(client, "productOffering", {"name": "x"}, {**headers, "Content-Type": "application/json"})
    assert r.status_code == status and json.loads(r.body)["code"] == "unauthorized"


@pytest.mark.parametrize("role,claims", [("channel", {"channel": "web"}), ("agent", {}), ("marketing", {}),
                                         ("customer", {"channel": "web", "customerId": "c"}),
                                         ("stack", {"stack": "csp-stack-a"})])
def test_only_catalog_admin_writes(client, token, role, claims):
    headers = {"Authorization": f"Bearer {token(role, **claims)}", "Content-Type": "application/json"}
    before = count("productOffering")
    assert post(client, "productOffering", {"name": "x"}, headers).status_code == 403
    assert count("productOffering") == before


def test_illegal_lifecycle_transition_is_422_and_unchanged(client, admin, demo):
    r = client.http.patch(f"{BASE}/productOffering/po-broadband-1000", headers=admin,
                          body=json.dumps({"lifecycleStatus": "obsolete", "name": "changed"}))
    assert r.status_code == 422 and json.loads(r.body)["code"] == "illegalLifecycleTransition"
    assert store.load("productOffering", "po-broadband-1000")[0]["name"] == "Broadband 1000 (coming soon)"


def test_stale_if_match_gets_412_with_the_current_resource(client, admin, demo):
    r = client.http.get(f"{BASE}/productOffering/po-tv-max", headers=admin)
    etag = r.headers["ETag"]
    ok = client.http.patch(f"{BASE}/productOffering/po-tv-max", headers={**admin, "If-Match": etag},
                           body=json.dumps({"description": "first"}))
    assert ok.status_code == 200
    stale = client.http.patch(f"{BASE}/productOffering/po-tv-max", headers={**admin, "If-Match": etag},
                              body=json.dumps({"description": "second"}))
    assert stale.status_code == 412 and json.loads(stale.body)["description"] == "first"


def test_idempotency_key_replays_the_first_answer(client, admin):
    headers = {**admin, "Idempotency-Key": "k-1"}
    first = post(client, "productSpecification", {"name": "Spec"}, headers)
    second = post(client, "productSpecification", {"name": "Spec"}, headers)
    assert first.status_code == second.status_code == 201
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]
    assert count("productSpecification") == 1
    reused = post(client, "productSpecification", {"name": "Other"}, headers)
    assert reused.status_code == 422 and json.loads(reused.body)["code"] == "idempotencyKeyReused"


def test_unknown_resource_is_404(client, admin):
    r = client.http.get(f"{BASE}/productSpecification/279edf2b-0130-4c8f-8277-f81daa05d87d", headers=admin)
    assert r.status_code == 404 and json.loads(r.body)["code"] == "notFound"
