"""Which memory files exist under source_dir, and their stat signatures.

Imported by the hook's fast path: only `os` at import time (glob is loaded on demand).
"""
from __future__ import annotations

import os
import stat as stat_mod

# (size, mtime_ns, inode): what a cheap comparison against the state record uses.
Signature = tuple[int, int, int]

_MAGIC = frozenset("*?[")


def signature(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _candidates(source_dir: str, patterns: tuple[str, ...]) -> list[str]:
    """Relative paths (with '/') that the patterns name, in a stable order, no duplicates."""
    seen: dict[str, None] = {}
    for pattern in patterns:
        if _MAGIC.isdisjoint(pattern):
            seen.setdefault(os.path.normpath(pattern).replace(os.sep, "/"), None)
            continue
        import glob

        for rel in sorted(glob.glob(pattern, root_dir=source_dir, recursive=True)):
            seen.setdefault(os.path.normpath(rel).replace(os.sep, "/"), None)
    return list(seen)


def discover(source_dir: str, patterns: tuple[str, ...]) -> dict[str, Signature]:
    """Map each present memory file (relative path) to its stat signature.

    A file that is a symlink, or lies under a symlinked folder, counts only when its
    real location is inside source_dir: anything else is never followed.
    """
    found: dict[str, Signature] = {}
    real_root = os.path.realpath(source_dir)
    safe_dirs: dict[str, bool] = {}
    for rel in _candidates(source_dir, patterns):
        path = os.path.join(source_dir, rel)
        try:
            lst = os.lstat(path)
        except OSError:
            continue
        parent = os.path.dirname(rel)
        if parent:
            ok = safe_dirs.get(parent)
            if ok is None:
                ok = safe_dirs[parent] = _inside(os.path.realpath(os.path.join(source_dir, parent)), real_root)
            if not ok:
                continue
        if stat_mod.S_ISLNK(lst.st_mode):
            if not _inside(os.path.realpath(path), real_root):
                continue
            try:
                lst = os.stat(path)
            except OSError:
                continue
        if stat_mod.S_ISREG(lst.st_mode):
            found[rel] = signature(lst)
    return found


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)
