"""Where a stored path meets the disk: the one resolver every command uses.

A stored path (the state record's key, the path below `<vault>/<subdir>/`, a FILE
argument) is `rel` for a file inside source_dir, or `@name/rel` for a file of the source
`name` (the `sources` key, or a preset's place outside the project: `@claude-code/...`,
`@mcp-memory/...`), with `rel` relative to that source's dir. The symlink and hostile-file
rules of sources.py and safe_open.py hold per folder: a link that leads out of a source's
dir is never followed.

Imported by the hook's fast path: only `os` at import time, like sources.py.
"""
from __future__ import annotations

import os
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks.memory import sources
from memvault_hooks.memory.patterns import matches

if TYPE_CHECKING:
    from memvault_hooks.config import Config
    from memvault_hooks.memory.sources import Scan
    from memvault_hooks.memory.sources import Signature
    from memvault_hooks.ui.progress import Progress
    from collections.abc import Callable

    from memvault_hooks.vault.snapshot import Capture
    from memvault_hooks.vault.snapshot import Stored
    from memvault_hooks.vault.state import Record

    Root = tuple[str, str, tuple[str, ...]]


def roots(cfg: Config) -> list[Root]:
    """(prefix, dir, patterns) of source_dir (prefix '') and of every source ('@name/')."""
    return [("", cfg.source_dir, cfg.files), *cfg.sources]


def _shadowed(cfg: Config, rel: str) -> bool:
    """A file in source_dir whose path reads like a source's (`@notes/x`): left out, so a
    stored path always means one file."""
    return rel.startswith("@") and any(rel.startswith(prefix) for prefix, _, _ in cfg.sources)


def locate(cfg: Config, stored: str) -> tuple[str, str, tuple[str, ...]]:
    """(folder, path relative to it, that folder's patterns) of a stored path."""
    if stored.startswith("@"):
        fallback = None
        for prefix, folder, patterns in cfg.sources:
            if stored.startswith(prefix) and len(stored) > len(prefix):
                rel = stored[len(prefix):]
                if matches(rel, patterns):
                    return folder, rel, patterns
                if fallback is None:
                    fallback = (folder, rel, patterns)
        if fallback is not None:
            return fallback
    return cfg.source_dir, stored, cfg.files


def path_of(cfg: Config, stored: str) -> str:
    """The live file's path (not resolved: it may be a symlink)."""
    folder, rel, _ = locate(cfg, stored)
    return os.path.join(folder, *rel.split("/"))


def allowed(cfg: Config, stored: str) -> bool:
    """Whether `stored` is one the config names: a restore writes nothing else (a vault
    commit can come from a remote, and hold `.envrc` or `@notes/../../.bashrc`)."""
    folder, rel, patterns = locate(cfg, stored)
    if folder == cfg.source_dir and _shadowed(cfg, rel):
        return False
    return matches(rel, patterns)


def scan(cfg: Config) -> Scan:
    """Every present memory file, by stored path, with its stat signature; and the folders
    whose listing decided it (a source's folders by absolute path), for the stat cache."""
    present, expansion = sources.scan(cfg.source_dir, cfg.files)
    if not cfg.sources:
        return present, expansion
    for rel in [rel for rel in present if _shadowed(cfg, rel)]:
        del present[rel]
    for prefix, folder, patterns in cfg.sources:
        found, more = sources.scan(folder, patterns)
        for rel, sig in found.items():
            stored = prefix + rel
            if stored not in present:
                present[stored] = sig
                expansion.located[stored] = os.path.join(folder, *rel.split("/"))
        for rel, folder_sig in more.folders.items():
            expansion.folders.setdefault(os.path.join(folder, rel) if rel else folder, folder_sig)
        expansion.followed_link = expansion.followed_link or more.followed_link
    return present, expansion


def discover(cfg: Config) -> dict[str, Signature]:
    """Each present memory file (stored path) and its stat signature."""
    return scan(cfg)[0]


def open_live(cfg: Config, stored: str) -> int:
    """A read-only descriptor of the live file (safe_open's rules, within its own folder)."""
    from memvault_hooks.memory import safe_open

    folder, rel, _ = locate(cfg, stored)
    return safe_open.open_inside(folder, rel)


def live_blob_id(cfg: Config, stored: str) -> str:
    """The blob id a sync would store for the live file now (a database's: of a checked copy)."""
    from memvault_hooks.vault import dbcapture

    folder, rel, _ = locate(cfg, stored)
    return dbcapture.live_blob_id(folder, rel)


def current_blob(cfg: Config, record: Record, stored: str, sig: Signature) -> str | None:
    """The blob id of the live file now: the state record's when the file's stat still
    matches it (nothing read), else read; None when it cannot be read."""
    from memvault_hooks.vault import state

    entry = record["files"].get(stored)
    if state.entry_matches(entry, sig):
        return entry["blob"]
    try:
        return live_blob_id(cfg, stored)
    except OSError:
        return None


def capture(cfg: Config, stored: str, tmp_dir: str, validate: bool = True,
            progress: Progress | None = None, store: Callable[[str], Stored] | None = None) -> Capture:
    """snapshot.capture of the live file, named by its stored path."""
    from memvault_hooks.vault import snapshot

    folder, rel, _ = locate(cfg, stored)
    try:
        cap = snapshot.capture(folder, rel, tmp_dir, validate=validate, progress=progress, store=store)
    except snapshot.Unreadable as exc:
        if rel == stored:
            raise
        from memvault_hooks.ui.pathquote import quote

        text = str(exc)
        if text.startswith(quote(rel)):
            text = quote(stored) + text[len(quote(rel)):]
        raise snapshot.Unreadable(text) from None
    cap.rel = stored
    return cap

