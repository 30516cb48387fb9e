"""Stable reads: copy a memory file aside while hashing it, and only trust a copy that
nobody wrote to during the read and that is valid for its format."""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from typing import Callable
from typing import Protocol

from memvault_hooks.history import blobs
from memvault_hooks.memory import formats
from memvault_hooks.memory import safe_open
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.progress import Progress
from memvault_hooks.memory.sources import Signature
from memvault_hooks.memory.sources import signature

CHUNK = 1 << 20
# Pauses between attempts: a writer caught mid-write gets about a second to finish.
RETRY_DELAYS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
# A copy this large is handed to git (`store`) before it is validated: git compresses it on
# one core while this process validates it on the other.
STORE_EARLY_ABOVE = 16 << 20


class Stored(Protocol):
    """A copy being written into the vault's object store meanwhile."""

    def result(self) -> str | None: ...   # the blob id git wrote, or None when it failed

    def cancel(self) -> None: ...


class Capture:
    """A stable copy of one memory file."""

    __slots__ = ("rel", "tmp_path", "blob", "sig", "mode", "stored")

    def __init__(self, rel: str, tmp_path: str, blob: str, sig: Signature, mode: int,
                 stored: bool = False) -> None:
        self.rel = rel
        self.tmp_path = tmp_path    # the copy, on the vault's file system, ready to be renamed in place
        self.blob = blob            # git's blob id of the content
        self.sig = sig              # the live file's stat when it was read
        self.mode = mode
        self.stored = stored        # the vault's object store holds the blob already


class Unreadable(Exception):
    """The file could not be captured: gone, unstable, or invalid for its format."""


@contextlib.contextmanager
def reading(rel: str) -> Iterator[None]:
    """Reading `rel`: what goes wrong becomes Unreadable, naming the file and the cause."""
    try:
        yield
    except FileNotFoundError:
        raise Unreadable(f"{quote(rel)}: disappeared while being read") from None
    except safe_open.NotAllowed as exc:
        raise Unreadable(f"{quote(rel)}: {exc.strerror}") from None
    except OSError as exc:
        raise Unreadable(f"{quote(rel)}: cannot be read: {exc.strerror}") from None


def _copy_once(source_dir: str, rel: str, tmp_dir: str,
               progress: Progress | None = None) -> tuple[str, str, Signature, int] | None:
    """One attempt: the copy, its blob id, the stat and mode; None if it changed meanwhile.

    The file is opened race-free (safe_open): what is read is a regular file inside
    source_dir, whatever is swapped in at its path meanwhile."""
    path = os.path.join(source_dir, rel)
    src_fd = safe_open.open_inside(source_dir, rel)
    try:
        before = os.fstat(src_fd)
        fd, tmp_path = tempfile.mkstemp(dir=tmp_dir, prefix="capture-")  # private (0600), new
    except BaseException:
        os.close(src_fd)
        raise
    digest = blobs.digest_for(before.st_size)
    copied = 0
    try:
        with open(src_fd, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                copied += len(chunk)
                if progress is not None:
                    progress.advance(nbytes=len(chunk))
            during = os.fstat(src.fileno())
        after = os.stat(path)
    except BaseException:
        os.unlink(tmp_path)
        raise
    sig = signature(before)
    if copied != before.st_size or signature(during) != sig or signature(after) != sig:
        os.unlink(tmp_path)
        return None
    return tmp_path, digest.hexdigest(), sig, before.st_mode


def capture(source_dir: str, rel: str, tmp_dir: str, validate: bool = True,
            progress: Progress | None = None, store: Callable[[str], Stored] | None = None) -> Capture:
    """Copy `rel` into tmp_dir; retry over about a second while it is unstable or invalid.

    `validate=False` takes the content as it is, valid for its format or not (what a
    restore keeps of the live file it is about to replace). `store` starts writing a
    large copy into the vault's object store while it is validated (an invalid one's
    object is left unused)."""
    from memvault_hooks.vault import dbcapture

    if dbcapture.is_database(source_dir, rel):
        try:
            return dbcapture.capture(source_dir, rel, tmp_dir)  # SQLite's backup API, checked
        except Unreadable:
            if validate:
                raise  # (unvalidated, as a restore keeps the live file: its bytes as they are)
    kind = formats.kind_of(rel)
    reason = "it kept changing while being read"
    for delay in (*RETRY_DELAYS, None):
        with reading(rel):
            attempt = _copy_once(source_dir, rel, tmp_dir, progress)
        if attempt is not None:
            tmp_path, blob, sig, mode = attempt
            early = store(tmp_path) if store is not None and sig[0] > STORE_EARLY_ABOVE else None
            try:
                problem = formats.problem(tmp_path, kind) if validate else None
            except BaseException:
                if early is not None:
                    early.cancel()
                raise
            if problem is None:
                return Capture(rel, tmp_path, blob, sig, mode, early is not None and early.result() == blob)
            if early is not None:
                early.cancel()
            os.unlink(tmp_path)
            reason = problem
        if delay is not None:
            time.sleep(delay)
    raise Unreadable(f"{quote(rel)}: {reason}; kept the last good version")
