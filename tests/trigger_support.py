"""Helpers for the trigger tests (git hooks, pre-commit, cron): read the vault's commits
and the user's repository state."""
from __future__ import annotations

from pathlib import Path

from support import git
from support import wait_idle


def commit_count(vault: Path) -> int:
    if not (vault / ".git").exists():
        return 0
    return int(git(vault, "rev-list", "--count", "HEAD").strip())


def trailers(vault: Path, rev: str = "HEAD") -> dict[str, str]:
    body = git(vault, "log", "-1", "--format=%B", rev)
    found = {}
    for line in body.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Memvault-"):
            found[key] = value.strip()
    return found


def stored(vault: Path, rel: str, rev: str = "HEAD") -> bytes:
    """A memory file's content in the vault's commit `rev`."""
    import subprocess

    return subprocess.run(["git", "-C", str(vault), "show", f"{rev}:rAgentShared/{rel}"],
                          capture_output=True, check=True).stdout


def user_state(root: Path) -> tuple[str, str, str]:
    """What a hook must never touch: the index, HEAD, and the unstaged changes."""
    # --no-optional-locks: looking must not refresh the index itself
    return (git(root, "--no-optional-locks", "ls-files", "-s", "--debug"), git(root, "rev-parse", "HEAD"),
            git(root, "--no-optional-locks", "diff", "--binary"))


def settle(vault: Path) -> None:
    """Wait for the detached syncs that git's hooks started."""
    wait_idle(vault, timeout=90)
