"""A memory file named on the command line, as its stored path: relative to source_dir,
or `@name/rel` for a file of a source (memory/places.py).

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


def _source_file(name: str) -> str:
    """`@notes/today.md` as stored (a file of the source `notes`, relative to its dir)."""
    rel = os.path.normpath(name).replace(os.sep, "/")
    head, _, rest = rel.partition("/")
    if len(head) < 2 or not rest or ".." in rest.split("/"):
        raise UsageError(f"{name!r} is not a source's file; name one as @SOURCE/PATH, such as @notes/today.md")
    return rel


def relative(cfg: Config, name: str) -> str:
    """The stored path of the memory file `name`: relative to source_dir, or `@name/rel`
    for a file of a source (given so, or by its path inside the source's dir)."""
    from memvault_hooks.memory import places

    if not name.strip():
        raise UsageError("an empty FILE name; give a memory file such as memory.json")
    if name.startswith("@"):
        return _source_file(name)
    candidate = os.path.abspath(os.path.expanduser(name))
    real = os.path.join(os.path.realpath(os.path.dirname(candidate)), os.path.basename(candidate))
    found = [rel for rel in (_under(candidate, cfg.source_dir) or _under(real, os.path.realpath(cfg.source_dir)),)
             if rel]
    for prefix, folder, _ in cfg.sources:
        rel = _under(candidate, folder) or _under(real, os.path.realpath(folder))
        if rel:
            found.append(prefix + rel)
    if found:
        return next((stored for stored in found if places.allowed(cfg, stored)), found[0])
    if os.path.isabs(name) or name.startswith("~"):
        raise UsageError(f"{name} is outside source_dir {cfg.source_dir} and every source's dir; "
                         "give a memory file inside one (a source's file as @SOURCE/PATH)")
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
