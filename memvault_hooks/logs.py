"""The run log and the error log: one line a run, files readable by their owner alone."""
from __future__ import annotations

import os
import sys
import time

from memvault_hooks import dirs


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _append(path: str, line: str) -> None:
    dirs.make_private_dir(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        os.write(fd, f"{utc_now()} [{os.getpid()}] {line}\n".encode("utf-8", errors="replace"))
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
