"""`python -m infra.local`: ready on /health, serves the app, stops cleanly on SIGTERM."""
from __future__ import annotations

import gc
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

from infra.local.process import RuntimeProcess
from infra.local.runtime import Runtime
from infra.resources import ROOT

pytestmark = pytest.mark.waits   # mostly waits (on runtimes starting and stopping): tests/support/scheduling.py


def test_runtime_serves_the_app_and_exits_cleanly_on_sigterm():
    runtime = RuntimeProcess()
    stale = _connections_to(runtime.moto_port)   # left in TIME_WAIT by whatever had that port before
    runtime.start()
    try:
        assert runtime.request("GET", "/health")[0] == 200
        token = runtime.token("catalog-admin")
        status, headers, body = runtime.request(
            "GET", "/tmf-api/productCatalogManagement/v4/productOffering?limit=5",
            headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and isinstance(body, list)
        assert runtime.request("GET", "/tmf-api/productCatalogManagement/v4/productOffering")[0] == 401
        # Provisioning, the demo data, its stream records and the request above were all answered
        # in-process: nothing has connected to the moto server yet (a closed connection stays in
        # TIME_WAIT for a minute). Its own door is for everything outside the process:
        assert _connections_to(runtime.moto_port) - stale == set()
        assert {"sns", "ses", "sqs"} <= set(runtime.moto_data())  # GET /moto-api/data.json works
        assert _connections_to(runtime.moto_port) - stale
    finally:
        code = runtime.stop()
    assert code == 0, runtime.output()[-3000:]
    assert "stopped moto server" in runtime.output()
    log = pathlib.Path(runtime.log_path)   # its log: there while the object is, gone with it
    assert log.is_file()
    del runtime
    gc.collect()
    assert not log.exists()


def _connections_to(port: int) -> set[tuple[str, str]]:
    """The TCP connections on this host to or from `port` (local and remote address:port, in hex),
    open or lately closed: any state but LISTEN, as whichever side closed first keeps its end in
    TIME_WAIT for a minute (/proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, remote, state = row.split()[1:4]
                if state != "0A" and port in {int(end.rsplit(":", 1)[1], 16) for end in (local, remote)}:
                    found.add((local, remote))
    return found


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


STARTER = """
import sys, time
from infra.local.process import RuntimeProcess
runtime = RuntimeProcess().start()
print(runtime.process.pid, runtime.log_path, runtime._temporary, flush=True)
time.sleep(600)
"""


def test_a_runtime_whose_starter_is_killed_stops_itself():
    """A test worker killed mid-run (kill -9, CI's timeout) must not leave its runtimes serving and
    polling: the runtime sees the process that started it gone and stops as on SIGTERM."""
    starter = subprocess.Popen([sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid, log_path, temporary = starter.stdout.readline().split()
    finally:
        starter.kill()
        starter.wait()
    try:
        deadline = time.monotonic() + 120   # a bound for a hung runtime, not the expected time
        while _alive(int(pid)):
            assert time.monotonic() < deadline, f"runtime {pid} still runs 120 s after its starter died"
            time.sleep(0.2)
        log = pathlib.Path(log_path).read_text(errors="replace")
        assert "which started this runtime, is gone: stopping" in log, log[-2000:]
        assert "stopped moto server" in log, log[-2000:]
    finally:
        if _alive(int(pid)):
            os.kill(int(pid), signal.SIGKILL)
        shutil.rmtree(temporary, ignore_errors=True)
        pathlib.Path(log_path).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for init to reap it."""
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
