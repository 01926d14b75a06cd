"""Idempotency-Key (issue 10 point 7): a key is scoped to the caller, the method and the path
with its parameters, and the same key with another body is 422 in every process, whatever ran
first in it (Powertools' persistence layer used to keep the configuration of the first call:
after a stream handler's call, payload validation was off for the life of the process)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
SPECS = "/tmf-api/productCatalogManagement/v4/productSpecification"


@pytest.mark.parametrize("order", ["stream-first", "http-first"])
def test_another_body_is_422_in_a_fresh_process_whatever_ran_first(order):
    done = subprocess.run([sys.executable, "-m", "tests.security.idempotency_probe", order], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"][0] == 201
    assert out["again"] == out["first"]                      # a retry replays the first answer
    status, body = out["other"]
    assert status == 422, out
    assert body["code"] == "idempotencyKeyReused" and body["@type"] == "Error" and body["status"] == "422"
    assert out["stream"] == ["done", "done"] and out["stream_runs"] == 1   # stream dedup still works


@pytest.fixture
def web(token):
    return {"Authorization": f"Bearer {token('channel', channel='web', sub='portal')}",
            "Content-Type": "application/json"}


@pytest.fixture
def two_customers(client, token):
    from chalicelib.customer import demo as customer_demo

    customer_demo.load()
    return "cust-andrea", "cust-stacy"


def test_the_key_is_scoped_to_the_path_parameters(client, web, two_customers):
    """identityLink for B with the key used for A links B (it used to answer A's link)."""
    a, b = two_customers
    headers = {**web, "Idempotency-Key": "link-1"}
    first = client.http.post(f"{CUSTOMERS}/{a}/identityLink", headers=headers, body=json.dumps({"visitorId": "v-a"}))
    assert first.status_code == 201 and json.loads(first.body)["customerId"] == a
    second = client.http.post(f"{CUSTOMERS}/{b}/identityLink", headers=headers, body=json.dumps({"visitorId": "v-b"}))
    assert second.status_code == 201, second.body
    linked = json.loads(second.body)
    assert linked["customerId"] == b and linked["visitorId"] == "v-b"
    from chalicelib.customer import store

    assert store.load_link("v-b")["customerId"] == b
    # and the retry of A's request is still A's answer
    again = client.http.post(f"{CUSTOMERS}/{a}/identityLink", headers=headers, body=json.dumps({"visitorId": "v-a"}))
    assert json.loads(again.body) == json.loads(first.body)


def test_the_key_is_scoped_to_the_caller(client, token):
    """Two callers who happen to pick the same key make two resources."""
    ids = []
    for sub in ("maria", "mario"):
        headers = {"Authorization": f"Bearer {token('catalog-admin', sub=sub)}",
                   "Content-Type": "application/json", "Idempotency-Key": "same-key"}
        r = client.http.post(SPECS, headers=headers, body=json.dumps({"name": "Spec"}))
        assert r.status_code == 201
        ids.append(json.loads(r.body)["id"])
    assert ids[0] != ids[1]


def test_another_body_is_422_on_the_local_runtime(local_runtime):
    """The local runtime has run stream handlers (demo data) before this request."""
    headers = {"Authorization": f"Bearer {local_runtime.token('catalog-admin', sub='maria')}",
               "Idempotency-Key": "rt-key-1"}
    status, _, first = local_runtime.request("POST", SPECS, {"name": "Runtime spec"}, headers)
    assert status == 201
    status, _, again = local_runtime.request("POST", SPECS, {"name": "Runtime spec"}, headers)
    assert status == 201 and again["id"] == first["id"]
    status, _, other = local_runtime.request("POST", SPECS, {"name": "Another spec"}, headers)
    assert status == 422 and other["code"] == "idempotencyKeyReused", other


def test_a_retry_while_the_first_is_running_is_409_and_runs_nothing(aws):
    """The same key arriving while its first request is still running gets 409
    idempotencyInProgress (it is not run a second time); once the first is done, a retry gets
    the first one's answer."""
    import threading

    from chalicelib import idempotency
    from chalicelib.errors import ApiError

    running, release, runs, answers = threading.Event(), threading.Event(), [], []

    def first() -> dict:
        runs.append("first")
        running.set()
        assert release.wait(30)
        return {"id": "made-once"}

    worker = threading.Thread(target=lambda: answers.append(idempotency.once("POST /x", "k-1", first, {"a": 1})))
    worker.start()
    try:
        assert running.wait(30)
        with pytest.raises(ApiError) as exc:
            idempotency.once("POST /x", "k-1", lambda: runs.append("second"), {"a": 1})
        assert exc.value.status == 409 and exc.value.code == "idempotencyInProgress"
    finally:
        release.set()
        worker.join(30)
    assert answers == [{"id": "made-once"}]
    assert idempotency.once("POST /x", "k-1", lambda: runs.append("third"), {"a": 1}) == {"id": "made-once"}
    assert runs == ["first"]


def test_twenty_at_once_with_one_key_make_one_resource(local_runtime):
    """Twenty clients send one request with one Idempotency-Key at the same moment: one resource
    is made; every answer is that resource (201) or 409 idempotencyInProgress, never a 5xx nor
    a second resource; a retry afterwards is the first answer."""
    import threading
    import uuid

    name = f"Concurrent spec {uuid.uuid4()}"
    headers = {"Authorization": f"Bearer {local_runtime.token('catalog-admin', sub='maria')}",
               "Idempotency-Key": f"twenty-{uuid.uuid4()}"}
    barrier, answers = threading.Barrier(20), []

    def send() -> None:
        barrier.wait(30)
        status, _, body = local_runtime.request("POST", SPECS, {"name": name}, headers)
        answers.append((status, body))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 20
    made = {body["id"] for status, body in answers if status == 201}
    assert len(made) == 1, answers
    assert all(status == 201 or (status == 409 and body["code"] == "idempotencyInProgress")
               for status, body in answers), answers
    status, _, again = local_runtime.request("POST", SPECS, {"name": name}, headers)
    assert status == 201 and again["id"] in made
    status, _, listed = local_runtime.request("GET", f"{SPECS}?name={name.replace(' ', '%20')}", None, headers)
    assert status == 200 and [s["id"] for s in listed if s.get("name") == name] == list(made), listed
