"""Replace a file all at once: write a temp file beside it, then rename it over the old one,
so that a reader sees the old content or the new, never a part. Every file memvault writes
whole goes through here: the state record, the stat and config caches, hook scripts, the
trust record, alerts and restored memory files. Imports only os: the hook's no-change path
writes through it."""
from __future__ import annotations

import os
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

if TYPE_CHECKING:
    from collections.abc import Callable


def write_atomic(path: str, data: bytes | Callable[[Callable[[bytes], object]], None],
                 mode: int = 0o600, durable: bool = False) -> None:
    """Replace `path` with `data`: the bytes, or a function that hands them piece by piece
    to the writer it is given (a blob streamed from the vault: memory of one piece).

    The new file has exactly `mode` (the umask aside). `durable` syncs the file and its
    folder to disk before returning: for memory files; records and caches that can be
    rebuilt skip the cost. The temp file, `<path>.<pid>.tmp`, is created new (never a
    file or link already there) and removed when anything fails.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(tmp, flags, mode)
    except FileExistsError:  # left by a killed run that had our pid
        os.unlink(tmp)
        fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                data(f.write)
            os.fchmod(f.fileno(), mode)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        sync_folder(os.path.dirname(path) or ".")


def sync_folder(folder: str) -> None:
    """Make a rename in `folder` durable, where the file system lets a folder be synced."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
