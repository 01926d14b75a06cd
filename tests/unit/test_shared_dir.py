"""tests/support/shared.py finds shared/ (the TMF specs and kits) from any clone (issue 16)."""
import subprocess

from tests.support import shared


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_beside_the_repository_or_a_parent_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("OMNISHOP_SHARED_DIR", raising=False)
    repo = tmp_path / "a" / "b" / "omnishop"
    repo.mkdir(parents=True)
    (tmp_path / "a" / "shared" / "tmf").mkdir(parents=True)
    assert shared.find(repo) == tmp_path / "a" / "shared"
    (tmp_path / "a" / "b" / "shared" / "tmf").mkdir(parents=True)
    assert shared.find(repo) == tmp_path / "a" / "b" / "shared"


def test_beside_the_repository_a_clone_came_from(tmp_path, monkeypatch):
    monkeypatch.delenv("OMNISHOP_SHARED_DIR", raising=False)
    origin = tmp_path / "work" / "main"
    origin.mkdir(parents=True)
    (tmp_path / "work" / "shared" / "tmf").mkdir(parents=True)
    _git("init", "-q", cwd=origin)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "x", cwd=origin)
    clone = tmp_path / "elsewhere" / "omnishop"
    _git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert shared.find(clone) == tmp_path / "work" / "shared"
    worktree = tmp_path / "trees" / "mine"
    _git("worktree", "add", "-q", "-b", "mine", str(worktree), cwd=origin)
    assert shared.find(worktree) == tmp_path / "work" / "shared"


def test_the_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNISHOP_SHARED_DIR", str(tmp_path / "mine"))
    assert shared.find(tmp_path) == tmp_path / "mine"
