"""Cloning a vault from its remote: `clone.clone_vault` and `memvault init --remote URL`."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from memvault_hooks import clone
from memvault_hooks.errors import MemvaultError
from remote_support import bare_remote
from remote_support import git_daemon  # noqa: F401  (fixture)
from remote_support import machine
from remote_support import status
from remote_support import tip_content
from support import Project
from support import git
from support import make_project


def _shared_vault(tmp_path: Path) -> tuple[Path, Project]:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    a.write("memory.json", '{"from": "a"}')
    assert a.sync().returncode == 0
    return origin, a


def test_clone_vault_clones_branch_with_origin(tmp_path: Path) -> None:
    origin, a = _shared_vault(tmp_path)
    dest = tmp_path / "clone"
    assert clone.clone_vault(str(origin), str(dest), "main", 30) is True
    assert git(dest, "rev-parse", "HEAD") == git(a.vault, "rev-parse", "HEAD")
    assert (dest / "rAgentShared" / "memory.json").read_text() == '{"from": "a"}'
    assert git(dest, "status", "--porcelain") == ""
    assert git(dest, "remote", "get-url", "origin").strip() == str(origin)
    assert git(dest, "rev-parse", "refs/remotes/origin/main") == git(a.vault, "rev-parse", "HEAD")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert "/.last_sync" in (dest / ".git" / "info" / "exclude").read_text()
    assert not (dest / ".git" / clone.RESET_MARKER).exists()
    assert not any((dest / ".memvault-tmp").iterdir())


def test_clone_vault_of_empty_remote_returns_false(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    dest = tmp_path / "clone"
    assert clone.clone_vault(str(origin), str(dest), "main", 30) is False
    assert not (dest / ".git").exists()


def test_clone_vault_unreachable_raises_and_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "clone"
    with pytest.raises(MemvaultError, match="cannot reach"):
        clone.clone_vault(str(tmp_path / "nowhere.git"), str(dest), "main", 30)
    assert not (dest / ".git").exists()


def test_clone_vault_never_overwrites_a_vault(tmp_path: Path) -> None:
    origin, a = _shared_vault(tmp_path)
    with pytest.raises(MemvaultError, match="already holds a vault"):
        clone.clone_vault(str(origin), str(a.vault), "main", 30)


def test_init_remote_clones_an_existing_vault(tmp_path: Path) -> None:
    origin, a = _shared_vault(tmp_path)
    base = tmp_path / "b"
    base.mkdir()
    b = make_project(base, ("gpt4o_memories.json",))
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", str(origin))
    assert proc.returncode == 0, proc.stderr
    assert "cloned the vault" in proc.stdout
    assert git(b.vault, "rev-parse", "HEAD") == git(a.vault, "rev-parse", "HEAD")
    assert (b.stored / "memory.json").read_text() == '{"from": "a"}'
    b.write("gpt4o_memories.json", '{"from": "b"}')
    assert b.sync().returncode == 0  # a fast-forward push on top of a's backups
    assert tip_content(origin, "memory.json") == '{"from": "a"}'
    assert tip_content(origin, "gpt4o_memories.json") == '{"from": "b"}'
    assert git(origin, "rev-list", "--count", "main").strip() == "2"


def test_init_remote_with_empty_remote_creates_local_vault(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    b = make_project(tmp_path)
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", str(origin))
    assert proc.returncode == 0, proc.stderr
    assert "holds no vault yet" in proc.stdout
    assert git(b.vault, "remote", "get-url", "origin").strip() == str(origin)
    assert b.sync().returncode == 0
    assert git(origin, "rev-parse", "main") == git(b.vault, "rev-parse", "HEAD")


def test_init_remote_unreachable_keeps_a_local_vault_and_exits_1(tmp_path: Path) -> None:
    url = str(tmp_path / "not-yet.git")
    b = make_project(tmp_path)
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cannot reach" in proc.stderr and "created a local vault" in proc.stderr
    assert git(b.vault, "remote", "get-url", "origin").strip() == url
    assert b.sync().returncode == 1  # backed up locally; the push waits
    assert status(b)["push_pending"] == 1
    bare_remote(tmp_path, "not-yet.git")
    assert b.sync().returncode == 0
    assert status(b)["push_pending"] == 0


def test_init_remote_over_git_daemon(tmp_path: Path, git_daemon: tuple[Path, str]) -> None:  # noqa: F811
    served, base_url = git_daemon
    bare_remote(served, "vault.git")
    url = f"{base_url}/vault.git"
    a = machine(tmp_path, "a", url)
    assert a.sync().returncode == 0
    base = tmp_path / "b"
    base.mkdir()
    b = make_project(base, ("gpt4o_memories.json",))
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", url)
    assert proc.returncode == 0, proc.stderr
    assert "cloned the vault" in proc.stdout
    assert (b.stored / "memory.json").read_bytes() == (a.root / "memory.json").read_bytes()
