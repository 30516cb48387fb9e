"""SQLite databases among the memory files: consistent copies, who writes, safe replacement.

A database that its program writes cannot be copied byte by byte: the newest rows may sit
in its `-wal` file, and a copy taken mid-write is torn. Here:
- `is_sqlite(path or header bytes)` and `is_database(rel, path)` (SPEC: `.db`, `.sqlite`,
  `.sqlite3`, or any file with SQLite's header);
- `copy(path, dest)` takes a consistent copy through SQLite's online backup API with the
  source opened read-only (`file:...?mode=ro`), so it holds every committed row, WAL
  included, and nothing uncommitted; the copy must pass `PRAGMA quick_check`; a lock held
  longer than the timeout, or a copy that fails its check, is retried a few times and then
  raised as `DatabaseProblem` (what snapshot.Unreadable is for a JSON file: the last good
  version stays, the event is logged, the sync exits 1 and the next run tries again);
- `writers(path)` names processes that hold the database open for writing;
- `replace(path, new_copy)` puts a copy in place for restore: refuses while another process
  holds it open for writing, removes the stale `-wal`, `-shm` and `-journal` (which SQLite
  would otherwise replay into the new file), and renames the new file in atomically.
Rows are counted and compared by sqlite_rows.py.

Where it is wired (vault/dbcapture.py owns the sync's side):
- snapshot.capture: when `is_database(rel, path)`, call `copy(path, tmp_path)` instead of
  the byte copy (then hash the copy as usual); `DatabaseProblem` becomes `Unreadable`.
- state / statcache (the no-change path): a WAL database's committed rows land in its
  `-wal` first, with the main file's stat unchanged; compare `changed_since(path, sig)`
  against the stored `signature(path)`, which covers both files. (The no-change path does
  not import sqlite3: sources.with_wal folds the `-wal`'s stat into the file's own.)
- restorer: for a database, `writers(target)` before anything is written (a non-empty list
  is a runtime failure naming them), and `replace(target, tmp_copy)` instead of
  write_atomic.
Copies are left in rollback-journal mode (one self-contained file: reading it never
creates `-wal`/`-shm` beside it in the vault); the owning program turns WAL back on when it
opens a restored database, as such programs do on every start.
"""
from __future__ import annotations

import os
import stat as stat_mod
import time
from typing import TYPE_CHECKING

from memvault_hooks.atomic import sync_folder

if TYPE_CHECKING:
    import sqlite3

HEADER = b"SQLite format 3\x00"
SUFFIXES = (".db", ".sqlite", ".sqlite3")
SIDE_FILES = ("-wal", "-shm", "-journal")
LOCK_TIMEOUT = float(os.environ.get("MEMVAULT_SQLITE_LOCK_TIMEOUT", "5"))  # seconds a copy waits for a writer's lock, each attempt
RETRY_DELAYS = (0.1, 0.3, 0.6)   # pauses between attempts after a failed copy


class DatabaseProblem(Exception):
    """A consistent copy could not be taken (locked too long, or it fails its check)."""


class DatabaseInUse(DatabaseProblem):
    """Another process holds the database open for writing."""


class _Busy(Exception):
    """The source stayed locked through the busy timeout (ends Connection.backup's retries)."""


_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def _stop_if_busy(status: int, remaining: int, total: int) -> None:
    # Connection.backup retries a busy step forever; each step already waited the busy
    # timeout, so one busy step is enough to give up on this attempt.
    if status in (_SQLITE_BUSY, _SQLITE_LOCKED):
        raise _Busy()


def is_sqlite(source: str | bytes | os.PathLike[str]) -> bool:
    """Whether a file (a path) or its first bytes start with SQLite's header."""
    if isinstance(source, bytes):
        return source.startswith(HEADER)
    try:
        with open(source, "rb") as f:
            return f.read(len(HEADER)) == HEADER
    except OSError:
        return False


def is_database(rel: str, path: str | None = None) -> bool:
    """A memory file to treat as a database: by its ending, else by its header."""
    if rel.lower().endswith(SUFFIXES):
        return True
    return path is not None and is_sqlite(path)


def uri(path: str, **params: str) -> str:
    """A `file:` URI for sqlite3.connect(..., uri=True), e.g. uri(path, mode="ro")."""
    import pathlib  # (not at the top: a sync of JSON files only asks is_database)

    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{pathlib.Path(os.path.abspath(path)).as_uri()}?{query}"


def _wal_mode(path: str) -> bool:
    """Whether the file's header marks it as a WAL database (bytes 18 and 19 are 2)."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def _signature(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def signature(path: str) -> tuple[int, int, int, int, int]:
    """(size, mtime_ns, inode) of the database and (size, mtime_ns) of its `-wal` (0, 0 when
    absent): what changes when a row is committed, in either journal mode."""
    st = os.stat(path)
    try:
        wal = os.stat(path + "-wal")
        wal_sig = (wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        wal_sig = (0, 0)
    return (st.st_size, st.st_mtime_ns, st.st_ino, *wal_sig)


def changed_since(path: str, sig: tuple[int, ...]) -> bool:
    try:
        return signature(path) != tuple(sig)
    except OSError:
        return True


def _open_source(path: str, timeout: float) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection, and whether it read the file as immutable.

    A WAL database that nobody has open (no `-wal`, no `-shm`) is read as immutable: a
    read-only connection would otherwise create both files beside it and leave them
    there. Such a read is checked for stability by its caller."""
    import sqlite3  # not at the top: a sync that meets no database never loads it
    immutable = _wal_mode(path) and not any(os.path.exists(path + s) for s in ("-wal", "-shm"))
    params = {"mode": "ro", "immutable": "1"} if immutable else {"mode": "ro"}
    return sqlite3.connect(uri(path, **params), uri=True, timeout=timeout), immutable


def _copy_once(path: str, dest: str, timeout: float) -> str | None:
    """One attempt: None when `dest` holds a checked copy, else what went wrong."""
    import sqlite3  # not at the top: a sync that meets no database never loads it
    before = _signature(path)
    if before is None:
        raise FileNotFoundError(path)
    if not stat_mod.S_ISREG(os.stat(path).st_mode):
        return "not a regular file"
    src, immutable = _open_source(path, timeout)
    try:
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst, progress=_stop_if_busy)
            dst.execute("PRAGMA journal_mode=DELETE")
            checked = dst.execute("PRAGMA quick_check").fetchall()
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    except _Busy:
        return "locked by another program"
    finally:
        src.close()
    if immutable and (_signature(path) != before or os.path.exists(path + "-wal")):
        return "it was written while being read"
    if checked != [("ok",)]:
        return "the copy fails PRAGMA quick_check: " + "; ".join(str(row[0]) for row in checked[:3])
    return None


def copy(path: str, dest: str, timeout: float = LOCK_TIMEOUT,
         delays: tuple[float, ...] = RETRY_DELAYS) -> None:
    """Write a consistent, checked copy of the database at `path` into `dest` (replaced).

    Raises DatabaseProblem after the last attempt fails, FileNotFoundError when `path`
    is gone. `dest` is left absent on failure."""
    reason = "unknown"
    for delay in (*delays, None):
        _remove(dest)
        try:
            reason = _copy_once(path, dest, timeout) or ""
        except BaseException:
            _remove(dest)
            raise
        if not reason:
            return
        _remove(dest)
        if delay is not None:
            time.sleep(delay)
    if "locked" in reason or "busy" in reason:
        reason += (f" for more than {timeout:g} s at each of {len(delays) + 1} attempts; "
                   f"kept the last good version, the next run tries again")
    else:
        reason += "; kept the last good version"
    raise DatabaseProblem(f"{os.path.basename(path)}: {reason}")


def _remove(path: str) -> None:
    for suffix in ("", *SIDE_FILES):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


# ---- who writes it, and replacing it ---------------------------------------------------

class Writer:
    """A process that holds a database open for writing (a plain class: a NamedTuple costs
    a sync ~1 ms at start)."""

    def __init__(self, pid: int | None, name: str) -> None:
        self.pid = pid            # None: a lock is held, by a process we cannot see
        self.name = name

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})" if self.pid is not None else self.name


def _proc_writers(path: str) -> list[Writer]:
    """Processes (visible to us, not this one) with the file or its `-wal` open for writing."""
    from memvault_hooks import processes

    real = os.path.realpath(path)
    targets = {real, real + "-wal", real + "-journal"}
    found: dict[int, Writer] = {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == os.getpid():
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") not in targets:
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    flags = next((int(line.split()[1], 8) for line in f if line.startswith("flags:")), 0)
            except (OSError, ValueError):
                continue
            if flags & os.O_ACCMODE != os.O_RDONLY:
                found[pid] = Writer(pid, processes.name_of(pid) or "?")
    return list(found.values())


def _lock_probe(path: str) -> bool:
    """Whether some connection holds the database's write lock right now: `BEGIN
    IMMEDIATE` with no wait, rolled back at once (nothing is written)."""
    import sqlite3  # not at the top: a sync that meets no database never loads it
    try:
        conn = sqlite3.connect(uri(path, mode="rw"), uri=True, timeout=0, isolation_level=None)
    except sqlite3.DatabaseError:
        return False
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc) or "busy" in str(exc)
    finally:
        conn.close()


def writers(path: str) -> list[Writer]:
    """Who holds the database at `path` open for writing (empty: nobody, or no database).

    Processes are named from /proc (those of other users stay hidden); a write lock held
    by a process we cannot see is reported without a name."""
    if not os.path.exists(path):
        return []
    found = _proc_writers(path)
    if not found and _lock_probe(path):
        found.append(Writer(None, "a process holding its write lock"))
    return found


def replace(path: str, new_copy: str) -> None:
    """Put the database `new_copy` (a file on the same file system) in place of `path`.

    Refuses (DatabaseInUse, naming them) while another process holds `path` open for
    writing. Otherwise removes the stale `-wal`, `-shm` and `-journal` first (SQLite
    would replay a left-over log into the new file), then renames the copy in, keeping
    the old file's mode, and syncs the folder."""
    busy = writers(path)
    if busy:
        raise DatabaseInUse(f"{path} is open for writing by {', '.join(map(str, busy))}; "
                            f"quit it and run the restore again")
    try:
        mode = stat_mod.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    if mode is not None:
        os.chmod(new_copy, mode)
    with open(new_copy, "rb+") as f:
        os.fsync(f.fileno())
    for suffix in SIDE_FILES:
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    os.replace(new_copy, path)
    sync_folder(os.path.dirname(os.path.abspath(path)))
