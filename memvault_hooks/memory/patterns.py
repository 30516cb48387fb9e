"""Expanding the `files` patterns (names, `*`, `?`, `[...]`, `**`) under source_dir.

It follows glob's rules (`recursive=True`: `**` is any number of folders; names starting
with a dot match only a pattern that starts with a dot) and also returns every folder
whose listing decided the answer. A folder's mtime changes whenever an entry is added,
removed or renamed in it, so while those folders are unchanged the answer is too: the
stat cache (statcache.py) uses that to skip the walk on the hook's no-change path.
"""
from __future__ import annotations

import os
import time

_MAGIC = frozenset("*?[")


def is_magic(part: str) -> bool:
    return not _MAGIC.isdisjoint(part)


class Expansion:
    def __init__(self) -> None:
        self.paths: dict[str, None] = {}      # relative paths, '/'-separated, in order
        # Folders listed or looked into ('' = source_dir): (mtime_ns, inode) taken before
        # the listing, or None when the folder did not exist.
        self.folders: dict[str, tuple[int, int] | None] = {}
        self.followed_link = False            # a symlinked folder was walked through
        self.started_ns = time.time_ns()      # when the walk began (for racy folder times)
        self.link_targets: set[tuple[int, int]] = set()
        # Files of sources outside source_dir (places.py): stored path ('@name/rel') -> absolute
        # path; their folders are keyed by absolute path in `folders`.
        self.located: dict[str, str] = {}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def folder_sig(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ino)


def _note(root: str, prefix: str, out: Expansion) -> None:
    if prefix not in out.folders:
        out.folders[prefix] = folder_sig(os.path.join(root, prefix) if prefix else root)


def _entries(root: str, prefix: str, out: Expansion) -> list[tuple[str, bool, bool]]:
    """(name, is_dir, is_link) of a folder's entries; records the folder first."""
    _note(root, prefix, out)
    try:
        with os.scandir(os.path.join(root, prefix) if prefix else root) as it:
            result = []
            for entry in it:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                result.append((entry.name, is_dir, entry.is_symlink()))
            return result
    except OSError:
        return []


def _walk(root: str, prefix: str, out: Expansion, with_files: bool) -> list[str]:
    """`prefix` and every non-hidden folder below it (and their files when `with_files`)."""
    found = [prefix]
    for name, is_dir, is_link in sorted(_entries(root, prefix, out)):
        if name.startswith("."):
            continue
        path = _join(prefix, name)
        if is_dir:
            if is_link:
                out.followed_link = True
                try:
                    st = os.stat(os.path.join(root, path))
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in out.link_targets:
                    continue  # a symlink loop, or a folder already walked through a link
                out.link_targets.add((st.st_dev, st.st_ino))
            found += _walk(root, path, out, with_files)
        elif with_files:
            found.append(path)
    return found


def expand(root: str, patterns: tuple[str, ...]) -> Expansion:
    """The paths the patterns name (existing or not for plain names), and the folders read."""
    import fnmatch
    import re

    out = Expansion()
    for pattern in patterns:
        normal = os.path.normpath(pattern).replace(os.sep, "/")
        if not is_magic(normal):
            parent = normal.rpartition("/")[0]
            _note(root, parent, out)
            out.paths.setdefault(normal, None)
            continue
        parts = normal.split("/")
        current = [""]
        matched: list[str] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            following: list[str] = []
            for prefix in current:
                if part == "**":
                    walked = _walk(root, prefix, out, with_files=last)
                    following += walked if not last else walked[1:]
                elif not is_magic(part):
                    _note(root, prefix, out)
                    following.append(_join(prefix, part))
                else:
                    hidden_ok = part.startswith(".")
                    match = re.compile(fnmatch.translate(part)).match
                    for name, is_dir, is_link in sorted(_entries(root, prefix, out)):
                        if (last or is_dir) and (hidden_ok or not name.startswith(".")) \
                                and match(name):
                            following.append(_join(prefix, name))
                            if is_link and is_dir and not last:
                                out.followed_link = True
            current = list(dict.fromkeys(following))
            if last:
                matched = current
        for rel in sorted(matched):
            out.paths.setdefault(rel, None)
    return out


def matches(rel: str, patterns: tuple[str, ...]) -> bool:
    """Whether the '/'-separated path `rel` is one the patterns name, by the rules `expand`
    follows (what restore may write: a vault tree from elsewhere is not trusted)."""
    import fnmatch

    names = rel.split("/")
    if any(name in ("", ".", "..") for name in names):
        return False

    def match(parts: list[str], names: list[str]) -> bool:
        if not parts:
            return not names
        part = parts[0]
        if part == "**":
            if len(parts) == 1:  # `**` last: files at any depth below, none hidden on the way
                return bool(names) and not any(n.startswith(".") for n in names)
            return any(match(parts[1:], names[i:]) for i in range(len(names))
                       if not any(n.startswith(".") for n in names[:i]))
        if not names:
            return False
        name = names[0]
        if not is_magic(part):
            ok = name == part
        else:
            ok = (part.startswith(".") or not name.startswith(".")) and fnmatch.fnmatchcase(name, part)
        return ok and match(parts[1:], names[1:])

    for pattern in patterns:
        normal = os.path.normpath(pattern).replace(os.sep, "/")
        if match(normal.split("/"), names):
            return True
    return False
