"""The vault's one git layer: refs, a version's blobs, NUL-separated output, moving the branch."""
from __future__ import annotations

from pathlib import Path

from memvault_hooks.vault import vault as vault_mod
from memvault_hooks.vault.vault import RESET_MARKER
from memvault_hooks.vault.vault import Vault
from memvault_hooks.vault.vault import zsplit
from support import git


def _vault(tmp_path: Path) -> Vault:
    v = Vault(str(tmp_path / "vault"), "rAgentShared", "main")
    v.create()
    return v


def _commit(v: Vault, rel: str, content: str, when: int) -> str:
    path = Path(v.stored_path(rel))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    v.git("add", "-A")
    v.git("commit", "-q", "-m", f"memvault: {rel}", env=vault_mod.commit_env(when))
    head = v.head()
    assert head is not None
    return head


def test_zsplit_keeps_undecodable_names_and_drops_the_empty_tail() -> None:
    assert zsplit(b"a.json\0d\xffir/b.json\0") == ["a.json", "d\udcffir/b.json"]
    assert zsplit(b"") == []


def test_head_rev_and_blobs_before_and_after_commits(tmp_path: Path) -> None:
    v = _vault(tmp_path)
    assert v.head() is None and v.rev("HEAD") is None and v.blobs() == {}
    first = _commit(v, "memory.json", "{}", 1_000)
    second = _commit(v, "notes/MEMORY.md", "# notes", 2_000)
    assert v.head() == v.rev("HEAD") == v.rev("refs/heads/main") == second
    assert v.rev(f"{second}~1") == first
    assert v.rev("no-such-branch") is None
    assert set(v.blobs()) == {"memory.json", "notes/MEMORY.md"}
    assert set(v.blobs(first)) == {"memory.json"}
    assert v.blobs(first)["memory.json"] == v.rev(f"{first}:rAgentShared/memory.json", peel=None)
    # the identity every memvault commit carries
    assert git(v.path, "log", "-1", "--format=%an %ae %at %ct").split() == [
        "memvault", f"memvault@{vault_mod.hostname()}", "2000", "2000"]


def test_blob_history_lists_every_version_of_a_path(tmp_path: Path) -> None:
    v = _vault(tmp_path)
    _commit(v, "memory.json", "one", 1_000)
    _commit(v, "memory.json", "two", 2_000)
    first, second = (v.rev(f"HEAD{up}:rAgentShared/memory.json", peel=None) for up in ("~1", ""))
    assert v.blob_history("rAgentShared/memory.json") == {first, second}


def test_move_branch_moves_the_work_tree_and_leaves_no_marker(tmp_path: Path) -> None:
    v = _vault(tmp_path)
    old = _commit(v, "memory.json", "old", 1_000)
    new = _commit(v, "memory.json", "new", 2_000)
    git(v.path, "reset", "-q", "--hard", old)
    v.move_branch(old, new, "memvault: test")
    assert v.head() == new
    assert Path(v.stored_path("memory.json")).read_text() == "new"
    assert not (Path(v.path) / ".git" / RESET_MARKER).exists()


def test_recover_finishes_a_branch_move_a_killed_run_left(tmp_path: Path) -> None:
    v = _vault(tmp_path)
    _commit(v, "memory.json", "old", 1_000)
    new = _commit(v, "memory.json", "new", 2_000)
    git(v.path, "checkout", "-q", "--detach", "HEAD~1")  # HEAD off the branch, as a person may leave it
    Path(v.stored_path("memory.json")).write_text("half written")  # the work tree behind the branch
    v.set_marker()
    v.recover()
    assert git(v.path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert v.head() == new
    assert Path(v.stored_path("memory.json")).read_text() == "new"
    assert git(v.path, "status", "--porcelain") == ""
    assert not (Path(v.path) / ".git" / RESET_MARKER).exists()
