"""The local runtime as a subprocess on free ports: for journey tests and benchmarks.

    with RuntimeProcess(env={"OMNISHOP_BASKET_IDLE_SECONDS": "2"}) as runtime:
        urllib.request.urlopen(runtime.url + "/health")

Its output goes to a file (`log_path`), shown by `output()` and in the error when it does not
become ready. It runs in its own process group, so `stop()` can check it left nothing behind.
`restart()` stops it and starts it again at once on the same ports, with the same state.

Its local state (tables, signing key: infra/local/state.py) goes to a fresh temporary directory
unless `state_dir` (or OMNISHOP_LOCAL_STATE_DIR in `env`) is given, so runtimes started by tests
never share state (nor read the developer's .local/). `close()` (and leaving the `with`) stops it
and removes that temporary directory; one not closed is removed when the object is collected or
at the latest when the interpreter exits. A directory given by the caller is never removed.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from typing import Any, Mapping

from infra.local.state import STATE_DIR_ENV
from infra.resources import ROOT

# The pid of the process that started the runtime: the runtime stops itself (saving its state, as on
# SIGTERM) once that process is gone, so a test worker killed mid-run leaves no runtime behind.
PARENT_PID_ENV = "OMNISHOP_LOCAL_PARENT_PID"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RuntimeProcess:
    def __init__(self, env: Mapping[str, str] | None = None, python: str = sys.executable, *,
                 port: int | None = None, moto_port: int | None = None, state_dir: str | None = None):
        self.port, self.moto_port = port or free_port(), moto_port or free_port()
        self.url, self.moto_url = f"http://127.0.0.1:{self.port}", f"http://127.0.0.1:{self.moto_port}"
        env = dict(env or {})
        given = (env.get(STATE_DIR_ENV) or "").strip() or state_dir
        self._temporary: str | None = None   # the directory made here for the state, removed by close()
        if not given:
            self._temporary = tempfile.mkdtemp(prefix="omnishop-local-")
            given = os.path.join(self._temporary, "state")
        self._remove_temporary = (weakref.finalize(self, shutil.rmtree, self._temporary, ignore_errors=True)
                                  if self._temporary else None)
        # where the runtime (cwd ROOT) keeps its state; None when it keeps none (`off`)
        self.state_dir: str | None = None if given.lower() == "off" else os.path.normpath(os.path.join(ROOT, given))
        self.env = {**os.environ, **env, STATE_DIR_ENV: given,
                    "OMNISHOP_PORT": str(self.port), "MOTO_PORT": str(self.moto_port), "PYTHONUNBUFFERED": "1",
                    PARENT_PID_ENV: str(os.getpid())}
        self.python = python
        self.log_path = ""
        self._remove_log: weakref.finalize | None = None   # the log goes with this object (or at exit)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> RuntimeProcess:
        """Start it and wait until GET /health answers 200."""
        if self._remove_log is not None:   # a restart: the last start's log is not read any more
            self._remove_log()
        with tempfile.NamedTemporaryFile("wb", prefix="omnishop-runtime-", suffix=".log", delete=False) as log:
            self.log_path = log.name
            self._remove_log = weakref.finalize(self, _remove_file, log.name)
            self.process = subprocess.Popen([self.python, "-m", "infra.local"], cwd=ROOT, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local runtime exited with {self.process.returncode}:\n{self.output()}")
            if self.health() == 200:
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the local runtime was not ready within {timeout} s:\n{self.output()}")

    def health(self) -> int | None:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def request(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None,
                timeout: float = 300.0) -> tuple[int, dict[str, str], Any]:
        """One JSON request to the API: (status, headers, decoded body or None). The timeout only
        ends a hung request: a loaded 2-core CI machine answered a GET after more than 30 s."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, answer, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            status, answer, raw = exc.code, dict(exc.headers), exc.read()
        return status, answer, json.loads(raw) if raw.strip() else None

    def token(self, role: str, **claims: Any) -> str:
        """A bearer token from POST /local/token."""
        status, _, body = self.request("POST", "/local/token", {"role": role, **claims})
        if status != 200:
            raise RuntimeError(f"POST /local/token answered {status}: {body}")
        return body["access_token"]

    def outbox(self, to: str | None = None, kind: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """What was sent (GET /local/outbox): SMS, emails, social posts, newest first."""
        query = urllib.parse.urlencode({k: v for k, v in (("to", to), ("kind", kind), ("limit", limit)) if v})
        status, _, body = self.request("GET", f"/local/outbox?{query}")
        if status != 200:
            raise RuntimeError(f"GET /local/outbox answered {status}: {body}")
        return body

    def moto_data(self, attempts: int = 5) -> dict[str, Any]:
        """moto's record of what was sent (`sns` SMS, `ses` messages, ...). moto builds it by walking
        every backend while the runtime's threads change them, and answers 500 when one changed
        under the walk ("dictionary changed size during iteration"): asked again, up to `attempts`."""
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(f"{self.moto_url}/moto-api/data.json", timeout=30) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code != 500 or attempt == attempts:
                    raise
            time.sleep(0.1 * attempt)
        raise AssertionError("unreachable")

    def output(self) -> str:
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()
        except OSError:
            return ""

    def restart(self, timeout: float = 120.0) -> RuntimeProcess:
        """Stop it (SIGTERM, checked) and start it again at once: same ports, same state."""
        self.stop()
        return self.start(timeout)

    def stop(self, timeout: float = 30.0, signum: int = signal.SIGTERM) -> int:
        """Send `signum` (SIGTERM; SIGINT is Ctrl-C), wait, and check nothing of its process group
        is left. Returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise RuntimeError(f"the local runtime did not stop within {timeout} s of "
                               f"{signal.Signals(signum).name}:\n{self.output()}") from None
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return code
        os.killpg(self.process.pid, signal.SIGKILL)
        raise RuntimeError("the local runtime left processes behind in its process group")

    def close(self) -> int:
        """stop() it, and remove the state directory when it was made here (a temporary one):
        after this it cannot be started again with its state. Returns stop()'s exit code."""
        try:
            return self.stop()
        finally:
            if self._remove_temporary is not None:
                self._remove_temporary()

    def __enter__(self) -> RuntimeProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _remove_file(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
