"""The git processes a run started, recorded where the next run finds them.

Each git that memvault starts leads a process group of its own (its children — the
`pack-objects` of a `repack`, an ssh — join it). While it runs, a file named after the
group, holding the id of the memvault process that waits for it, lies in a private
folder. A run killed with SIGKILL cannot remove its file; the next run (`reap`, under the
vault lock) finds the file of a dead owner and kills what is left of that group, so a
killed sync leaves no git working beside the next one. Imported by gitenv: only os.
"""
from __future__ import annotations

import os
import signal
import time

from memvault_hooks import dirs
from memvault_hooks import processes


def _folder() -> str | None:
    base = dirs.fast_cache_dir()
    return os.path.join(base, "git-children") if base is not None else None


def register(pgid: int) -> str | None:
    """Record a running git's process group (best effort); the record's path."""
    folder = _folder()
    if folder is None:
        return None
    path = os.path.join(folder, str(pgid))
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:
            dirs.make_private_dir(folder)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        return None
    return path


def unregister(path: str | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def members(pgid: int) -> list[int]:
    """Live processes of the group `pgid` (Linux /proc)."""
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = processes.stat_fields(int(entry))
        if fields and len(fields) > 2 and fields[0] != b"Z" and fields[2] == str(pgid).encode():
            found.append(int(entry))
    return found


def reap(wait: float = 5.0) -> list[int]:
    """Kill the git groups whose memvault owner died; the group ids killed."""
    folder = _folder()
    if folder is None:
        return []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    killed = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                owner = int(f.read().strip() or b"0")
            pgid = int(name)
        except (OSError, ValueError):
            unregister(path)
            continue
        if owner > 1 and processes.alive(owner):
            continue  # its run still waits for it
        group = members(pgid)
        # Only what is still a git's: a group id is never reused while any member lives,
        # and a group whose git exited long ago has no members left.
        if group and any(processes.name_of(pid).startswith("git") for pid in [pgid, *group]):
            try:
                os.killpg(pgid, signal.SIGKILL)
                killed.append(pgid)
            except OSError:
                pass
            deadline = time.monotonic() + wait
            while members(pgid) and time.monotonic() < deadline:
                time.sleep(0.01)
        unregister(path)
    return killed
