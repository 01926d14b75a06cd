"""importJob / exportJob through the real path: API -> table stream -> catalog-jobs state machine
(executing in moto) -> task handler; and the scheduled validity sweep."""
import json

import pytest

from chalicelib.catalog import jobs, store
from tests.support.jobs import post_job, wait_for_job

BASE = "/tmf-api/productCatalogManagement/v4"
PARTNER_EXPORT = jobs.DATA_DIR / "iot-partner-x-export.json"


def test_import_partner_catalogue(client, admin, pump):
    job = post_job(client, admin, "importJob", {"url": PARTNER_EXPORT.as_uri()})
    done = wait_for_job(client, admin, pump, "importJob", job["id"])
    assert done["status"] == "Succeeded", done
    offer = store.load("productOffering", "po-home-security")[0]
    assert offer["lifecycleStatus"] == "active"
    assert store.load("productSpecification", "ps-home-security")[0]["relatedParty"][0]["id"] == "iot-partner-x"


def test_invalid_import_fails_the_job_and_writes_nothing(client, admin, pump, tmp_path, monkeypatch):
    monkeypatch.setenv("OMNISHOP_IMPORT_FILE_ROOTS", str(tmp_path))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"productOffering": [
        {"id": "ok-1", "name": "fine"},
        {"id": "bad-1", "name": "broken", "lifecycleStatus": "sideways"}]}))
    job = post_job(client, admin, "importJob", {"url": bad.as_uri()})
    done = wait_for_job(client, admin, pump, "importJob", job["id"])
    assert done["status"] == "Failed" and "bad-1" in done["errorLog"]
    assert store.load("productOffering", "ok-1") is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.json"])
def test_import_from_a_forbidden_place_fails(client, admin, pump, url):
    job = post_job(client, admin, "importJob", {"url": url})
    done = wait_for_job(client, admin, pump, "importJob", job["id"])
    assert done["status"] == "Failed" and done["errorLog"]


def test_import_job_needs_a_url(client, admin):
    r = client.http.post(f"{BASE}/importJob", headers=admin, body=json.dumps({}))
    assert r.status_code == 400 and "url" in json.loads(r.body)["message"]


def test_export_then_reimport_round_trips(client, admin, pump, tmp_path, monkeypatch):
    monkeypatch.setenv("OMNISHOP_EXPORT_DIR", str(tmp_path))
    from chalicelib.catalog import demo

    demo.load()
    job = post_job(client, admin, "exportJob", {"query": "lifecycleStatus=active"})
    done = wait_for_job(client, admin, pump, "exportJob", job["id"])
    assert done["status"] == "Succeeded" and done["url"].startswith("file://")
    exported = json.loads((tmp_path / f"catalog-export-{job['id']}.json").read_text())
    assert {o["id"] for o in exported["productOffering"]} >= {"po-extreme-bundle", "po-home-security"}
    assert "po-broadband-1000" not in {o["id"] for o in exported["productOffering"]}  # inDesign
    writes, errors = jobs.prepare_import(exported, "2026-01-01T00:00:00.000Z")
    assert errors == [] and len(writes) == sum(len(v) for v in exported.values())


def test_sweep_retires_offers_whose_validity_ended(client, admin, pump):
    r = client.http.post(f"{BASE}/productOffering", headers=admin, body=json.dumps({
        "name": "Summer deal", "lifecycleStatus": "active",
        "validFor": {"startDateTime": "2020-06-01T00:00:00Z", "endDateTime": "2020-09-01T00:00:00Z"}}))
    offer = json.loads(r.body)
    assert jobs.sweep() == [f"productOffering/{offer['id']}"]
    assert jobs.sweep() == []  # twice is harmless
    assert store.load("productOffering", offer["id"])[0]["lifecycleStatus"] == "retired"


@pytest.mark.parametrize("doc", [{"@type": ["ProductOffering"]}, {"@baseType": {"x": 1}}, {"@type": 7}, "text"])
def test_an_export_resource_whose_type_is_not_a_name_is_invalid(doc):
    # a list or object as @type was looked up as a key: TypeError (unhashable), not a failed job
    with pytest.raises(jobs.JobInvalid, match="known @type"):
        jobs.parse_export(json.dumps([doc]).encode())


# --- category mapping (issue 15: imported offers are found by category browsing) ----------------
SMART_HOME = [{"category": {"id": "cat-smart-home"}}]


def test_an_import_job_puts_partner_offers_in_our_categories(client, admin, pump, token):
    r = client.http.post(f"{BASE}/category", headers=admin, body=json.dumps(
        {"id": "cat-smart-home", "name": "Smart home", "lifecycleStatus": "active"}))
    assert r.status_code == 201
    cat_id = json.loads(r.body)["id"]
    job = post_job(client, admin, "importJob", {"url": PARTNER_EXPORT.as_uri(),
                                                 "categoryMapping": [{"category": {"id": cat_id}}]})
    done = wait_for_job(client, admin, pump, "importJob", job["id"])
    assert done["status"] == "Succeeded", done
    assert store.load("productOffering", "po-home-security")[0]["category"] == [{"id": cat_id}]
    web = {"Authorization": f"Bearer {token('channel', channel='web')}"}
    store.cache.clear()
    r = client.http.get(f"{BASE}/productOffering?category.id={cat_id}&fields=name", headers=web)
    assert [o["id"] for o in json.loads(r.body)] == ["po-home-security"]


def test_an_import_mapping_to_a_category_we_do_not_have_fails_and_writes_nothing(client, admin, pump):
    job = post_job(client, admin, "importJob", {"url": PARTNER_EXPORT.as_uri(),
                                                 "categoryMapping": [{"category": {"id": "cat-nowhere"}}]})
    done = wait_for_job(client, admin, pump, "importJob", job["id"])
    assert done["status"] == "Failed" and "cat-nowhere" in done["errorLog"] and "po-home-security" in done["errorLog"]
    assert store.load("productOffering", "po-home-security") is None


@pytest.mark.parametrize("mapping", [{"category": {"id": "c"}}, [{"partnerCategoryId": "x"}],
                                     [{"category": {"name": "no id"}}], [{"partnerCategoryId": "", "category": {"id": "c"}}]])
def test_a_bad_category_mapping_is_a_400(client, admin, mapping):
    r = client.http.post(f"{BASE}/importJob", headers=admin,
                         body=json.dumps({"url": PARTNER_EXPORT.as_uri(), "categoryMapping": mapping}))
    assert r.status_code == 400 and "categoryMapping" in json.loads(r.body)["message"], r.body


def test_map_categories_renames_defaults_and_keeps_the_federated():
    export = {"category": [{"id": "partner-kept", "name": "Kept"}], "productOffering": [
        {"id": "none", "name": "No category"},
        {"id": "renamed", "name": "Cameras", "category": [{"id": "partner-cams"}, {"id": "partner-kept"}]},
        {"id": "twice", "name": "Both", "category": [{"id": "partner-cams"}, {"id": "partner-alarms"}]},
        {"id": "kept", "name": "Kept", "category": [{"id": "partner-kept"}]}]}
    mapping = [{"partnerCategoryId": "partner-cams", "category": {"id": "cat-smart-home"}},
               {"partnerCategoryId": "partner-alarms", "category": {"id": "cat-smart-home"}},
               {"category": {"id": "cat-devices"}}]
    mapped = {o["id"]: o["category"] for o in jobs.map_categories(export, mapping)["productOffering"]}
    assert mapped == {"none": [{"id": "cat-devices"}],
                      "renamed": [{"id": "cat-smart-home"}, {"id": "partner-kept"}],
                      "twice": [{"id": "cat-smart-home"}],
                      "kept": [{"id": "partner-kept"}]}
    assert jobs.map_categories(export, []) == export
