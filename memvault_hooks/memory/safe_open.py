"""Opening a memory file so that a swap between "is it inside source_dir?" and open()
cannot leak or hang.

Every component is opened from the folder before it (`dir_fd`) with O_NOFOLLOW, so no
symlink is followed by the open itself. A path with a symlink on the way is resolved
first; when its real location is inside source_dir, that location is opened the same
way, component by component, so a link swapped in meanwhile makes the open fail instead
of being followed. The file is opened O_NONBLOCK (a FIFO swapped in never blocks) and
must be a regular file by `fstat` of the descriptor itself.
"""
from __future__ import annotations

import errno
import os
import stat as stat_mod

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class NotAllowed(OSError):
    """The path leads outside source_dir, or is no regular file."""


def _walk(root_fd: int, parts: list[str]) -> int:
    fd = root_fd
    try:
        for name in parts[:-1]:
            if name in ("", ".", ".."):
                raise NotAllowed(errno.EPERM, f"{name!r} in a memory file's path")
            nxt = os.open(name, _DIR, dir_fd=fd)
            if fd != root_fd:
                os.close(fd)
            fd = nxt
        return os.open(parts[-1], _FILE, dir_fd=fd)
    finally:
        if fd != root_fd:
            os.close(fd)


def open_inside(source_dir: str, rel: str) -> int:
    """A read-only descriptor of the regular file `rel` inside source_dir (symlinks
    followed only while they stay inside); raises OSError (NotAllowed) otherwise."""
    real_root = os.path.realpath(source_dir)
    root_fd = os.open(real_root, _DIR)
    try:
        try:
            fd = _walk(root_fd, rel.split("/"))
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            real = os.path.realpath(os.path.join(real_root, *rel.split("/")))
            if not (real.startswith(real_root.rstrip(os.sep) + os.sep)):
                raise NotAllowed(errno.EPERM, "it leads outside source_dir (a symlink); not followed") from None
            fd = _walk(root_fd, os.path.relpath(real, real_root).split(os.sep))
    finally:
        os.close(root_fd)
    st = os.fstat(fd)
    if not stat_mod.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a FIFO" if stat_mod.S_ISFIFO(st.st_mode) else "a device" if (
            stat_mod.S_ISCHR(st.st_mode) or stat_mod.S_ISBLK(st.st_mode)) else "not a regular file"
        raise NotAllowed(errno.EPERM, f"it is {kind}, not a regular file; skipped")
    return fd


def live_blob_id(source_dir: str, rel: str) -> str:
    """git's blob id of the live memory file `rel`, read as a sync reads it (never a FIFO,
    never through a link that leads out of source_dir), streamed."""
    from memvault_hooks.history.blobs import digest_for

    fd = open_inside(source_dir, rel)
    with open(fd, "rb") as f:
        digest = digest_for(os.fstat(f.fileno()).st_size)
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()  # type: ignore[no-any-return]
