"""The stat cache: "nothing changed" for thousands of memory files without a walk.

`<vault>/.memvault-stat` (machine-local, never committed) holds, as of the last run that
found every memory file backed up: the stat of the state record, of every folder whose
listing decided which memory files exist (patterns.py), and of every memory file. While
all of them still match, nothing changed: no pattern matching, no state record to parse
(the cache is marshal data: it loads in a millisecond), one stat a file. Anything else — a racy timestamp, a symlink, an error in the record, a
record written since — leaves no cache, and the caller takes the long way.
"""
from __future__ import annotations

import marshal
import os
import time
from stat import S_ISREG
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks.memory import sources
from memvault_hooks.memory.patterns import Expansion
from memvault_hooks.vault import state
from memvault_hooks.atomic import write_atomic

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

    from memvault_hooks.memory.sources import Signature

NAME = ".memvault-stat"
UNKNOWN = (-1, -1, -1)


def path_in(vault_path: str) -> str:
    return os.path.join(vault_path, NAME)


def record_sig(vault_path: str) -> list[int] | None:
    try:
        st = os.stat(state.path_in(vault_path))
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _header(source_dir: str, patterns: tuple[str, ...] | list[str], record_sig: list[int] | None,
            subdir: str, remote: str, roots: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    # The subdir is part of it: after a change of `vault.subdir` nothing is backed up there yet;
    # so is the remote (state.remote_id): a new one has yet to receive the branch; and the
    # sources outside source_dir (places.py), whose files and folders are kept by absolute path.
    return (3, source_dir, tuple(patterns), tuple(record_sig) if record_sig else None, subdir, remote,
            tuple(roots))


class Cached(Expansion):
    """An expansion the stat cache answered (its folders unchanged), with what it knew:
    each file's cached stat (rel, size, mtime_ns, inode; an impossible one where the record
    did not vouch for it), the files with a SQLite `-wal` beside them, and `changed`, the
    files whose stat differs now. A sync adds to `changed` every file it reads again; the
    cache it leaves keeps the other files' entries as they were (5,000 comparisons fewer).
    `changed` is None when that no longer holds (`vouches`)."""

    def __init__(self, files: list[tuple[str, int, int, int]], walled: set[str],
                 record_sig: tuple[int, ...] | None) -> None:
        super().__init__()
        self.files = files
        self.walled = walled
        self.record_sig = record_sig   # the state record the cache vouched against
        self.changed: set[str] | None = set()

    def vouches(self, vault_path: str) -> bool:
        """Whether the record now is the one the cache vouched against (a sync that takes
        a scan made before it held the lock asks); when not, `changed` becomes None."""
        sig = record_sig(vault_path)
        if self.changed is not None and (tuple(sig) if sig else None) != self.record_sig:
            self.changed = None
        return self.changed is not None


def check(vault_path: str, source_dir: str, patterns: tuple[str, ...] | list[str],
          stop_at_change: bool = False, subdir: str | None = None,
          remote: str = "", roots: tuple[Any, ...] = ()) -> tuple[dict[str, Signature], Expansion, bool] | None:
    """(present files with their stat now, the expansion, whether none changed), or None.

    None means the cache cannot answer (missing, stale, a folder changed, a file is no
    longer a regular file): walk the patterns instead. With `stop_at_change` (the hook's
    question: did anything change?) the first changed file ends the check, and the present
    map and the expansion's paths are left empty.
    """
    started_ns = time.time_ns()
    try:
        with open(path_in(vault_path), "rb") as f:
            header, folders, files, located, walled = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(located, dict) or not isinstance(walled, set):
        return None
    expected = _header(source_dir, patterns, record_sig(vault_path), subdir or "", remote, roots)
    if (not isinstance(header, tuple) or len(header) != len(expected) or header[:4] != expected[:4]
            or header[5:] != expected[5:] or (subdir is not None and header[4] != expected[4])):
        return None
    expansion = Cached(files, walled, expected[3])
    expansion.started_ns = started_ns
    changed: dict[str, Signature] = {}
    try:
        for rel, mtime, ino in folders:
            # A source's folders are kept by absolute path (places.py).
            path = rel if rel[:1] == "/" else f"{source_dir}/{rel}" if rel else source_dir
            if mtime is None:
                if os.path.lexists(path):
                    return None
                expansion.folders[rel] = None
                continue
            st = os.stat(path)
            if st.st_mtime_ns != mtime or st.st_ino != ino:
                return None
            expansion.folders[rel] = (mtime, ino)
        fd = os.open(source_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            lstat = os.lstat
            where = located.get
            for rel, size, mtime, ino in files:
                # A source's file by its absolute path (which makes fstatat ignore dir_fd).
                st = lstat(where(rel, rel) if located else rel, dir_fd=fd)
                if st.st_mtime_ns != mtime or st.st_size != size or st.st_ino != ino or (walled and rel in walled):
                    path = where(rel, rel)
                    now = (st.st_size, st.st_mtime_ns, st.st_ino)
                    if rel in walled:  # a database with a write-ahead log: sources.with_wal
                        now = sources.with_wal(path if path[:1] == "/" else f"{source_dir}/{rel}", now)
                        if now == (size, mtime, ino):
                            continue
                    if not S_ISREG(st.st_mode):
                        return None
                    changed[rel] = now
                    if stop_at_change:
                        break
        finally:
            os.close(fd)
    except (OSError, ValueError, TypeError):
        return None
    if stop_at_change:
        return {}, expansion, not changed
    # The files that did not change have the stat the cache holds.
    present: dict[str, Signature] = {rel: (size, mtime, ino) for rel, size, mtime, ino in files}
    present.update(changed)
    expansion.paths = dict.fromkeys(present)
    expansion.located = located
    expansion.changed = set(changed)
    return present, expansion, not changed


def drop(vault_path: str) -> None:
    try:
        os.unlink(path_in(vault_path))
    except FileNotFoundError:
        pass


def save(vault_path: str, source_dir: str, patterns: tuple[str, ...] | list[str],
         present: dict[str, Signature], expansion: Expansion, record: state.Record,
         sig_of_record: list[int] | None, subdir: str = "", remote: str = "",
         roots: tuple[Any, ...] = ()) -> bool:
    """Write the cache when the record says everything present is backed up (best effort).

    `sig_of_record` is the record file's stat taken before `record` was read (or right
    after it was written, under the lock): a record written since makes the cache void.
    Returns whether a cache was written.
    """
    try:
        if sig_of_record is None or not _cacheable(present, expansion, record):
            drop(vault_path)
            return False
        folders = [(rel, *(sig or (None, None))) for rel, sig in expansion.folders.items()]
        entries = record["files"]
        cached = expansion if isinstance(expansion, Cached) else None
        # A file the record does not vouch for (read in git's racy window, or not read
        # at all) is kept with an impossible stat: it counts as changed until a sync
        # reads it again, exactly as the record's own comparison would say.
        if cached is not None and cached.changed is not None:  # only files read again are compared again
            again: Collection[str] = cached.changed
            files = [entry for entry in cached.files if entry[0] not in again]
        else:
            again = present.keys()
            files = []
        files += [(rel, *(present[rel] if state.entry_matches(entries.get(rel), present[rel]) else UNKNOWN))
                  for rel in again]
        # Files with a SQLite write-ahead log beside them: their signature covers it (a log
        # that appears or goes changes their folder, which voids the cache).
        located = expansion.located
        walled = cached.walled if cached is not None else {
            rel for rel in present if os.path.lexists(f"{located.get(rel) or f'{source_dir}/{rel}'}-wal")}
        data = marshal.dumps((_header(source_dir, patterns, sig_of_record, subdir, remote, roots), folders, files,
                              located, walled))
        write_atomic(path_in(vault_path), data)
        return True
    except OSError:
        return False


def _cacheable(present: dict[str, Signature], expansion: Expansion, record: state.Record) -> bool:
    if expansion.followed_link or record.get("last_error") or record.get("push_pending"):
        return False
    files = record["files"]
    if not all(rel in present or entry.get("missing") for rel, entry in files.items()):
        return False
    for sig in expansion.folders.values():
        if sig is not None and expansion.started_ns - sig[0] <= state.RACY_NS:
            return False
    return True
