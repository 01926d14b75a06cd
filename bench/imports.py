"""Import time of every Lambda entry point beside bare `import boto3`, measured in one run."""
from __future__ import annotations

from bench.harness import import_seconds, table
from infra import resources


def run() -> None:
    baseline = import_seconds("boto3")
    rows = [("import boto3 (baseline)", f"{baseline * 1000:.0f}", "1.0x")]
    entry_points = ["app"] + sorted({f.handler.rsplit(".", 1)[0] for f in resources.FUNCTIONS})
    for module in entry_points:
        seconds = import_seconds(module)
        rows.append((f"import {module}", f"{seconds * 1000:.0f}", f"{seconds / baseline:.1f}x"))
    table("Import time of each Lambda entry point (median of 5 fresh interpreters)",
          ("entry point", "ms", "vs boto3"), rows)
