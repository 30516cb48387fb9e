"""A vault is only a vault: memvault marks the repositories it creates or clones, and
never adopts, locks or writes into a git repository it did not create, nor a folder
that holds anything else (SPEC "Trust", last lines).

The mark is `memvault.vault = true` in the vault's own `.git/config` (never committed,
never pushed). Vaults made by releases before the mark are recognised once, and marked:
a `.git` folder whose `info/exclude` lists memvault's lock file (written there by every
vault memvault made) and whose HEAD is unborn or a memvault commit (`memvault: ` subject).
A repository the user made themselves has neither; pointing `vault.path` at it is refused.
"""
from __future__ import annotations

import os

from memvault_hooks.errors import MemvaultError

MARK_SECTION = "memvault"
MARK_KEY = "vault"
_LOCK_LINE = "/.memvault.lock"
# memvault's own machine-local files in a vault folder (lock, pending marker, state, caches).
_OWN_PREFIXES = (".memvault", ".last_sync")


class NotAVault(MemvaultError):
    """vault.path names something memvault did not make: refused, nothing written (exit 1)."""


def is_marked(path: str) -> bool:
    """Whether `<path>/.git/config` carries memvault's mark (read as text: no git process)."""
    try:
        with open(os.path.join(path, ".git", "config"), encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    section = ""
    for raw in text.splitlines():
        line = raw.strip().lower()
        if line.startswith("["):
            section = line.strip("[]").strip()
        elif section == MARK_SECTION and line.replace(" ", "").replace("\t", "") == f"{MARK_KEY}=true":
            return True
    return False


def mark(path: str) -> None:
    """Mark the repository at `path` as a memvault vault."""
    from memvault_hooks.vault.gitenv import run_git

    run_git(path, "config", f"{MARK_SECTION}.{MARK_KEY}", "true")


def _made_by_earlier_release(path: str) -> bool:
    git_dir = os.path.join(path, ".git")
    if os.path.islink(git_dir) or not os.path.isdir(git_dir):
        return False
    try:
        with open(os.path.join(git_dir, "info", "exclude"), encoding="utf-8", errors="replace") as f:
            if _LOCK_LINE not in f.read().splitlines():
                return False
    except OSError:
        return False
    from memvault_hooks.vault.gitenv import rev
    from memvault_hooks.vault.gitenv import run_git

    if rev(path, "HEAD") is None:
        return True  # no commit yet
    subject = run_git(path, "log", "-1", "--format=%s", "HEAD", check=False).stdout.decode(errors="replace")
    return subject.startswith("memvault: ")


def own_entry(name: str) -> bool:
    return name.startswith(_OWN_PREFIXES)


def check(path: str) -> None:
    """Raise NotAVault unless `path` is absent, empty (but for memvault's own files), or a
    vault memvault made. Called before anything is written there, the lock included."""
    if not os.path.lexists(path):
        return
    if os.path.islink(path) or not os.path.isdir(path):
        raise NotAVault(f"vault.path {path} is not a folder: memvault writes nothing there. "
                        "Point vault.path at a new or empty folder (or drop the key for the default)")
    if os.path.lexists(os.path.join(path, ".git")):
        if is_marked(path):
            return
        if _made_by_earlier_release(path):
            mark(path)
            return
        raise NotAVault(f"vault.path {path} is a git repository that memvault did not create: memvault never "
                        "adopts, resets, checks out, locks or writes into it. Point vault.path at a new or "
                        "empty folder (or drop the key for the default)")
    try:
        foreign = sorted(name for name in os.listdir(path) if not own_entry(name))
    except OSError as exc:
        raise NotAVault(f"vault.path {path} cannot be read: {exc.strerror}") from None
    if foreign:
        raise NotAVault(f"vault.path {path} is not empty and is not a vault (it holds {', '.join(foreign[:3])}): "
                        "memvault writes nothing there. Point vault.path at a new or empty folder "
                        "(or drop the key for the default)")
