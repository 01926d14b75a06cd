"""Import time of every Lambda entry point beside its floor, sampled interleaved in fresh processes.

A Lambda cold start pays the import of its handler's module before the first event. The floor is
what any Python Lambda that talks to AWS pays anyway: `import boto3` (and, for the second column,
`import boto3` + building one DynamoDB client, which every Omnishop handler does on its first
event). Samples are interleaved (floor, module, floor, module, ...) so that a machine that gets
busier or quieter during the run moves both sides alike; each figure is a median.

`python -m bench imports` prints the table; `python -m bench.imports [ROUNDS]` too.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys

from bench.harness import LOCAL_ENV, table
from infra import resources
from infra.resources import ROOT

GOAL = 1.5   # issue 16: every entry point within 1.5x of its floor
_CLIENT = "import boto3; boto3.session.Session().client('dynamodb', region_name='eu-west-1')"


def entry_points() -> list[str]:
    """app.py and the module of every function infra/resources.py deploys."""
    return ["app"] + sorted({f.handler.rsplit(".", 1)[0] for f in resources.FUNCTIONS})


def _seconds(statement: str) -> tuple[float, float]:
    """Wall time and CPU time of `statement` in a fresh interpreter, as a Lambda would run it
    (not local mode). The CPU time is the process's own: on a machine other work keeps busy it
    moves far less than the wall time (which counts the waits for a core)."""
    code = (f"import time; t, c = time.perf_counter(), time.process_time()\n{statement}\n"
            "print(time.perf_counter() - t, time.process_time() - c)")
    env = {**os.environ, **LOCAL_ENV, "OMNISHOP_LOCAL": "0"}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=os.getcwd())
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def sample(modules: list[str], rounds: int = 5) -> dict[str, list[tuple[float, float]]]:
    """Per statement, `rounds` samples (wall, CPU), taken interleaved: boto3, module, boto3 +
    client, module + client, then the next module, and the whole sequence again each round."""
    statements = {"boto3": "import boto3", "boto3+client": _CLIENT}
    for module in modules:
        statements[module] = f"import {module}"
        statements[f"{module}+client"] = f"import {module}\n{_CLIENT}"
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in statements}
    for _ in range(rounds):
        for module in modules:
            for name in ("boto3", module, "boto3+client", f"{module}+client"):
                samples[name].append(_seconds(statements[name]))
    return samples


def run(rounds: int = 5) -> None:
    modules = entry_points()
    load_before = os.getloadavg()
    samples = sample(modules, rounds)
    load_after = os.getloadavg()
    median = {name: statistics.median(wall for wall, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(used for _, used in values) for name, values in samples.items()}
    floor, floor_client = median["boto3"], median["boto3+client"]
    rows = [("import boto3 (floor)", f"{floor * 1000:.0f}", "1.00x",
             f"{floor_client * 1000:.0f}", "1.00x", "1.00x", "1.00x", "floor")]
    for module in modules:
        alone, with_client = median[module] / floor, median[f"{module}+client"] / floor_client
        verdict = "ok" if max(alone, with_client) <= GOAL else f"over {GOAL}x"
        rows.append((f"import {module}", f"{median[module] * 1000:.0f}", f"{alone:.2f}x",
                     f"{median[f'{module}+client'] * 1000:.0f}", f"{with_client:.2f}x",
                     f"{cpu[module] / cpu['boto3']:.2f}x", f"{cpu[f'{module}+client'] / cpu['boto3+client']:.2f}x",
                     verdict))
    table(f"Import time of each Lambda entry point: medians of {rounds} fresh interpreters, sampled "
          f"interleaved with the floor. Floor: `import boto3` (any Python Lambda on AWS pays it); "
          f"second floor: `import boto3` + one DynamoDB client (every handler builds one on its "
          f"first event). Goal <= {GOAL}x of both, in wall time; the CPU columns are the same ratios in "
          f"CPU time, which a busy machine moves less (CPU ms of the floors: {cpu['boto3'] * 1000:.0f}, "
          f"{cpu['boto3+client'] * 1000:.0f})",
          ("entry point", "ms", "vs boto3", "ms +client", "vs boto3+client", "CPU vs boto3", "CPU vs +client",
           "goal"), rows)
    print(f"Bytecode: {_bytecode()}")
    print(f"Load average (1, 5, 15 min) before: {_load(load_before)}; after: {_load(load_after)} "
          f"on {os.cpu_count()} CPUs (a busy machine inflates both sides, not always alike)")


def _load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in load)


def _bytecode() -> str:
    """Whether Omnishop's own modules were compiled from source in every sample (the libraries
    come with their .pyc). The deployed bundle ships no .pyc (infra/bundling.py), so a Lambda
    cold start compiles them as the first case does."""
    cached = (ROOT / "chalicelib" / "__pycache__").is_dir() or bool(os.environ.get("PYTHONPYCACHEPREFIX"))
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not cached:
        return "Omnishop's modules compiled from source in every sample (PYTHONDONTWRITEBYTECODE, no .pyc)"
    return "Omnishop's modules loaded from .pyc after the first sample (compile time not counted)"


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
