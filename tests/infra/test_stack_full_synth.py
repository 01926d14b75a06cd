"""The whole synthesis a deployment runs: chalice package for the API, and the functions' code
bundled locally (pip for the Lambda runtime, no Docker). Takes a minute or so the first time.

The bytecode each zip ships depends on who can compile it for the runtime (infra/bundling.py
bytecode_by): here, with Python 3.11 and no Docker daemon, nobody, so none; on a machine with
Docker or the runtime's Python, every module's, tagged for the runtime."""
from __future__ import annotations

import ast
import json
import pathlib
import zipfile

from infra import resources as res
from infra import bundling
from infra.bundling import PACKAGES
from infra.names import logical_id
from tests.infra.conftest import STAGE

PY = res.LAMBDA_RUNTIME.removeprefix("python").replace(".", "")   # "314"
BINARY = f"cpython-{PY}-x86_64-linux-gnu.so"   # what the runtime on x86_64 loads


def _asset(synth, s3_key: dict | str) -> pathlib.Path:
    """The staged asset behind an S3 key of the template (`<hash>.zip`)."""
    manifest = json.loads((synth.outdir / f"omnishop-{STAGE}.assets.json").read_text())
    return synth.outdir / manifest["files"][s3_key.split(".")[0]]["source"]["path"]


def _binds(source: str, name: str) -> bool:
    """The module binds `name` at its top level: a def, or an assignment (a handler a factory
    made, e.g. chalicelib/hub/entry.py resource_events)."""
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
                isinstance(n, ast.Name) and n.id == name for t in node.targets for n in ast.walk(t)):
            return True
    return False

def test_full_synthesis_bundles_the_code(synth):
    assert not (synth.workdir / "chalice.out").exists(), "chalice.out is left behind"

    # Every function runs one bundled directory: our packages and the requirements, for the runtime.
    resources = synth.template["Resources"]
    paths = {_asset(synth, resources[logical_id("Function", f.name)]["Properties"]["Code"]["S3Key"])
             for f in res.FUNCTIONS}
    assert len(paths) == 1, "the functions share one asset"
    code = paths.pop()
    for package in PACKAGES:
        assert (code / package / "__init__.py").is_file(), package
    for module in ("pynamodb", "aws_lambda_powertools", "jwt", "pydantic", "cryptography"):
        assert (code / module).is_dir(), module
    assert list((code / "pydantic_core").glob(f"*{BINARY}")), "pydantic_core is not built for the runtime"
    if bundling.bytecode_by():
        for module in code.glob("functions/*.py"):
            assert (module.parent / "__pycache__" / f"{module.stem}.cpython-{PY}.pyc").is_file(), module
        assert {p.name.split(".")[1] for p in code.rglob("*.pyc")} == {f"cpython-{PY}"}
    else:
        assert not list(code.rglob("__pycache__"))
    for function in res.FUNCTIONS:
        module, _, handler = function.handler.rpartition(".")
        source = (code / (module.replace(".", "/") + ".py")).read_text()
        assert _binds(source, handler), function.handler

    # The API: chalice's app zip and its managed layer, with the dependencies built for the runtime.
    assert resources["APIHandler"]["Properties"]["Runtime"] == res.LAMBDA_RUNTIME
    app = zipfile.ZipFile(_asset(synth, resources["APIHandler"]["Properties"]["CodeUri"]["Key"]))
    assert "app.py" in app.namelist()
    assert any(m.startswith("chalicelib/") for m in app.namelist())
    layer = zipfile.ZipFile(_asset(synth, resources["ManagedLayer"]["Properties"]["ContentUri"]["Key"]))
    site = f"python/lib/{res.LAMBDA_RUNTIME}/site-packages/"
    assert any(m.startswith(site + "pydantic_core/") and m.endswith(BINARY) for m in layer.namelist())
    assert any(m.startswith(site + "pynamodb/") for m in layer.namelist())
    tagged = f"__pycache__/app.cpython-{PY}.pyc" in app.namelist(), any(
        m.startswith(site + "pydantic/__pycache__/") and m.endswith(f".cpython-{PY}.pyc") for m in layer.namelist())
    assert tagged == ((True, True) if bundling.bytecode_by() else (False, False))
    # only the runtime's bytecode, once: none of what the checkout's Python wrote in chalicelib/
    names = app.namelist()
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})[:5]
    compiled = [n for n in names if n.endswith(".pyc")]
    assert all(n.endswith(f".cpython-{PY}.pyc") for n in compiled), compiled[:5]
    assert bool(compiled) == bool(bundling.bytecode_by())
