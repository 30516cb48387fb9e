"""Which memory files exist under source_dir, and their stat signatures.

Imported by the hook's fast path: only `os` at import time (fnmatch is loaded on demand).
"""
from __future__ import annotations

import os
import stat as stat_mod

from memvault_hooks.memory.patterns import Expansion
from memvault_hooks.memory.patterns import expand

# (size, mtime_ns, inode): what a cheap comparison against the state record uses.
Signature = tuple[int, int, int]
# One look at the memory files: each present one's signature, and how the patterns were expanded.
Scan = tuple[dict[str, Signature], Expansion]


def signature(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def with_wal(path: str, sig: Signature) -> Signature:
    """A file's signature that covers its SQLite write-ahead log too (`<path>-wal`, when
    there is one): a WAL database's committed rows land there first, its own stat unchanged.
    The log's size is added and the later of the two mtimes taken: a commit changes one."""
    try:
        wal = os.stat(path + "-wal")
    except OSError:
        return sig
    return (sig[0] + wal.st_size, max(sig[1], wal.st_mtime_ns), sig[2])


def discover(source_dir: str, patterns: tuple[str, ...]) -> dict[str, Signature]:
    """Map each present memory file (relative path) to its stat signature."""
    return scan(source_dir, patterns)[0]


def scan(source_dir: str, patterns: tuple[str, ...]) -> Scan:
    """Each present memory file's stat signature, and how the patterns were expanded.

    A file that is a symlink, or lies under a symlinked folder, counts only when its
    real location is inside source_dir: anything else is never followed.
    """
    found: dict[str, Signature] = {}
    real_root = os.path.realpath(source_dir)
    safe_dirs: dict[str, bool] = {}
    expansion = expand(source_dir, patterns)
    root = source_dir.rstrip(os.sep) + os.sep
    for rel in expansion.paths:
        path = root + rel
        try:
            lst = os.lstat(path)
        except OSError:
            continue
        parent = rel.rpartition("/")[0]
        if parent:
            ok = safe_dirs.get(parent)
            if ok is None:
                ok = safe_dirs[parent] = inside(os.path.realpath(os.path.join(source_dir, parent)), real_root)
            if not ok:
                continue
        if stat_mod.S_ISLNK(lst.st_mode):
            expansion.followed_link = True
            if not inside(os.path.realpath(path), real_root):
                continue
            try:
                lst = os.stat(path)
            except OSError:
                continue
        if stat_mod.S_ISREG(lst.st_mode):
            found[rel] = with_wal(path, signature(lst))
        elif not stat_mod.S_ISDIR(lst.st_mode):
            # A FIFO, device or socket: listed, so that reading it is tried (never blocks:
            # safe_open) and reported, not silently passed over.
            found[rel] = (-1, lst.st_mtime_ns, lst.st_ino)
    return found, expansion


def inside(real: str, real_root: str) -> bool:
    """Whether the real path `real` is `real_root` or lies below it (both already resolved)."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def within(child: str, parent: str) -> bool:
    """Whether the path `child` is `parent` or lies below it, both resolved (links followed)."""
    return inside(os.path.realpath(child), os.path.realpath(parent))


def none_found(source_dir: str, patterns: tuple[str, ...], config_file: str | None) -> str:
    """What to say when no pattern matches any file: what was looked for, where, and the fix."""
    where = config_file or "a .memvault.yaml at the project's root (`memvault init` writes one)"
    return (f"no memory file found in {source_dir} (looked for: {', '.join(patterns)}); "
            f"list your agents' memory files under `files` in {where}")
