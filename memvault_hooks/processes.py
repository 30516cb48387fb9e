"""Other processes, seen from /proc: is one still running, who is its parent, wait for it.

A hook's detached sync waits for the git command that fired the hook to return, so it
reads the memory files as the user left them (pre-commit restores its stash of unstaged
changes before git returns). Imported on the hook's path: only os and time.
"""
from __future__ import annotations

import os
import time

# How long a detached run waits for a git command to return before syncing anyway.
WAIT_LIMIT = 30.0


def stat_fields(pid: int) -> list[bytes] | None:
    """Fields 3.. of /proc/PID/stat (state, ppid, ...), or None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    fields = stat_fields(pid)
    if fields is not None:
        return bool(fields) and fields[0] != b"Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parent_of(pid: int) -> int | None:
    fields = stat_fields(pid)
    try:
        return int(fields[1]) if fields else None
    except (IndexError, ValueError):
        return None


def name_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""


def wait_for_exit(pid: int | None, timeout: float = WAIT_LIMIT) -> None:
    """Wait (bounded) until `pid` is gone; nothing to wait for when it is None or ours."""
    if not pid or pid <= 1 or pid == os.getpid():
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def any_named(names: tuple[str, ...]) -> bool | None:
    """Whether a process whose name is one of `names` runs (any user's); None without /proc."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    return any(entry.isdigit() and name_of(int(entry)) in names for entry in entries)


def holding(path: str) -> list[int]:
    """Live processes that have `path` open (Linux /proc; [] elsewhere)."""
    try:
        entries = os.listdir("/proc")
        target = os.stat(path)
    except OSError:
        return []
    found = []
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        folder = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(os.path.join(folder, fd))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                found.append(int(entry))
                break
    return found


def git_working_in(folder: str) -> list[int]:
    """Live git processes whose current folder is `folder` or below (Linux /proc)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    real = os.path.realpath(folder)
    found = []
    for entry in entries:
        if not entry.isdigit() or not name_of(int(entry)).startswith("git"):
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if (cwd == real or cwd.startswith(real.rstrip(os.sep) + os.sep)) and alive(int(entry)):
            found.append(int(entry))
    return found
