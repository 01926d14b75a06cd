"""Import time of every Lambda entry point beside its floor, sampled interleaved in fresh processes.

A Lambda cold start pays the import of its handler's module before the first event. The floor is
what any Python Lambda that talks to AWS pays anyway: `import boto3` (and, for the second column,
`import boto3` + building one DynamoDB client, which every Omnishop handler does on its first
event). Samples are interleaved (floor, module, floor, module, ...) so that a machine that gets
busier or quieter during the run moves both sides alike; each figure is a median.

Each entry point is measured twice: as the tree is (Omnishop's modules without .pyc when
PYTHONDONTWRITEBYTECODE is set, as a bundle without bytecode), and from a copy of app.py and
infra/bundling.py PACKAGES compiled as the bundle is (`bundling.compile_command`: unchecked-hash
.pyc) by this interpreter, standing in for the runtime's (the bytecode columns).

`python -m bench imports` prints the table; `python -m bench.imports [ROUNDS]` too.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Iterator

from bench.harness import LOCAL_ENV, table
from infra import resources
from infra.resources import ROOT

GOAL = 1.5   # issue 16: every entry point within 1.5x of its floor
_CLIENT = "import boto3; boto3.session.Session().client('dynamodb', region_name='eu-west-1')"


def entry_points() -> list[str]:
    """app.py and the module of every function infra/resources.py deploys."""
    return ["app"] + sorted({f.handler.rsplit(".", 1)[0] for f in resources.FUNCTIONS})


def _seconds(statement: str, cwd: str | None = None) -> tuple[float, float]:
    """Wall time and CPU time of `statement` in a fresh interpreter, as a Lambda would run it
    (not local mode). The CPU time is the process's own: on a machine other work keeps busy it
    moves far less than the wall time (which counts the waits for a core)."""
    code = (f"import time; t, c = time.perf_counter(), time.process_time()\n{statement}\n"
            "print(time.perf_counter() - t, time.process_time() - c)")
    env = {**os.environ, **LOCAL_ENV, "OMNISHOP_LOCAL": "0"}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=cwd or os.getcwd())
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


@contextlib.contextmanager
def compiled_tree() -> Iterator[str]:
    """A copy of what a bundle holds of Omnishop (app.py and PACKAGES), with bytecode compiled
    as the bundle's is."""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from infra import bundling   # loads the CDK (its node process): only for this

    with tempfile.TemporaryDirectory(prefix="omnishop-pyc-") as tmp:
        shutil.copy2(ROOT / "app.py", tmp)
        for package in bundling.PACKAGES:
            shutil.copytree(ROOT / package, os.path.join(tmp, package), ignore=bundling.SKIP)
        subprocess.run(bundling.compile_command(tmp), check=True)
        yield tmp


def sample(modules: list[str], rounds: int = 5, compiled: str | None = None) -> dict[str, list[tuple[float, float]]]:
    """Per statement, `rounds` samples (wall, CPU), taken interleaved: boto3, module, module from
    `compiled` (.pyc), boto3 + client, module + client, module from `compiled` + client, then the
    next module, and the whole sequence again each round."""
    statements = {"boto3": "import boto3", "boto3+client": _CLIENT}
    for module in modules:
        statements[module] = f"import {module}"
        statements[f"{module}+client"] = f"import {module}\n{_CLIENT}"
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in statements}
    samples.update({f"{name}.pyc": [] for name in statements if name not in ("boto3", "boto3+client")})
    for _ in range(rounds):
        for module in modules:
            for name in ("boto3", module, f"{module}.pyc", "boto3+client", f"{module}+client",
                         f"{module}+client.pyc"):
                if name.endswith(".pyc") and compiled is None:
                    continue
                statement = statements[name.removesuffix(".pyc")]
                samples[name].append(_seconds(statement, compiled if name.endswith(".pyc") else None))
    return samples


def run(rounds: int = 5) -> None:
    modules = entry_points()
    load_before = os.getloadavg()
    with compiled_tree() as compiled:
        samples = sample(modules, rounds, compiled)
    load_after = os.getloadavg()
    median = {name: statistics.median(wall for wall, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(used for _, used in values) for name, values in samples.items()}
    floor, floor_client = median["boto3"], median["boto3+client"]
    rows = [("import boto3 (floor)", f"{floor * 1000:.0f}", "1.00x",
             f"{floor_client * 1000:.0f}", "1.00x", "1.00x", "1.00x", "floor", "1.00x", "1.00x", "1.00x", "1.00x",
             "floor")]
    for module in modules:
        alone, with_client = median[module] / floor, median[f"{module}+client"] / floor_client
        pyc, pyc_client = median[f"{module}.pyc"] / floor, median[f"{module}+client.pyc"] / floor_client
        rows.append((f"import {module}", f"{median[module] * 1000:.0f}", f"{alone:.2f}x",
                     f"{median[f'{module}+client'] * 1000:.0f}", f"{with_client:.2f}x",
                     f"{cpu[module] / cpu['boto3']:.2f}x", f"{cpu[f'{module}+client'] / cpu['boto3+client']:.2f}x",
                     _verdict(alone, with_client), f"{pyc:.2f}x", f"{pyc_client:.2f}x",
                     f"{cpu[f'{module}.pyc'] / cpu['boto3']:.2f}x",
                     f"{cpu[f'{module}+client.pyc'] / cpu['boto3+client']:.2f}x", _verdict(pyc, pyc_client)))
    table(f"Import time of each Lambda entry point: medians of {rounds} fresh interpreters, sampled "
          f"interleaved with the floor. Floor: `import boto3` (any Python Lambda on AWS pays it); "
          f"second floor: `import boto3` + one DynamoDB client (every handler builds one on its "
          f"first event). Goal <= {GOAL}x of both, in wall time; the CPU columns are the same ratios in "
          f"CPU time, which a busy machine moves less (CPU ms of the floors: {cpu['boto3'] * 1000:.0f}, "
          f"{cpu['boto3+client'] * 1000:.0f}). The .pyc columns: the same ratios (wall, then CPU) importing "
          f"from a copy compiled as the bundle is (unchecked-hash .pyc, by Python "
          f"{sys.version_info.major}.{sys.version_info.minor} standing in for the runtime's)",
          ("entry point", "ms", "vs boto3", "ms +client", "vs boto3+client", "CPU vs boto3", "CPU vs +client",
           "goal", ".pyc vs boto3", ".pyc vs +client", ".pyc CPU vs boto3", ".pyc CPU vs +client", "goal (.pyc)"),
          rows)
    print(f"Bytecode: {_bytecode()}")
    print(f"Load average (1, 5, 15 min) before: {_load(load_before)}; after: {_load(load_after)} "
          f"on {os.cpu_count()} CPUs (a busy machine inflates both sides, not always alike)")


def _verdict(alone: float, with_client: float) -> str:
    return "ok" if max(alone, with_client) <= GOAL else f"over {GOAL}x"


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in load)


def _bytecode() -> str:
    """Whether Omnishop's own modules were compiled from source in every sample of the first
    columns (the libraries come with their .pyc here, in either case). A bundle built where
    nobody can compile for the runtime (infra/bundling.py bytecode_by) ships no .pyc, its
    libraries' neither: a Lambda cold start from it compiles more than these samples do."""
    cached = (ROOT / "chalicelib" / "__pycache__").is_dir() or bool(os.environ.get("PYTHONPYCACHEPREFIX"))
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not cached:
        return ("first columns: Omnishop's modules compiled from source in every sample "
                "(PYTHONDONTWRITEBYTECODE, no .pyc); .pyc columns: loaded from the compiled copy")
    return ("first columns: Omnishop's modules loaded from .pyc after the first sample (compile time not "
            "counted); .pyc columns: loaded from the compiled copy")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
