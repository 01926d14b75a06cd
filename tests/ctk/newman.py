"""Run a TM Forum conformance kit, unmodified, with newman against the local runtime.

The only change is the one the issues allow: a copy of the collection gets collection-level
bearer auth. Returns newman's summary; `failures` lists every failed assertion.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess

from tests.support.shared import SHARED

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The kits live in shared/ (tests/support/shared.py finds it; OMNISHOP_SHARED_DIR overrides).
CTK_ROOT = SHARED / "tmf" / "ctk"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"


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
    report = workdir / f"{kit}.report.json"
    proc = subprocess.run(
        [str(NEWMAN), "run", str(copy), "-e", str(kit_dir / environment),
         "--env-var", f"{variable}={api_root.rstrip('/')}{'/' if trailing_slash else ''}", "--reporters", "cli,json",
         "--reporter-json-export", str(report), "--timeout-request", "30000", "--color", "off"],
        capture_output=True, text=True, timeout=600)
    if not report.exists():
        raise RuntimeError(f"newman did not run:\n{proc.stdout}\n{proc.stderr}")
    summary = json.loads(report.read_text())["run"]
    failures = [f"{f['source'].get('name')}: {f['error'].get('test') or ''} {f['error'].get('message')}"
                for f in summary["failures"]]
    stats = summary["stats"]
    return Result(stats["requests"]["total"], stats["assertions"]["total"], failures, proc.stdout[-20000:])
