"""The run log and the error log: one line a run, files readable by their owner alone.

Each is bounded: past MAX_BYTES it becomes `<file>.1` (replacing the older one) and a new
file starts, as `logging.handlers.RotatingFileHandler` would with one backup, but with a
size check and `os.replace` only: this module is on the hook's path.
"""
from __future__ import annotations

import os
import sys
import time

from memvault_hooks import dirs
from memvault_hooks import urls


def utc_now(at: float | None = None) -> str:
    """`2026-11-26T12:34:56Z`, the one way memvault writes a time: now, or `at` (epoch seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


MAX_BYTES = 1 << 20


def _open(path: str) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    st = os.fstat(fd)
    if st.st_size < MAX_BYTES:
        return fd
    try:
        if os.stat(path).st_ino == st.st_ino:  # not rotated meanwhile by another run
            os.replace(path, f"{path}.1")
    except OSError:
        return fd  # keep appending rather than lose the line
    os.close(fd)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def _append(path: str, line: str) -> None:
    dirs.make_private_dir(os.path.dirname(path))
    fd = _open(path)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        os.write(fd, f"{utc_now()} [{os.getpid()}] {urls.mask(line)}\n".encode("utf-8", errors="replace"))
    finally:
        os.close(fd)


def log(log_file: str, line: str) -> None:
    """Append a line; a log that cannot be written is said on stderr, never fatal."""
    try:
        _append(log_file, line)
    except OSError as exc:
        sys.stderr.write(f"memvault: cannot write the log {log_file}: {exc.strerror}\n")


def error(error_log: str, line: str) -> None:
    log(error_log, f"ERROR {line}")
