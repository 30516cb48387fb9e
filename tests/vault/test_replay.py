"""Replaying local backups onto the remote tip: whole files, commits kept, newest at the tip."""
from __future__ import annotations

import os
from pathlib import Path

from memvault_hooks.vault import message
from memvault_hooks.vault import replay
from memvault_hooks.vault.vault import REPLAY_INDEX
from memvault_hooks.vault.vault import Vault
from support import git


def _commit(repo: Path, files: dict[str, str], when: int, subject: str) -> str:
    for rel, content in files.items():
        path = repo / "rAgentShared" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(repo, "add", "-A")
    env_date = f"@{when} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": env_date, "GIT_COMMITTER_DATE": env_date,
           "GIT_AUTHOR_NAME": "memvault", "GIT_COMMITTER_NAME": "memvault"}
    git(repo, "commit", "-q", "-m", subject, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


def _two_sides(tmp_path: Path) -> tuple[Vault, str]:
    """A vault with a local branch and the other machine's commits under `theirs`."""
    repo = tmp_path / "vault"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _commit(repo, {"memory.json": "base", "other.json": "base"}, 1_000, "base")
    git(repo, "branch", "theirs")
    return Vault(str(repo), "rAgentShared", "main"), str(repo)


def test_local_commits_keep_message_author_dates(tmp_path: Path) -> None:
    vault, repo = _two_sides(tmp_path)
    git(Path(repo), "checkout", "-q", "theirs")
    theirs = _commit(Path(repo), {"other.json": "theirs"}, 2_000, "their backup")
    git(Path(repo), "checkout", "-q", "main")
    ours = _commit(Path(repo), {"memory.json": "ours"}, 3_000, "memvault: ours\n\nMemvault-Host: here")
    new = replay.replay(vault, ours, theirs)
    assert git(Path(repo), "rev-parse", f"{new}^").strip() == theirs
    assert git(Path(repo), "log", "-1", "--format=%B%x00%an%x00%at%x00%ct", new) == \
        git(Path(repo), "log", "-1", "--format=%B%x00%an%x00%at%x00%ct", ours)
    assert git(Path(repo), "show", f"{new}:rAgentShared/memory.json") == "ours"
    assert git(Path(repo), "show", f"{new}:rAgentShared/other.json") == "theirs"
    assert not (Path(repo) / ".git" / REPLAY_INDEX).exists()
    assert git(Path(repo), "rev-parse", "main").strip() == ours  # only objects were written


def test_commit_the_remote_already_holds_is_dropped(tmp_path: Path) -> None:
    vault, repo = _two_sides(tmp_path)
    git(Path(repo), "checkout", "-q", "theirs")
    theirs = _commit(Path(repo), {"memory.json": "same"}, 2_000, "theirs")
    git(Path(repo), "checkout", "-q", "main")
    ours = _commit(Path(repo), {"memory.json": "same"}, 3_000, "ours")
    assert replay.replay(vault, ours, theirs) == theirs


def test_newer_remote_backup_of_same_file_is_put_back_at_the_tip(tmp_path: Path) -> None:
    vault, repo = _two_sides(tmp_path)
    git(Path(repo), "checkout", "-q", "theirs")
    theirs = _commit(Path(repo), {"memory.json": "theirs, newer"}, 5_000, "theirs")
    git(Path(repo), "checkout", "-q", "main")
    ours = _commit(Path(repo), {"memory.json": "ours, older", "other.json": "ours"}, 4_000, "ours")
    new = replay.replay(vault, ours, theirs)
    assert git(Path(repo), "show", f"{new}:rAgentShared/memory.json") == "theirs, newer"
    assert git(Path(repo), "show", f"{new}:rAgentShared/other.json") == "ours"
    assert git(Path(repo), "show", f"{new}^:rAgentShared/memory.json") == "ours, older"  # kept in history
    parsed = message.parse(git(Path(repo), "log", "-1", "--format=%B", new))
    assert parsed.trailers["Memvault-Trigger"] == replay.MERGE_TRIGGER
    assert parsed.files == [("memory.json", "modified")]
    assert git(Path(repo), "log", "-1", "--format=%ct", new).strip() == "5000"


def test_newer_local_backup_stays_at_the_tip(tmp_path: Path) -> None:
    vault, repo = _two_sides(tmp_path)
    git(Path(repo), "checkout", "-q", "theirs")
    theirs = _commit(Path(repo), {"memory.json": "theirs, older"}, 4_000, "theirs")
    git(Path(repo), "checkout", "-q", "main")
    ours = _commit(Path(repo), {"memory.json": "ours, newer"}, 5_000, "ours")
    new = replay.replay(vault, ours, theirs)
    assert git(Path(repo), "show", f"{new}:rAgentShared/memory.json") == "ours, newer"
    assert git(Path(repo), "rev-parse", f"{new}^").strip() == theirs


def test_a_local_deletion_is_replayed(tmp_path: Path) -> None:
    vault, repo = _two_sides(tmp_path)
    git(Path(repo), "checkout", "-q", "theirs")
    theirs = _commit(Path(repo), {"memory.json": "theirs"}, 2_000, "theirs")
    git(Path(repo), "checkout", "-q", "main")
    git(Path(repo), "rm", "-q", "rAgentShared/other.json")
    git(Path(repo), "commit", "-qm", "deleted: other.json")
    ours = git(Path(repo), "rev-parse", "HEAD").strip()
    new = replay.replay(vault, ours, theirs)
    assert git(Path(repo), "ls-tree", "-r", "--name-only", new).split() == ["rAgentShared/memory.json"]
    assert git(Path(repo), "show", f"{new}:rAgentShared/memory.json") == "theirs"


def test_an_unpushed_merge_commit_is_not_replayed_as_a_local_backup(tmp_path: Path) -> None:
    """A `merge` commit only put the remote's backup back; replaying it again would put that
    backup over a newer one the remote received since, within the same second."""
    vault, repo = _two_sides(tmp_path)
    git(Path(repo), "checkout", "-q", "theirs")
    round4 = _commit(Path(repo), {"memory.json": "theirs, round 4"}, 5_000, "theirs 4")
    git(Path(repo), "checkout", "-q", "main")
    ours = _commit(Path(repo), {"memory.json": "ours, older", "other.json": "ours"}, 4_000, "ours")
    first = replay.replay(vault, ours, round4)  # ours, then a merge commit putting round 4 back
    assert message.parse(git(Path(repo), "log", "-1", "--format=%B", first)).trailers[
        "Memvault-Trigger"] == replay.MERGE_TRIGGER
    git(Path(repo), "checkout", "-q", "theirs")
    round7 = _commit(Path(repo), {"memory.json": "theirs, round 7"}, 5_000, "theirs 7")
    git(Path(repo), "checkout", "-q", "main")
    new = replay.replay(vault, first, round7)  # the push of `first` was refused: again
    assert git(Path(repo), "show", f"{new}:rAgentShared/memory.json") == "theirs, round 7"
    assert git(Path(repo), "show", f"{new}:rAgentShared/other.json") == "ours"


def test_a_first_local_backup_of_an_older_remote_version_is_left_out(tmp_path: Path) -> None:
    """Unrelated histories (this machine's vault began before it could clone): a file the
    local side *adds* with content the remote held before its newest is behind, not newest."""
    repo = tmp_path / "vault"
    git(tmp_path, "init", "-q", "-b", "theirs", str(repo))
    for n, when in ((1, 1_000), (2, 2_000), (3, 3_000)):
        theirs = _commit(repo, {"memory.json": f"v{n}"}, when, f"their v{n}")
    git(repo, "checkout", "-q", "--orphan", "main")
    git(repo, "rm", "-q", "-r", "--cached", ".")
    for path in (repo / "rAgentShared").iterdir():
        path.unlink()
    ours = _commit(repo, {"memory.json": "v1", "notes.json": "ours"}, 9_000, "our first backup")
    late: list[str] = []
    new = replay.replay(Vault(str(repo), "rAgentShared", "main"), ours, theirs, late)
    assert late == ["rAgentShared/memory.json"]
    assert git(repo, "show", f"{new}:rAgentShared/memory.json") == "v3"  # the newest stays the tip
    assert git(repo, "show", f"{new}:rAgentShared/notes.json") == "ours"  # never seen there: kept
    # Content the remote never held is this machine's newer backup, as before.
    git(repo, "checkout", "-q", "-f", "main")
    ours = _commit(repo, {"memory.json": "v9"}, 9_500, "our edit")
    late = []
    new = replay.replay(Vault(str(repo), "rAgentShared", "main"), ours, theirs, late)
    assert late == ["rAgentShared/memory.json"]  # the first backup (v1) still is; the edit is not
    assert git(repo, "show", f"{new}:rAgentShared/memory.json") == "v9"
