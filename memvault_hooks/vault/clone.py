"""Cloning a vault from its remote (used by `recover`, and meant for `init --remote`).

The clone goes into a temporary folder beside `dest` and is renamed into place only once
it is complete and configured, so a failed or timed-out clone leaves nothing behind.
When `dest` already exists holding memvault's own files (the vault lock that `init`
holds while it clones), only the clone's `.git` is moved in.
It never prompts (`gitenv`), runs no hooks (`--template=`), and shares no object files
with a local remote (`--no-hardlinks`): the vault must survive damage to its remote.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from memvault_hooks import dirs
from memvault_hooks import urls
from memvault_hooks.errors import MemvaultError
from memvault_hooks.vault.gitenv import GitError
from memvault_hooks.vault.gitenv import run_git
from memvault_hooks.vault.vault import Vault


def is_empty_place(path: str, also: frozenset[str] = frozenset()) -> bool:
    """True when `path` is absent, an empty folder, or holds only memvault's machine-local
    files (and the names in `also`)."""
    if not os.path.lexists(path):
        return True
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    return all(name in also for name in Vault(path, "", "").foreign_entries())


def has_history(path: str) -> bool:
    """True when the git repository at `path` has any ref (any commit at all)."""
    proc = Vault(path, "", "").run("for-each-ref", "--count=1", check=False)
    return proc.returncode != 0 or bool(proc.stdout.strip())


def clone_vault(url: str, dest: str, branch: str, timeout: float) -> None:
    """Clone the vault at `url` into `dest` (absent or empty), on `branch`, within `timeout` s.

    An empty remote gives an empty vault whose branch is `branch`. Raises MemvaultError
    (exit 1) with git's reason; `dest` is then as it was."""
    dest = os.path.abspath(dest)
    url = urls.resolve(url)  # git would read a relative path from the clone's folder
    if not is_empty_place(dest):
        raise MemvaultError(f"cannot clone the vault into {dest}: it is not empty")
    parent = os.path.dirname(dest)
    os.makedirs(parent, mode=0o700, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(dest)}.clone-")
    try:
        try:
            run_git(parent, "clone", "--quiet", "--template=", "--no-hardlinks", "--origin", "origin",
                    "--", url, tmp, timeout=timeout)
        except GitError as exc:
            raise MemvaultError(f"cannot clone the vault from {url}: {exc.reason}") from None
        _check_out(tmp, url, branch)
        from memvault_hooks.vault import encrypted_remote

        if encrypted_remote.holds_encrypted_layout(tmp, "HEAD"):
            raise MemvaultError(f"cannot clone the vault from {url}: {encrypted_remote.ENCRYPTED_FIX}")
        vault = Vault(tmp, "", branch)
        vault.configure()
        os.chmod(tmp, 0o700)
        if os.path.isdir(dest):
            _move_in(tmp, dest)  # beside memvault's own files: the lock file (held) stays
        else:
            os.rename(tmp, dest)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    dirs.make_private_dir(dest)


def _check_out(path: str, url: str, branch: str) -> None:
    """Put the clone on `branch`: the remote's branch of that name, or unborn when the remote is empty."""
    vault = Vault(path, "", branch)
    if vault.rev(f"refs/remotes/origin/{branch}", peel=None) is not None:
        vault.git("checkout", "-q", "-B", branch, "--track", f"origin/{branch}")
        return
    others = vault.git("for-each-ref", "--format=%(refname:short)", "refs/remotes/origin/").decode().split()
    others = [name for name in others if name != "origin/HEAD"]
    if others:
        listed = ", ".join(name.removeprefix("origin/") for name in others)
        raise MemvaultError(f"the vault at {url} has no branch {branch!r} (it has: {listed}); "
                            "set vault.branch in .memvault.yaml")
    vault.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")  # an empty remote: start the branch


def _move_in(tmp: str, dest: str) -> None:
    """Move the clone's repository into `dest`, which holds only memvault's machine-local
    files (the vault lock among them, perhaps held by the caller), and check it out there.

    The rename of `.git` is the moment the vault appears; a marker makes the next run
    (`Vault.recover`) finish the checkout if this one dies right after it."""
    Vault(tmp, "", "").set_marker()
    os.rename(os.path.join(tmp, ".git"), os.path.join(dest, ".git"))
    vault = Vault(dest, "", "")
    if vault.head() is not None:
        vault.git("reset", "-q", "--hard", "HEAD")
    vault.clear_marker()
