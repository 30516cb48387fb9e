"""Cloning a vault from its remote (`init --remote`, `recover --from`).

The clone is made aside, in `<dest>/.memvault-tmp/`, and its `.git` moved into place in
one rename, so a killed clone never leaves a half vault: until the rename `dest` holds
no vault; after it, a marker makes the next run (`remote.recover`) check the files out
if this one died before doing so. Time-bounded and prompt-free like every network call.
"""
from __future__ import annotations

import os
import shutil

from memvault_hooks import dirs
from memvault_hooks.errors import MemvaultError
from memvault_hooks.gitenv import run_git
from memvault_hooks.vault import TMP_NAME
from memvault_hooks.vault import Vault

# Same name as remote.RESET_MARKER: "index and work tree must be put back on HEAD".
RESET_MARKER = "memvault-reset-worktree"


def remote_has_branch(url: str, branch: str, timeout: float, cwd: str) -> bool:
    """True when `url` holds `branch`; MemvaultError (GitError) when it cannot be reached."""
    proc = run_git(cwd, "ls-remote", "--exit-code", url, f"refs/heads/{branch}", timeout=timeout, check=False)
    if proc.returncode == 0:
        return True
    if proc.returncode == 2:
        return False
    detail = proc.stderr.decode(errors="replace").strip().splitlines()
    fatal = [line for line in detail if line.startswith(("fatal:", "error:"))]
    raise MemvaultError(f"cannot reach {url}: {(fatal or detail or [f'git exited {proc.returncode}'])[0]}")


def clone_vault(url: str, dest: str, branch: str, timeout: float) -> bool:
    """Clone the vault at `url` (its `branch`) into `dest`, with `origin` = `url`.

    Returns True when cloned, False when the remote answers but holds no `branch` (an
    empty repository: nothing to clone, `dest` untouched). Raises MemvaultError when the
    remote cannot be reached, or when `dest` already holds a vault. `dest` may exist
    (holding memvault's own lock file). Call under the vault lock.
    """
    dirs.make_private_dir(dest)
    if os.path.exists(os.path.join(dest, ".git")):
        raise MemvaultError(f"{dest} already holds a vault; not cloning {url} over it")
    if not remote_has_branch(url, branch, timeout, dest):
        return False
    dirs.make_private_dir(os.path.join(dest, TMP_NAME))
    aside = os.path.join(dest, TMP_NAME, f"clone-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    try:
        run_git(dest, "clone", "--quiet", "--no-checkout", "--single-branch", "--no-tags", "--template=",
                "--origin", "origin", "--branch", branch, url, aside, timeout=timeout)
        open(os.path.join(aside, ".git", RESET_MARKER), "w").close()
        os.rename(os.path.join(aside, ".git"), os.path.join(dest, ".git"))
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    vault = Vault(dest, "", branch)
    vault.configure()
    vault.git("reset", "-q", "--hard", "HEAD")
    os.unlink(os.path.join(dest, ".git", RESET_MARKER))
    return True
