from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from support import Project
from support import git
from vault_support import ok

from memvault_hooks.vault.clone import clone_vault
from memvault_hooks.errors import MemvaultError


def _bare_with(project: Project, tmp_path: Path, branch: str = "main") -> Path:
    ok(project.sync())
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project.vault, "push", "-q", str(remote), f"main:{branch}")
    return remote


def test_clone_is_a_configured_private_vault(project: Project, tmp_path: Path) -> None:
    remote = _bare_with(project, tmp_path)
    dest = tmp_path / "data" / "vault"
    clone_vault(str(remote), str(dest), "main", 30)
    assert (dest / "rAgentShared" / "memory.json").read_bytes() == (project.root / "memory.json").read_bytes()
    assert git(dest, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(dest, "config", "gc.autoDetach").strip() == "false"
    assert "/.last_sync" in (dest / ".git" / "info" / "exclude").read_text()
    assert (dest.stat().st_mode & 0o777) == 0o700
    assert not (dest / ".git" / "hooks").exists()  # no template, no hooks
    # objects are copied, never hard-linked to the remote's
    pack_or_loose = [p for p in (dest / ".git" / "objects").rglob("*") if p.is_file()]
    assert pack_or_loose and all(p.stat().st_nlink == 1 for p in pack_or_loose)


def test_empty_remote_gives_an_empty_vault_on_the_branch(tmp_path: Path) -> None:
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    dest = tmp_path / "restored-vault"
    clone_vault(str(remote), str(dest), "memories", 30)
    assert git(dest, "symbolic-ref", "HEAD").strip() == "refs/heads/memories"


def test_missing_branch_names_the_ones_there(project: Project, tmp_path: Path) -> None:
    remote = _bare_with(project, tmp_path, branch="trunk")
    dest = tmp_path / "restored-vault"
    with pytest.raises(MemvaultError, match="has no branch 'main' \\(it has: trunk\\)"):
        clone_vault(str(remote), str(dest), "main", 30)
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if ".clone-" in p.name]


def test_refuses_a_non_empty_place_and_accepts_an_empty_one(project: Project, tmp_path: Path) -> None:
    remote = _bare_with(project, tmp_path)
    dest = tmp_path / "restored-vault"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(MemvaultError, match="not empty"):
        clone_vault(str(remote), str(dest), "main", 30)
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]
    (dest / "keep.txt").unlink()
    (dest / ".memvault.lock").write_text("")  # memvault's own machine-local file
    clone_vault(str(remote), str(dest), "main", 30)
    assert (dest / "rAgentShared" / "memory.json").exists()


def test_a_silent_server_is_cut_off_at_the_timeout(tmp_path: Path) -> None:
    """A git server on 127.0.0.1 that accepts and never answers: the clone ends at the timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    dest = tmp_path / "restored-vault"
    try:
        with pytest.raises(MemvaultError, match="timed out"):
            clone_vault(f"git://127.0.0.1:{port}/vault.git", str(dest), "main", 1.5)
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if ".clone-" in p.name]


def test_clone_beside_a_held_vault_lock_keeps_that_lock(project: Project, tmp_path: Path) -> None:
    """`init --remote` clones while holding the vault lock, which lives in the vault folder."""
    from memvault_hooks.vault import file_lock
    from memvault_hooks.vault.vault import RESET_MARKER

    remote = _bare_with(project, tmp_path)
    dest = tmp_path / "new-vault"
    with file_lock.locked(str(dest), 5):
        inode = (dest / ".memvault.lock").stat().st_ino
        clone_vault(str(remote), str(dest), "main", 30)
        assert (dest / ".memvault.lock").stat().st_ino == inode
        assert file_lock.try_acquire(str(dest)) is None  # still held: nobody else gets in
    assert git(dest, "status", "--porcelain") == ""
    assert (dest / "rAgentShared" / "memory.json").read_bytes() == (project.root / "memory.json").read_bytes()
    assert not (dest / ".git" / RESET_MARKER).exists()
    assert not [p for p in tmp_path.iterdir() if ".clone-" in p.name]


def test_clone_failure_keeps_ssh_and_git_words(tmp_path: Path) -> None:
    with pytest.raises(MemvaultError) as caught:
        clone_vault("ssh://nohost.invalid/x.git", str(tmp_path / "vault"), "main", 30)
    said = str(caught.value)
    assert "cannot clone the vault from ssh://nohost.invalid/x.git" in said
    assert "Could not resolve hostname nohost.invalid" in said and "and the repository exists." in said
    assert not (tmp_path / "vault").exists()
