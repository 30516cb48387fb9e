"""A memory file named on the command line, as its path relative to source_dir.

`memory.json`, `./memory.json`, `sub/notes.jsonl` are read relative to source_dir; a path
that (from the current folder, or absolute) lies inside source_dir is made relative to it.
Anything that escapes source_dir is a usage error (exit 2).
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from memvault_hooks.config import Config
from memvault_hooks.errors import UsageError


def _under(path: str, root: str) -> str | None:
    root = root.rstrip(os.sep) + os.sep
    return path[len(root):].replace(os.sep, "/") if path.startswith(root) else None


def relative(cfg: Config, name: str) -> str:
    if not name.strip():
        raise UsageError("an empty FILE name; give a memory file such as memory.json")
    candidate = os.path.abspath(os.path.expanduser(name))
    real = os.path.join(os.path.realpath(os.path.dirname(candidate)), os.path.basename(candidate))
    found = _under(candidate, cfg.source_dir) or _under(real, os.path.realpath(cfg.source_dir))
    if found:
        return found
    if os.path.isabs(name) or name.startswith("~"):
        raise UsageError(f"{name} is outside source_dir {cfg.source_dir}; give a memory file inside it")
    rel = os.path.normpath(name).replace(os.sep, "/")
    if rel == "." or rel.split("/")[0] == "..":
        raise UsageError(f"{name!r} is not a file inside source_dir {cfg.source_dir}")
    return rel


def did_you_mean(rel: str, known: Iterable[str]) -> str:
    """`; did you mean memory.json?` when a known memory file is spelt much like `rel`, else
    the known ones (the first five), else ''."""
    import difflib

    names = sorted(set(known) - {rel})
    close = difflib.get_close_matches(rel, names, n=1, cutoff=0.75)
    if not close:
        by_name = {name.rsplit("/", 1)[-1]: name for name in names}
        hits = difflib.get_close_matches(rel.rsplit("/", 1)[-1], list(by_name), n=1, cutoff=0.75)
        close = [by_name[hit] for hit in hits]
    if close:
        return f"; did you mean {close[0]}?"
    if names:  # nothing alike: name what there is, so the next command can use one
        return f"; the memory files it knows: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}"
    return ""
