"""The one lock every run takes (hooks, cron, manual), kept in the vault.

It is an flock(2) on `<vault>/.memvault.lock`: the kernel drops it when the holder dies,
so a run killed with SIGKILL never leaves it held. A hook can take it and hand the open
descriptor to the detached process that does the work (flock belongs to the open file,
which the child inherits).

Beside it, the *pending* marker: a run that finds the lock held leaves the marker and
goes; the holder checks for it after releasing and runs again, so no change is lost.
"""
from __future__ import annotations

import fcntl
import os
import time

LOCK_NAME = ".memvault.lock"
PENDING_NAME = ".memvault-pending"


class LockTimeout(Exception):
    pass


def _open(vault_path: str) -> int:
    from memvault_hooks.vault import vaultmark

    vaultmark.check(vault_path)  # never a lock in a repository or folder memvault did not make
    os.makedirs(vault_path, mode=0o700, exist_ok=True)
    return os.open(os.path.join(vault_path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)


def try_acquire(vault_path: str) -> int | None:
    """The locked descriptor, or None when another run holds the lock."""
    fd = _open(vault_path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_lock_of(fd: int, vault_path: str) -> bool:
    """Whether `fd` (handed over by a hook) is this vault's lock file: a hook that read the
    configuration before it changed locked another vault."""
    try:
        held, here = os.fstat(fd), os.stat(os.path.join(vault_path, LOCK_NAME))
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (here.st_dev, here.st_ino)


def acquire(vault_path: str, timeout: float) -> int:
    """Wait up to `timeout` seconds for the lock."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        fd = try_acquire(vault_path)
        if fd is not None:
            return fd
        if time.monotonic() >= deadline:
            raise LockTimeout(f"another memvault run has held the vault lock for over {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


class locked:  # noqa: N801 -- used as `with file_lock.locked(...)`, like a function
    """`with locked(vault, timeout) as fd:` holds the lock for the block (no contextlib
    import: a sync's start pays for every module it loads)."""

    def __init__(self, vault_path: str, timeout: float) -> None:
        self.vault_path = vault_path
        self.timeout = timeout
        self.fd = -1

    def __enter__(self) -> int:
        self.fd = acquire(self.vault_path, self.timeout)
        return self.fd

    def __exit__(self, *exc: object) -> None:
        release(self.fd)


def mark_pending(vault_path: str, trigger: str, after_pid: int | None = None) -> None:
    """Ask the run holding the lock (or the next one) to sync again, once the git
    command `after_pid` has returned."""
    from memvault_hooks.vault import vaultmark

    vaultmark.check(vault_path)
    os.makedirs(vault_path, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(vault_path, PENDING_NAME), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{trigger}\n{after_pid or ''}\n".encode())
    finally:
        os.close(fd)


def read_pending(vault_path: str) -> tuple[str, int | None] | None:
    """(trigger, pid to wait for) of the pending marker, left in place; None when absent."""
    try:
        with open(os.path.join(vault_path, PENDING_NAME), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    trigger = lines[0].strip() if lines else ""
    pid = lines[1].strip() if len(lines) > 1 else ""
    return trigger or "pending", int(pid) if pid.isdigit() else None


def take_pending(vault_path: str) -> tuple[str, int | None] | None:
    """(trigger, pid to wait for) a run left pending, the marker removed; None when absent."""
    pending = read_pending(vault_path)
    if pending is None:
        return None
    try:
        os.unlink(os.path.join(vault_path, PENDING_NAME))
    except FileNotFoundError:
        pass
    return pending
