"""Where the TM Forum specs and conformance kits are (`shared/`, not in this repository).

In order: OMNISHOP_SHARED_DIR; a `shared/` beside the repository (CI puts a copy beside its
clone); beside the main working tree of a git worktree; beside the repository a local clone was
made from (its `origin` is a path); beside one of the repository's parent folders. The first
that holds `tmf/` wins; if none does, SHARED is the one beside the repository, and the tests
that need it say so.
"""
from __future__ import annotations

import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _git(root: pathlib.Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def candidates(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """The places looked at, in order."""
    if os.environ.get("OMNISHOP_SHARED_DIR"):
        return [pathlib.Path(os.environ["OMNISHOP_SHARED_DIR"])]
    found = [root.parent / "shared"]
    common = _git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")
    if common:
        found.append(pathlib.Path(common).parent.parent / "shared")
    origin = _git(root, "config", "--get", "remote.origin.url").removeprefix("file://")
    if origin.startswith("/"):
        found.append(pathlib.Path(origin).parent / "shared")
    found += [parent / "shared" for parent in root.parents[1:]]
    return found


def find(root: pathlib.Path = ROOT) -> pathlib.Path:
    places = candidates(root)
    return next((p for p in places if (p / "tmf").is_dir()), places[0])


SHARED = find()
