"""Capturing a SQLite database among the memory files (SPEC "Presets and sources").

A database is copied through SQLite's online backup API (memory/sqlite_store.copy): the
copy holds every committed row, those still in the `-wal` included, is consistent while
its program writes, and passes `PRAGMA quick_check`. A copy of an unchanged database is
byte for byte the same (the backup API copies its pages as they are), so an unchanged
database makes no commit. The stat signature covers the `-wal` (sources.with_wal).
"""
from __future__ import annotations

import os
import tempfile

from memvault_hooks.history import blobs
from memvault_hooks.memory import safe_open
from memvault_hooks.memory import sources
from memvault_hooks.memory import sqlite_store
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.vault.snapshot import Capture
from memvault_hooks.vault.snapshot import Unreadable
from memvault_hooks.vault.snapshot import reading


def is_database(source_dir: str, rel: str) -> bool:
    """A memory file to copy as a database: by its ending, else by SQLite's header (read as
    a sync reads: never through a link that leads out, never blocking on a FIFO)."""
    if sqlite_store.is_database(rel):
        return True
    try:
        fd = safe_open.open_inside(source_dir, rel)
    except OSError:
        return False
    try:
        return sqlite_store.is_sqlite(os.pread(fd, len(sqlite_store.HEADER), 0))
    except OSError:
        return False
    finally:
        os.close(fd)


def capture(source_dir: str, rel: str, tmp_dir: str) -> Capture:
    """A checked copy of the database `rel` in tmp_dir; Unreadable when none can be taken
    (locked longer than the lock timeout at every attempt, or failing its check)."""
    path = os.path.join(source_dir, *rel.split("/"))
    with reading(rel):
        fd = safe_open.open_inside(source_dir, rel)  # a regular file inside source_dir
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
    sig = sources.with_wal(path, sources.signature(st))  # before the copy: a later write is seen next time
    fd, tmp_path = tempfile.mkstemp(dir=tmp_dir, prefix="capture-", suffix=".db")
    os.close(fd)
    with reading(rel):
        try:
            sqlite_store.copy(path, tmp_path)
        except sqlite_store.DatabaseProblem as exc:
            raise Unreadable(f"{quote(rel)}: a SQLite database: {_reason(exc)}") from None
    return Capture(rel, tmp_path, blobs.blob_id(tmp_path), sig, st.st_mode)


def _reason(exc: Exception) -> str:
    text = str(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep else text  # without the file's base name (the path is said first)


def live_blob_id(source_dir: str, rel: str) -> str:
    """The blob id a sync would store for the live memory file `rel` now: of a database,
    that of a checked copy (its bytes when none can be taken); else of its bytes."""
    if is_database(source_dir, rel):
        with tempfile.TemporaryDirectory(prefix="memvault-db-") as tmp:
            try:
                return capture(source_dir, rel, tmp).blob
            except Unreadable:
                pass  # a sync would not take it either: its bytes stand in
    return safe_open.live_blob_id(source_dir, rel)


def problem(path: str) -> str | None:
    """Why the database file at `path` is not a valid one (`PRAGMA quick_check`), or None."""
    import sqlite3

    try:
        conn = sqlite3.connect(sqlite_store.uri(path, mode="ro"), uri=True)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"not a valid SQLite database: {exc}"
    if rows != [("ok",)]:
        return "fails PRAGMA quick_check: " + "; ".join(str(row[0]) for row in rows[:3])
    return None
