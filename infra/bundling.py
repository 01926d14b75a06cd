"""The code of the non-HTTP Lambda functions, built without Docker.

One asset holds what every function in infra/resources.py FUNCTIONS runs: the run-time
dependencies of requirements.txt (Linux wheels for the Lambda runtime, fetched by pip from the
package index) plus `chalicelib/` and `functions/`. The functions share it, so it is built once
per synthesis. Its hash is computed from those inputs, so an unchanged tree yields the same asset
and nothing is re-uploaded; and a synthesis that skips bundling (context
`aws:cdk:bundling-stacks` = []) never walks the project tree.
"""
from __future__ import annotations

import hashlib
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.resources import LAMBDA_RUNTIME, ROOT

PYTHON_VERSION = LAMBDA_RUNTIME.removeprefix("python")   # the wheels pip picks are for it
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")   # Lambda's x86_64 glibc accepts both
PACKAGES = ("chalicelib", "functions")
REQUIREMENTS = "requirements.txt"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def pip_command(target: str) -> list[str]:
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    return [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "-r", str(ROOT / REQUIREMENTS), "--target", target, *platforms,
            "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]


def _sources() -> list[pathlib.Path]:
    files = [ROOT / REQUIREMENTS]
    for package in PACKAGES:
        files += sorted(p for p in (ROOT / package).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return files


def source_hash() -> str:
    """What the asset is made of: the pip command's options and every file it copies."""
    digest = hashlib.sha256(repr((PYTHON_VERSION, PLATFORMS, PACKAGES)).encode())
    for path in _sources():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class LocalPythonBundling:
    """CDK calls `try_bundle` instead of running a bundling container (there is no Docker)."""

    # `image` is keyword-only so jsii passes the BundlingOptions struct as keywords.
    def try_bundle(self, output_dir: str, *, image: Any = None, **_options: Any) -> bool:
        subprocess.run(pip_command(output_dir), check=True)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, pathlib.Path(output_dir) / package,
                            ignore=_SKIP, dirs_exist_ok=True)
        return True


def function_code() -> lambda_.Code:
    """One Code object: every function bound to it shares one asset (bundled once)."""
    return lambda_.Code.from_asset(
        str(ROOT),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(),
        bundling=BundlingOptions(
            # Never pulled: the local bundler always succeeds or raises.
            image=DockerImage.from_registry(f"public.ecr.aws/sam/build-python{PYTHON_VERSION}"),
            local=LocalPythonBundling(),
        ),
    )
