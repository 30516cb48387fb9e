"""The `.last_sync` record: machine-local, never committed, written atomically.

It is a cache of what the vault holds: losing or corrupting it costs a re-hash of the
memory files (compared against the vault's own tree), never an error or a spurious commit.
That is why it is marshal data, written without fsync: for thousands of files it loads
and saves in ~2 ms each, where JSON took ~20 ms (and its import ~10 ms more).
"""
from __future__ import annotations

import marshal
import os
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks.atomic import write_atomic

if TYPE_CHECKING:  # the record's shape, for type checkers: the hook's path does without typing
    from typing import Any
    from typing import NotRequired
    from typing import TypeGuard
    from typing import TypedDict

    from memvault_hooks.memory.sources import Signature

    class Entry(TypedDict):
        """A memory file as last backed up (`files` in the record, by path)."""
        size: int
        mtime_ns: int
        ino: int
        blob: str                   # the blob id in the vault
        read_at_ns: int             # when it was read (racy-git: too close to mtime_ns re-reads it)
        missing: NotRequired[bool]  # gone from source_dir (deleted in the vault too)
        behind: NotRequired[bool]   # older than what the vault holds (behind.FLAG)

    class LastError(TypedDict):
        time: str
        trigger: str                # or "push"
        message: str

    class Record(TypedDict):
        """The `.last_sync` record: every key any module reads or writes."""
        version: int
        files: dict[str, Entry]
        last_sync: str | None       # the last successful sync (UTC, ISO 8601)
        last_commit: str | None     # the vault commit it made or found
        last_error: LastError | None
        push_pending: int           # commits the remote has yet to receive
        last_run: NotRequired[str]  # the last sync, successful or not
        last_push: NotRequired[str]
        subdir: NotRequired[str]    # vault.subdir the files were backed up under
        remote: NotRequired[str]    # remote_id of the vault.remote the branch was last pushed to ("" none)
        unpacked: NotRequired[list[int]]  # packing: loose bytes and objects since the last repack

STATE_NAME = ".last_sync"
# When a sync last found nothing to do: kept beside the record, not in it, so that such a
# run writes a few bytes instead of the whole record (and leaves the stat cache valid).
CHECKED_NAME = ".memvault-checked"
# A file modified this close to the moment it was read may change again within the same
# timestamp tick without its stat changing ("racy git"); such entries are always re-read.
RACY_NS = 2_000_000_000


def path_in(vault_path: str) -> str:
    return os.path.join(vault_path, STATE_NAME)


def empty() -> Record:
    return {"version": 1, "files": {}, "last_sync": None, "last_commit": None,
            "last_error": None, "push_pending": 0}


def load(vault_path: str) -> Record:
    """The record, or an empty one when it is missing or unreadable."""
    try:
        with open(path_in(vault_path), "rb") as f:
            data = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return empty()
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("files"), dict):
        return empty()
    record = empty()
    record.update(data)  # type: ignore[typeddict-item]  # a version 1 record, as checked
    return record


def save(vault_path: str, record: Record) -> None:
    write_atomic(path_in(vault_path), marshal.dumps(record))  # type: ignore[arg-type]  # str keys, plain values


def same_subdir(record: Record, subdir: str) -> bool:
    """Whether the record's files were backed up under `subdir` (a record from before the
    subdir was kept in it: yes)."""
    return record.get("subdir", subdir) == subdir


def remote_id(url: str | None) -> str:
    """A short stand-in for `vault.remote` (the record never holds the URL or its credentials)."""
    if not url:
        return ""
    import zlib  # only with a remote: the hook's no-change path of a local vault never loads it

    return f"{zlib.crc32(url.encode('utf-8', 'surrogateescape')):08x}"


def same_remote(record: Record, rid: str) -> bool:
    """Whether the branch was last pushed to the remote `rid` names, or there is no remote
    (a record from before the remote was kept in it: yes). A remote set or changed since
    then needs a push though no memory file changed."""
    return not rid or record.get("remote", rid) == rid


def entry_matches(entry: Entry | None, sig: Signature) -> TypeGuard[Entry]:
    """True when the record's entry has this stat and was not read in the racy window."""
    if entry is None:
        return False
    try:
        return (
            (entry["size"], entry["mtime_ns"], entry["ino"]) == sig
            and entry["read_at_ns"] - sig[1] > RACY_NS
            and not entry.get("missing")
        )
    except (KeyError, TypeError):
        return False


def make_entry(sig: Signature, blob: str, read_at_ns: int) -> Entry:
    return {"size": sig[0], "mtime_ns": sig[1], "ino": sig[2], "blob": blob, "read_at_ns": read_at_ns}


def unchanged(record: Record, present: dict[str, Signature]) -> bool:
    """True when every present file matches its entry and no entry's file has vanished."""
    files = record["files"]
    for rel, sig in present.items():
        if not entry_matches(files.get(rel), sig):
            return False
    return all(rel in present or entry.get("missing") for rel, entry in files.items())


def mark_checked(vault_path: str, when: str) -> None:
    """Record that a sync at `when` found nothing to back up (atomically)."""
    write_atomic(os.path.join(vault_path, CHECKED_NAME), when.encode())


def last_success(vault_path: str, record: Record) -> str | None:
    """The last successful sync: one that committed or found everything backed up."""
    last = record.get("last_sync")
    if not last or record.get("last_error"):
        return last  # type: ignore[no-any-return]
    try:
        with open(os.path.join(vault_path, CHECKED_NAME), encoding="ascii") as f:
            checked = f.read().strip()
    except (OSError, ValueError):
        return last  # type: ignore[no-any-return]
    return max(last, checked) if len(checked) == len(last) else last
