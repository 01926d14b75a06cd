"""importJob / exportJob through the real path: API -> table stream -> catalog-jobs state machine
(executing in moto) -> task handler; and the scheduled validity sweep."""
import json
import time

import pytest

from chalicelib.catalog import jobs, store

BASE = "/tmf-api/productCatalogManagement/v4"
PARTNER_EXPORT = jobs.DATA_DIR / "iot-partner-x-export.json"


@pytest.fixture
def admin(token):
    return {"Authorization": f"Bearer {token('catalog-admin')}", "Content-Type": "application/json"}


def wait_for_job(client, admin, pump, kind, job_id, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump.drain()
        job = json.loads(client.http.get(f"{BASE}/{kind}/{job_id}", headers=admin).body)
        if job["status"] in ("Succeeded", "Failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"{kind} {job_id} did not finish: {job}")


def post_job(client, admin, kind, body):
    r = client.http.post(f"{BASE}/{kind}", headers=admin, body=json.dumps(body))
    assert r.status_code == 201, r.body
    job = json.loads(r.body)
    assert job["status"] == "Not Started" and job["@type"] in ("ImportJob", "ExportJob")
    return job


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
