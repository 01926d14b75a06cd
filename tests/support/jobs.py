"""Catalogue import and export jobs (TMF620 importJob/exportJob) driven to their end in a test."""
import json
import time

BASE = "/tmf-api/productCatalogManagement/v4"


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
