"""Stable reads: copy a memory file aside while hashing it, and only trust a copy that
nobody wrote to during the read and that is valid for its format."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import time

from memvault_hooks import formats
from memvault_hooks.sources import Signature
from memvault_hooks.sources import signature

CHUNK = 1 << 20
# Pauses between attempts: a writer caught mid-write gets about a second to finish.
RETRY_DELAYS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


@dataclasses.dataclass(frozen=True)
class Capture:
    rel: str
    tmp_path: str      # the copy, on the vault's file system, ready to be renamed in place
    blob: str          # git's blob id of the content
    sig: Signature     # the live file's stat when it was read
    mode: int


class Unreadable(Exception):
    """The file could not be captured: gone, unstable, or invalid for its format."""


def _copy_once(path: str, tmp_dir: str) -> tuple[str, str, Signature, int] | None:
    """One attempt: the copy, its blob id, the stat and mode; None if it changed meanwhile."""
    before = os.stat(path)
    fd, tmp_path = tempfile.mkstemp(dir=tmp_dir, prefix="capture-")
    digest = hashlib.sha1(b"blob %d\0" % before.st_size)
    copied = 0
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                copied += len(chunk)
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


def capture(source_dir: str, rel: str, tmp_dir: str, validate: bool = True) -> Capture:
    """Copy `rel` into tmp_dir; retry over about a second while it is unstable or invalid.

    `validate=False` takes the content as it is, valid for its format or not (what a
    restore keeps of the live file it is about to replace)."""
    path = os.path.join(source_dir, rel)
    kind = formats.kind_of(rel)
    reason = "it kept changing while being read"
    for delay in (*RETRY_DELAYS, None):
        try:
            attempt = _copy_once(path, tmp_dir)
        except FileNotFoundError:
            raise Unreadable(f"{rel}: disappeared while being read") from None
        except OSError as exc:
            raise Unreadable(f"{rel}: cannot be read: {exc.strerror}") from None
        if attempt is not None:
            tmp_path, blob, sig, mode = attempt
            problem = formats.problem(tmp_path, kind) if validate else None
            if problem is None:
                return Capture(rel, tmp_path, blob, sig, mode)
            os.unlink(tmp_path)
            reason = problem
        if delay is not None:
            time.sleep(delay)
    raise Unreadable(f"{rel}: {reason}; kept the last good version")
