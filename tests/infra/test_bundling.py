"""The Lambda code ships bytecode compiled by the runtime's own interpreter (issue 16, cold start).

This machine has neither the runtime's Python nor a Docker daemon, so the container path is checked
as configuration (image, command) and the local path with this interpreter standing in for the
runtime's; tests/infra/test_stack_full_synth.py checks what a real synthesis ships.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile

import pytest

from infra import bundling
from infra import resources as res

HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def _unchecked_hash_pyc(data: bytes) -> bool:
    """PEP 552 header: the magic of this interpreter, then flags 0b01 (hash-based, source not checked)."""
    return data[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(data[4:8], "little") == 0b01


def test_the_build_image_is_the_runtimes():
    assert bundling.IMAGE == f"public.ecr.aws/sam/build-{res.LAMBDA_RUNTIME}"


def test_the_container_installs_copies_then_compiles_every_module_unchecked():
    shell, flag, script = bundling.container_command()
    assert (shell, flag) == ("bash", "-c")
    subprocess.run(["bash", "-n", "-c", script], check=True)   # it parses
    steps = script.split(" && ")
    assert steps[0] == "set -euo pipefail"
    assert "pip install" in steps[1] and "-r requirements.txt --target /asset-output" in steps[1]
    assert f"--python-version {bundling.PYTHON_VERSION}" in steps[1]
    assert all(package in steps[2] for package in bundling.PACKAGES) and "tar -x -C /asset-output" in steps[2]
    assert steps[3] == "python -m compileall -q -j 0 --invalidation-mode unchecked-hash -d /var/task /asset-output"


def test_who_compiles(monkeypatch):
    bundling.bytecode_by.cache_clear()
    try:
        monkeypatch.setattr(bundling, "PYTHON_VERSION", HERE)
        assert bundling.bytecode_by() == "local"          # this Python is the runtime's: no Docker needed
        bundling.bytecode_by.cache_clear()
        monkeypatch.setattr(bundling, "PYTHON_VERSION", "2.7")
        monkeypatch.setattr(bundling, "docker_running", lambda: True)
        assert bundling.bytecode_by() == "docker"
        bundling.bytecode_by.cache_clear()
        monkeypatch.setattr(bundling, "docker_running", lambda: False)
        assert bundling.bytecode_by() == ""
    finally:
        bundling.bytecode_by.cache_clear()


def test_docker_running_needs_a_daemon_not_just_a_client(monkeypatch, tmp_path):
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CDK_DOCKER", str(fake))
    assert not bundling.docker_running()
    monkeypatch.setenv("CDK_DOCKER", str(tmp_path / "absent"))
    assert not bundling.docker_running()


def test_the_asset_hash_says_who_compiled():
    assert len({bundling.source_hash(by) for by in ("", "local", "docker")}) == 3


def test_with_docker_the_local_bundler_leaves_it_to_the_container(monkeypatch, tmp_path):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("bundled locally"))
    assert bundling.LocalPythonBundling("docker").try_bundle(str(tmp_path)) is False


@pytest.mark.parametrize("compiled_by", ["local", ""])
def test_the_local_bundler_compiles_only_with_the_runtimes_python(monkeypatch, tmp_path, compiled_by):
    monkeypatch.setattr(bundling, "pip_command", lambda target: [sys.executable, "-c", "pass"])   # no download
    assert bundling.LocalPythonBundling(compiled_by).try_bundle(str(tmp_path)) is True
    for package in bundling.PACKAGES:
        assert (tmp_path / package / "__init__.py").is_file()
    compiled = list(tmp_path.rglob("*.pyc"))
    if not compiled_by:
        assert compiled == []
        return
    tag = sys.implementation.cache_tag
    assert (tmp_path / "functions" / "__pycache__" / f"order_events.{tag}.pyc").is_file()
    assert (tmp_path / "chalicelib" / "ordering" / "__pycache__" / f"service.{tag}.pyc").is_file()
    assert all(_unchecked_hash_pyc(path.read_bytes()) for path in compiled)
    assert b"/var/task/functions/order_events.py" in (tmp_path / "functions" / "__pycache__" / f"order_events.{tag}.pyc").read_bytes()


def test_compiling_a_chalice_zip_adds_unchecked_bytecode_the_same_each_time(tmp_path):
    built = []
    for attempt in ("one", "two"):
        archive = tmp_path / f"{attempt}.zip"
        with zipfile.ZipFile(archive, "w") as zipped:   # dated like chalice's, so the two match
            for name, text in (("app.py", "import pkg.mod\n"), ("pkg/__init__.py", ""), ("pkg/mod.py", "VALUE = 42\n")):
                zipped.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
        assert bundling.compile_zip(archive, "") == 0   # nobody to compile: the zip as it was
        assert bundling.compile_zip(archive, "local") == 3
        built.append(archive.read_bytes())
    assert built[0] == built[1]
    with zipfile.ZipFile(tmp_path / "one.zip") as zipped:
        tag = sys.implementation.cache_tag
        names = set(zipped.namelist())
        assert {"app.py", f"__pycache__/app.{tag}.pyc", f"pkg/__pycache__/mod.{tag}.pyc"} <= names
        assert _unchecked_hash_pyc(zipped.read(f"pkg/__pycache__/mod.{tag}.pyc"))
        assert b"/var/task/pkg/mod.py" in zipped.read(f"pkg/__pycache__/mod.{tag}.pyc")
        zipped.extractall(tmp_path / "out")
    # The interpreter loads the unchecked .pyc even when the source says otherwise: proof it is used.
    (tmp_path / "out" / "pkg" / "mod.py").write_text("VALUE = 0\n")
    code = "import pkg.mod; print(pkg.mod.VALUE)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "out", capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "42"
