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
