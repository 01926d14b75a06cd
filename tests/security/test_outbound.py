"""Server-side request forgery, through the real paths: hub callbacks at registration (400 with a
TMF body naming why, nothing stored) and at delivery (stream -> hub queue -> delivery handler:
refused, not retried, nothing sent), importJob sources (a failed job whose errorLog names the
cause, never what came back, never a traceback), exportJob targets (only a .json file directly in
the export directory) and stack endpoints. Loopback servers only; public names resolve through a
patched resolver. The allow-listed listener still gets its events."""
import json
import time

import pytest

from chalicelib import outbound
from chalicelib.catalog import jobs
from chalicelib.hub.models import Subscription
from chalicelib.stacks import adapters
from infra.local.listener import Listener
from tests.support.jobs import post_job, wait_for_job
from tests.security.servers import SECRET, Server, fake_dns

pytestmark = pytest.mark.waits   # mostly waits (on callbacks, redirects and retries): tests/support/scheduling.py

BASE = "/tmf-api/productCatalogManagement/v4"
API_NAME = "productCatalogManagement"


def spellings(port):
    """One loopback listener on `port`, in every spelling an attacker might try."""
    return [f"http://127.0.0.1:{port}/listener", f"http://2130706433:{port}/listener",
            f"http://0x7f000001:{port}/listener", f"http://0177.0.0.1:{port}/listener",
            f"http://127.1:{port}/listener", f"http://[::ffff:127.0.0.1]:{port}/listener",
            f"http://[::1]:{port}/listener", f"http://localhost.:{port}/listener", f"HTTP://127.0.0.1:{port}/listener",
            f"http://good.example@127.0.0.1:{port}/listener", f"http://rebound.example:{port}/listener",
            "http://169.254.169.254/latest/meta-data/", "http://[fe80::1%25lo]/", "http://10.0.0.8/",
            "http://100.64.0.1/", "http://[fd00::1]/", "http://224.0.0.1/", "http://0.0.0.0/", "gopher://127.0.0.1/"]


@pytest.fixture
def closed_listener():
    """A listener on loopback that is NOT on the allow-list (like moto or the API itself)."""
    with Listener() as listener:
        port = int(listener.url.rsplit(":", 1)[1].split("/")[0])
        outbound.disallow_local("127.0.0.1", port)
        listener.port = port
        yield listener


def subscriptions():
    return list(Subscription.query(API_NAME))


def create_offering(client, admin):
    r = client.http.post(f"{BASE}/productOffering", headers=admin, body=json.dumps({"name": "Fibre"}))
    assert r.status_code == 201, r.body


# --- hub callbacks ------------------------------------------------------------------------------
def test_every_spelling_is_refused_at_registration_with_a_tmf_body(client, admin, closed_listener, monkeypatch):
    fake_dns(monkeypatch, {"rebound.example": ["127.0.0.1"], "localhost": ["127.0.0.1"]})
    for callback in spellings(closed_listener.port):
        r = client.http.post(f"{BASE}/hub", headers=admin, body=json.dumps({"callback": callback}))
        error = json.loads(r.body)
        assert r.status_code == 400, (callback, r.body)
        assert error["@type"] == "Error" and error["status"] == "400" and error["message"].startswith("callback refused: ")
    assert subscriptions() == []


def test_registration_names_the_cause(client, admin, monkeypatch):
    fake_dns(monkeypatch, {"partner.example": ["10.1.2.3"]})
    for callback, cause in (("http://partner.example/hook", "resolves to a private address"),
                            ("http://169.254.169.254/", "resolves to a link-local address"),
                            ("http://u:p@partner.example/", "credentials"),
                            ("http://2130706433/", "dotted quad"), ("ftp://partner.example/", "only http and https"),
                            ("http://nowhere.example/", "does not resolve")):
        r = client.http.post(f"{BASE}/hub", headers=admin, body=json.dumps({"callback": callback}))
        assert r.status_code == 400 and cause in json.loads(r.body)["message"], (callback, r.body)


def test_every_spelling_is_refused_at_delivery(client, admin, pump, closed_listener, monkeypatch):
    """Subscriptions stored before the guard existed (or whose name resolved publicly when they
    were registered) get nothing; the refusal is final (no retries, no dead letters)."""
    answers = {"rebound.example": ["93.184.216.34"], "localhost": ["127.0.0.1"]}
    fake_dns(monkeypatch, answers)
    r = client.http.post(f"{BASE}/hub", headers=admin,
                         body=json.dumps({"callback": f"http://rebound.example:{closed_listener.port}/listener"}))
    assert r.status_code == 201, r.body
    answers["rebound.example"] = ["127.0.0.1"]  # DNS rebinding: the name now points inward
    for n, callback in enumerate(spellings(closed_listener.port)):
        Subscription(API_NAME, f"old-{n}", callback=callback, owner="maria", created="2026-01-01T00:00:00Z").save()
    with Listener() as allowed:
        assert client.http.post(f"{BASE}/hub", headers=admin, body=json.dumps({"callback": allowed.url})).status_code == 201
        create_offering(client, admin)
        pump.drain()
        assert allowed.event_types() == ["ProductOfferingCreateEvent"]  # delivery did run
    assert closed_listener.attempts == 0
    assert pump.errors == []


def test_a_redirect_from_a_callback_is_not_followed(client, admin, pump, closed_listener):
    with Server() as hook:
        outbound.allow_local("127.0.0.1", hook.port)
        hook.routes["/hook"] = (307, {"Location": f"{closed_listener.url}"}, b"")
        hook.routes["/meta"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
        for path in ("/hook", "/meta"):
            r = client.http.post(f"{BASE}/hub", headers=admin, body=json.dumps({"callback": f"{hook.url}{path}"}))
            assert r.status_code == 201
        create_offering(client, admin)
        pump.drain()
        assert sorted(p for _, p, _ in hook.seen) == ["/hook", "/meta"]  # once each: refused, not retried
    assert closed_listener.attempts == 0 and pump.errors == []


# --- importJob ----------------------------------------------------------------------------------
def run_job(client, admin, pump, kind, body):
    return wait_for_job(client, admin, pump, kind, post_job(client, admin, kind, body)["id"])


def assert_clean(error_log):
    for leak in (SECRET, "Traceback", "stackTrace", 'File "', "errorType"):
        assert leak not in error_log, error_log


def test_import_from_moto_is_refused_even_if_its_port_is_listed(client, admin, pump, monkeypatch):
    with Server() as moto:
        monkeypatch.setenv("MOTO_PORT", str(moto.port))
        monkeypatch.setenv("OMNISHOP_OUTBOUND_ALLOW", f"127.0.0.1:{moto.port}")
        job = run_job(client, admin, pump, "importJob", {"url": f"{moto.url}/moto-api/data.json"})
        assert moto.seen == []
    assert job["status"] == "Failed"
    assert job["errorLog"] == "the URL was refused: the URL resolves to a loopback address"


@pytest.mark.parametrize("status, cause", [(404, "the URL answered HTTP 404"), (403, "the URL answered HTTP 403")])
def test_an_http_error_is_named_and_its_body_is_not_echoed(client, admin, pump, status, cause):
    with Server({"/export.json": (status, {}, f"<html>{SECRET}</html>".encode())}) as partner:
        outbound.allow_local("127.0.0.1", partner.port)
        job = run_job(client, admin, pump, "importJob", {"url": f"{partner.url}/export.json"})
    assert job["status"] == "Failed" and job["errorLog"] == cause
    assert_clean(job["errorLog"])


def test_an_import_redirected_inward_is_refused(client, admin, pump, closed_listener):
    with Server() as inner, Server() as partner:
        outbound.allow_local("127.0.0.1", partner.port)
        partner.routes["/to-inner"] = (302, {"Location": f"{inner.url}/moto-api/data.json"}, b"")
        partner.routes["/to-metadata"] = (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
        for path, cause in (("/to-inner", "loopback"), ("/to-metadata", "link-local")):
            job = run_job(client, admin, pump, "importJob", {"url": f"{partner.url}{path}"})
            assert job["status"] == "Failed", job
            assert job["errorLog"].startswith("the URL was refused: a redirect was refused: ") and cause in job["errorLog"]
            assert_clean(job["errorLog"])
        assert inner.seen == []


def test_a_source_that_is_not_json_is_named_without_its_content(client, admin, pump):
    with Server({"/export.json": (200, {}, f"{{'{SECRET}': [".encode()),
                 "/deep.json": (200, {}, b"[" * 100_000)}) as partner:
        outbound.allow_local("127.0.0.1", partner.port)
        broken = run_job(client, admin, pump, "importJob", {"url": f"{partner.url}/export.json"})
        deep = run_job(client, admin, pump, "importJob", {"url": f"{partner.url}/deep.json"})
    assert broken["status"] == "Failed" and broken["errorLog"].startswith("the export is not JSON"), broken
    assert deep["status"] == "Failed" and deep["errorLog"] == "the export is nested too deeply", deep
    assert_clean(broken["errorLog"] + deep["errorLog"])


@pytest.mark.expects_failed_workflow
def test_an_unreachable_source_is_retried_then_named_without_a_traceback(client, admin, pump, monkeypatch):
    fake_dns(monkeypatch, {})
    job = run_job(client, admin, pump, "importJob", {"url": "https://partner.example/export.json"})
    assert job["status"] == "Failed"
    assert job["errorLog"] == ("the job could not be completed: the URL could not be read: "
                               "the URL's host name does not resolve")


def test_a_public_partner_export_imports(client, admin, pump, monkeypatch):
    """The guard passes a public name (here resolved to an allow-listed loopback server)."""
    with Server({"/export.json": (200, {}, jobs.DATA_DIR.joinpath("iot-partner-x-export.json").read_bytes())}) as partner:
        outbound.allow_local("127.0.0.1", partner.port)
        fake_dns(monkeypatch, {"partner.example": ["127.0.0.1"]})
        job = run_job(client, admin, pump, "importJob", {"url": f"http://partner.example:{partner.port}/export.json"})
        assert partner.seen == [("GET", "/export.json", f"partner.example:{partner.port}")]
    assert job["status"] == "Succeeded", job


def test_a_failure_cause_is_shown_only_for_our_own_transient_errors():
    trace = {"errorMessage": f"boom {SECRET}", "errorType": "KeyError", "stackTrace": ['File "x.py", line 1']}
    own = {"errorMessage": "the URL answered HTTP 503", "errorType": "TransientError", "stackTrace": ["..."]}
    assert SECRET not in jobs.failure_cause({"Error": "KeyError", "Cause": json.dumps(trace)})
    assert jobs.failure_cause({"Error": "TransientError", "Cause": json.dumps(own)}) == "the URL answered HTTP 503"
    assert "internal error" in jobs.failure_cause({"Error": "States.Timeout", "Cause": "not json"})
    assert "internal error" in jobs.failure_cause("a string")


# --- exportJob ----------------------------------------------------------------------------------
def test_export_writes_only_a_json_file_directly_in_the_export_dir(client, admin, pump, tmp_path, monkeypatch):
    exports, outside = tmp_path / "exports", tmp_path / "outside"
    exports.mkdir()
    outside.mkdir()
    (exports / "link.json").symlink_to(outside / "target.json")
    (exports / "linkdir").symlink_to(jobs.DATA_DIR, target_is_directory=True)
    monkeypatch.setenv("OMNISHOP_EXPORT_DIR", str(exports))
    package_before = sorted(p.name for p in jobs.DATA_DIR.iterdir())
    tricks = [
        (jobs.DATA_DIR / "exported.json").as_uri(),           # the reported bug: into the package
        f"file://{exports}/../outside/x.json", f"file://{exports}/%2e%2e/outside/x.json",
        f"{exports}/../outside/x.json", f"file://{exports}/sub/x.json", f"file://{exports}/link.json",
        f"file://{exports}/linkdir/x.json", f"file://{exports}/x.txt", f"file://{exports}/x.json%00.txt",
        f"file://{exports}/", f"file://evil.example{exports}/x.json", "http://127.0.0.1:9/x.json", "/etc/cron.d/x.json",
    ]
    for url in tricks:
        job = run_job(client, admin, pump, "exportJob", {"url": url})
        assert job["status"] == "Failed", (url, job)
        assert any(cause in job["errorLog"] for cause in ("export directory", "not valid", "local path")), (url, job)
    assert sorted(p.name for p in jobs.DATA_DIR.iterdir()) == package_before
    assert list(outside.iterdir()) == []
    good = run_job(client, admin, pump, "exportJob", {"url": f"file://{exports}/mine.json"})
    assert good["status"] == "Succeeded" and (exports / "mine.json").is_file()
    assert sorted(p.name for p in exports.iterdir()) == ["link.json", "linkdir", "mine.json"]  # no .tmp left


def test_an_export_dir_inside_the_package_is_refused(client, admin, pump, monkeypatch):
    monkeypatch.setenv("OMNISHOP_EXPORT_DIR", str(jobs.DATA_DIR))
    before = sorted(p.name for p in jobs.DATA_DIR.iterdir())
    job = run_job(client, admin, pump, "exportJob", {})
    assert job["status"] == "Failed" and "inside the application package" in job["errorLog"]
    assert sorted(p.name for p in jobs.DATA_DIR.iterdir()) == before


# --- stack endpoints ----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://169.254.169.254/latest", "http://127.0.0.1:9/x", "http://2130706433/x"])
def test_a_stack_endpoint_goes_through_the_guard(url, monkeypatch):
    monkeypatch.setenv("OMNISHOP_LOCAL", "1")
    with pytest.raises(adapters.StackError, match="could not be called: (the URL|an IP address)"):
        adapters._post(url, {"id": "o-1"}, "o-1")


# --- the local runtime (make run) -----------------------------------------------------------------
def test_the_local_runtime_opens_only_the_demo_listener_and_its_stacks(local_runtime):
    """`python -m infra.local`: /local/token and moto's admin API are unreachable through the
    hub and importJob; the demo listener's port (9999) is open."""
    admin = {"Authorization": f"Bearer {local_runtime.token('catalog-admin')}"}
    for callback in (f"{local_runtime.url}/local/token", f"{local_runtime.moto_url}/moto-api/reset",
                     f"http://localhost:{local_runtime.moto_url.rsplit(':', 1)[1]}/moto-api/reset",
                     "http://169.254.169.254/latest/meta-data/"):
        status, _, error = local_runtime.request("POST", f"{BASE}/hub", {"callback": callback}, admin)
        assert status == 400 and ("loopback" in error["message"] or "link-local" in error["message"]), (callback, error)
    status, _, sub = local_runtime.request("POST", f"{BASE}/hub", {"callback": "http://127.0.0.1:9999/listener"}, admin)
    assert status == 201, sub
    assert local_runtime.request("DELETE", f"{BASE}/hub/{sub['id']}", None, admin)[0] == 204
    status, _, job = local_runtime.request("POST", f"{BASE}/importJob",
                                           {"url": f"{local_runtime.moto_url}/moto-api/data.json"}, admin)
    assert status == 201, job
    deadline = time.monotonic() + 60
    while job["status"] not in ("Succeeded", "Failed") and time.monotonic() < deadline:
        time.sleep(0.25)
        job = local_runtime.request("GET", f"{BASE}/importJob/{job['id']}", None, admin)[2]
    assert job["status"] == "Failed", job
    assert job["errorLog"] == "the URL was refused: the URL resolves to a loopback address"
