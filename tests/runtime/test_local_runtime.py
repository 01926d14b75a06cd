"""`python -m infra.local`: ready on /health, serves the app, stops cleanly on SIGTERM."""
from __future__ import annotations

from infra.local.process import RuntimeProcess
from infra.local.runtime import Runtime


def test_runtime_serves_the_app_and_exits_cleanly_on_sigterm():
    runtime = RuntimeProcess().start()
    try:
        assert runtime.request("GET", "/health")[0] == 200
        token = runtime.token("catalog-admin")
        status, headers, body = runtime.request(
            "GET", "/tmf-api/productCatalogManagement/v4/productOffering?limit=5",
            headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and isinstance(body, list)
        assert runtime.request("GET", "/tmf-api/productCatalogManagement/v4/productOffering")[0] == 401
        assert {"sns", "ses", "sqs"} <= set(runtime.moto_data())  # GET /moto-api/data.json works
    finally:
        code = runtime.stop()
    assert code == 0, runtime.output()[-3000:]
    assert "stopped moto server" in runtime.output()


def test_local_runtime_fixture(local_runtime):
    assert local_runtime.url.startswith("http://127.0.0.1:") and local_runtime.moto_url.startswith("http://127.0.0.1:")
    assert local_runtime.request("GET", "/health")[2] == {"status": "ok"}
    assert local_runtime.token("agent").count(".") == 2


def test_health_waits_for_every_step():
    runtime = Runtime(port=1, moto_port=2)
    assert runtime.waiting_for() == "local runtime: provisioning, pump, scheduler, demo data"
    runtime.done.update(Runtime.STEPS)
    assert runtime.waiting_for() is None


def test_unknown_paths_and_methods_get_the_deployed_tmf_404(local_runtime):
    """As API Gateway with infra/resources.py GATEWAY_RESPONSES answers them (infra/stack.py)."""
    auth = {"Authorization": f"Bearer {local_runtime.token('agent')}"}
    for method, path in (("GET", "/tmf-api/nowhere/v4/thing"), ("GET", "/no/such/path"),
                         ("PUT", "/tmf-api/productOrderingManagement/v4/productOrder"),
                         ("DELETE", "/tmf-api/customerManagement/v4/customer/c-1")):
        status, headers, body = local_runtime.request(method, path, headers=auth)
        assert status == 404, (method, path, body)
        assert body["code"] == "notFound" and body["@type"] == "Error" and body["status"] == "404", body
        assert headers["Content-Type"] == "application/json"
