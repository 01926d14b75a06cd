"""Run a TM Forum conformance kit, unmodified, with newman against the local runtime.

The only change is the one the issues allow: a copy of the collection gets collection-level
bearer auth. Returns newman's summary; `failures` lists every failed assertion.

The kits run in one node process per test process (tests/ctk/kits.js, newman's library, started on
the first kit and kept): the newman CLI, one process per kit, spent about 1 CPU-second starting
each time (ten kits: 15.6 CPU-s in newman, session 17).
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import pathlib
import select
import subprocess
import tempfile
from typing import Any

from tests.support.shared import SHARED

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The kits live in shared/ (tests/support/shared.py finds it; OMNISHOP_SHARED_DIR overrides).
CTK_ROOT = SHARED / "tmf" / "ctk"
KITS = ROOT / "tests" / "ctk" / "kits.js"
TIMEOUT_SECONDS = 600
_runner: subprocess.Popen | None = None
_runner_errors: Any = None   # the runner's stderr (a temporary file), for the error when it fails


@dataclasses.dataclass
class Result:
    requests: int
    assertions: int
    failures: list[str]
    output: str


def run(kit: str, collection: str, environment: str, variable: str, api_root: str, token: str,
        workdir: pathlib.Path, trailing_slash: bool = True) -> Result:
    """`trailing_slash`: whether the kit's paths follow its base variable directly (`{{api}}cart`,
    the v4 kits) or after a slash (`{{api}}/cart`, the R18 kits)."""
    kit_dir = CTK_ROOT / kit
    if not kit_dir.is_dir():
        raise FileNotFoundError(f"the TM Forum kit {kit} is not at {kit_dir}: put shared/ beside the "
                                "repository or set OMNISHOP_SHARED_DIR")
    spec = json.loads((kit_dir / collection).read_text())
    spec["auth"] = {"type": "bearer", "bearer": [{"key": "token", "value": token, "type": "string"}]}
    copy = workdir / f"{kit}.collection.json"
    copy.write_text(json.dumps(spec))
    reply = _run({"collection": str(copy), "environment": str(kit_dir / environment),
                  "envVar": {variable: f"{api_root.rstrip('/')}{'/' if trailing_slash else ''}"}})
    if "error" in reply:
        raise RuntimeError(f"newman did not run {kit}: {reply['error']}\n{reply['output']}")
    return Result(reply["requests"], reply["assertions"], reply["failures"], reply["output"][-20000:])


def _run(request: dict) -> dict:
    """One kit's run by tests/ctk/kits.js (started on first use, kept for the process)."""
    global _runner, _runner_errors
    if _runner is None or _runner.poll() is not None:
        _runner_errors = tempfile.TemporaryFile()
        _runner = subprocess.Popen(["node", str(KITS)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=_runner_errors, text=True)
        atexit.register(_runner.kill)
    assert _runner.stdin is not None and _runner.stdout is not None
    _runner.stdin.write(json.dumps(request) + "\n")
    _runner.stdin.flush()
    ready, _, _ = select.select([_runner.stdout], [], [], TIMEOUT_SECONDS)
    line = _runner.stdout.readline() if ready else ""
    if not line:
        if not ready:
            _runner.kill()
        code = _runner.wait(30)
        _runner_errors.seek(0)
        errors = _runner_errors.read().decode(errors="replace")[-5000:]
        what = "ended" if ready else f"gave no answer in {TIMEOUT_SECONDS} s"
        raise RuntimeError(f"tests/ctk/kits.js {what} (exit code {code}):\n{errors}")
    return json.loads(line)
