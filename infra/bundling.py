"""The code of the non-HTTP Lambda functions, with bytecode compiled by the runtime's interpreter.

One asset holds what every function in infra/resources.py FUNCTIONS runs: the run-time
dependencies of requirements.txt (Linux wheels for the Lambda runtime, fetched by pip from the
package index) plus `chalicelib/` and `functions/`. The functions share it, so it is built once
per synthesis. Its hash is computed from those inputs, so an unchanged tree yields the same asset
and nothing is re-uploaded; and a synthesis that skips bundling (context
`aws:cdk:bundling-stacks` = []) never walks the project tree.

Bytecode (issue 16, cold start): Lambda's /var/task is read-only, so a module shipped without its
.pyc is compiled from source on every cold start. A .pyc is only read by the interpreter version
that wrote it, so the asset's is written by the runtime's own Python (`bytecode_by()`):
- "local": the synthesizing interpreter is the runtime's version: compileall here;
- "docker": Docker answers: CDK runs COMMAND in Lambda's build image for the runtime (IMAGE),
  which installs, copies and compiles there;
- "": neither (this machine: Python 3.11, no Docker daemon): the asset is built here as before,
  without bytecode, and the synthesis says so on stderr.
The .pyc are hash-based and unchecked (`compileall --invalidation-mode unchecked-hash`): the
interpreter neither stats nor reads the source to trust them (the asset's files carry the zip's
fixed timestamps, which would invalidate a timestamp .pyc), and the code of a Lambda version never
changes under it.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from typing import TYPE_CHECKING, Any

from infra.resources import LAMBDA_RUNTIME, ROOT

if TYPE_CHECKING:   # the CDK is loaded by the functions that use it (infra/names.py says why)
    from aws_cdk import aws_lambda as lambda_

PYTHON_VERSION = LAMBDA_RUNTIME.removeprefix("python")   # the wheels pip picks are for it
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")   # Lambda's x86_64 glibc accepts both
PACKAGES = ("chalicelib", "functions")
REQUIREMENTS = "requirements.txt"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Lambda's build image for the runtime: its `python` is the runtime's version (what `cdk deploy`
# pulls with Docker on the deploying machine when the synthesizing Python is another version).
IMAGE = f"public.ecr.aws/sam/build-python{PYTHON_VERSION}"
_INPUT, _OUTPUT = "/asset-input", "/asset-output"   # where CDK mounts the source and the output


def pip_command(target: str, python: str = sys.executable, requirements: str = str(ROOT / REQUIREMENTS)) -> list[str]:
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    return [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-cache-dir",
            "--no-compile", "-r", requirements, "--target", target, *platforms,
            "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]


TASK_DIR, LAYER_DIR = "/var/task", "/opt"   # where Lambda extracts a function's code and its layers


def compile_command(target: str, python: str = sys.executable, runs_in: str = TASK_DIR) -> list[str]:
    """Bytecode of every module under `target` (ours and the dependencies'), trusted unchecked,
    naming each source where Lambda puts it (tracebacks show its lines; the same bytes wherever
    the tree was built)."""
    return [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            "-d", runs_in, target]


def container_command() -> list[str]:
    """What the build image runs (CDK mounts the project at /asset-input, the working directory,
    and zips /asset-output): the same install and copy as the local bundling, then compileall by
    the image's Python, the runtime's."""
    copy = f"tar -c --exclude=__pycache__ --exclude='*.pyc' {' '.join(PACKAGES)} | tar -x -C {_OUTPUT}"
    steps = [shlex.join(pip_command(_OUTPUT, "python", REQUIREMENTS)), copy,
             shlex.join(compile_command(_OUTPUT, "python"))]
    return ["bash", "-c", " && ".join(["set -euo pipefail", *steps])]


def _runtime_python() -> bool:
    return f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION


def docker_running() -> bool:
    """Whether the Docker CDK would run (CDK_DOCKER, else `docker`) answers: a daemon, not just a client."""
    try:
        return subprocess.run([os.environ.get("CDK_DOCKER", "docker"), "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@cache
def bytecode_by() -> str:
    """Who compiles the asset's bytecode: "local", "docker" or "" (nobody: no .pyc shipped)."""
    return "local" if _runtime_python() else "docker" if docker_running() else ""


def _sources() -> list[pathlib.Path]:
    files = [ROOT / REQUIREMENTS]
    for package in PACKAGES:
        files += sorted(p for p in (ROOT / package).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return files


def source_hash(compiled_by: str = "") -> str:
    """What the asset is made of: the pip command's options, every file it copies and who compiles
    its bytecode (an asset with .pyc is another asset than one without)."""
    digest = hashlib.sha256(repr((PYTHON_VERSION, PLATFORMS, PACKAGES, compiled_by,
                                  compiled_by and container_command())).encode())
    for path in _sources():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def _local_bundling() -> type:
    """LocalPythonBundling, a jsii implementation of CDK's ILocalBundling: made on first use."""
    import jsii
    from aws_cdk import ILocalBundling

    @jsii.implements(ILocalBundling)
    class LocalPythonBundling:
        """CDK calls `try_bundle` before running the bundling container: it builds the asset here
        unless the build image is to compile its bytecode (then False: CDK runs the container)."""

        def __init__(self, compiled_by: str) -> None:
            self.compiled_by = compiled_by

        # `image` is keyword-only so jsii passes the BundlingOptions struct as keywords.
        def try_bundle(self, output_dir: str, *, image: Any = None, **_options: Any) -> bool:
            if self.compiled_by == "docker":
                return False
            subprocess.run(pip_command(output_dir), check=True)
            for package in PACKAGES:
                shutil.copytree(ROOT / package, pathlib.Path(output_dir) / package,
                                ignore=SKIP, dirs_exist_ok=True)
            if self.compiled_by == "local":
                subprocess.run(compile_command(output_dir), check=True)
            else:
                print(f"bundling: Python {sys.version_info.major}.{sys.version_info.minor} here and no Docker: "
                      f"the functions' asset and the API's packages ship no bytecode for python{PYTHON_VERSION} "
                      f"(each cold start compiles every module it imports)", file=sys.stderr)
            return True

    return LocalPythonBundling


def __getattr__(name: str) -> Any:
    if name == "LocalPythonBundling":
        return _local_bundling()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def function_code() -> lambda_.Code:
    """One Code object: every function bound to it shares one asset (bundled once)."""
    from aws_cdk import AssetHashType, BundlingOptions, DockerImage
    from aws_cdk import aws_lambda as lambda_

    compiled_by = bytecode_by()
    return lambda_.Code.from_asset(
        str(ROOT),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(compiled_by),
        bundling=BundlingOptions(
            image=DockerImage.from_registry(IMAGE),   # run only when bytecode_by() is "docker"
            command=container_command(),
            local=_local_bundling()(compiled_by),
        ),
    )


def compile_zip(archive: pathlib.Path, compiled_by: str, runs_in: str = TASK_DIR) -> int:
    """Add to a zip Lambda extracts (chalice's app and layer packages) the bytecode of its modules,
    compiled by the runtime's Python as `compiled_by` says; how many .pyc it added. The entries are
    dated 1980-01-01 as CDK dates its own, so an unchanged package zips the same."""
    if not compiled_by:
        return 0
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zipped:
        tree = pathlib.Path(tmp)
        zipped.extractall(tree)
        if compiled_by == "local":
            subprocess.run(compile_command(tmp, runs_in=runs_in), check=True)
        else:
            from aws_cdk import DockerImage, DockerVolume

            DockerImage.from_registry(IMAGE).run(
                command=compile_command("/code", "python", runs_in), user=f"{os.getuid()}:{os.getgid()}",
                volumes=[DockerVolume(host_path=tmp, container_path="/code")])
        compiled = sorted(tree.rglob("*.pyc"))
        for path in compiled:
            entry = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zipped.writestr(entry, path.read_bytes())
    return len(compiled)
