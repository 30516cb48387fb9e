"""`memvault diff [FILE] [--from WHEN|REV] [--to WHEN|REV]`: what changed, key by key for JSON.

`--from` defaults to the latest backup, `--to` to the live files. Each takes a time (WHEN)
or a vault revision (REV, as `memvault log` prints it): what reads as a time is a time. A
time before the first backup is the empty side (every key shows as added).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re

from memvault_hooks import config
from memvault_hooks.history import filearg
from memvault_hooks.history import dbdiff
from memvault_hooks.history import filediff
from memvault_hooks import options
from memvault_hooks.memory import places
from memvault_hooks.memory import sqlite_store
from memvault_hooks.vault import dbcapture
from memvault_hooks.vault import snapshot
from memvault_hooks.history import when
from memvault_hooks.config import Config
from memvault_hooks.errors import UsageError
from memvault_hooks.history.history import History
from memvault_hooks.history.history import NoVersion
from memvault_hooks.history.history import Version
from memvault_hooks.ui.term import Painter


_HEX = re.compile(r"[0-9a-fA-F]{4,40}")


class Side:
    """One side of the diff: a backup, the empty state before the first one, or the live files."""

    def __init__(self, hist: History, cfg: Config, moment: dt.datetime | None, live: bool,
                 rev: str | None = None) -> None:
        self.hist, self.cfg = hist, cfg
        self.version: Version | None = None
        self.live = live
        if live:
            self.label, self.title = "live", "the live files"
            return
        if rev is not None:
            try:
                self.version = hist.rev(rev)
            except NoVersion:
                if _HEX.fullmatch(rev):
                    raise  # a revision that is not there: exit 1, as `show --rev`
                raise UsageError(f"{rev!r} is neither a revision of the vault nor a time: cannot read the "
                                 f"time: {when.HELP}; or give a rev as `memvault log` prints it") from None
            self.label, self.title = self.version.short, f"backup {self.version.describe()}"
            return
        try:
            self.version = hist.at(moment) if moment is not None else hist.latest()
        except NoVersion:
            self.label, self.title = "empty", "nothing (before the first backup)"
        else:
            self.label, self.title = self.version.short, f"backup {self.version.describe()}"

    def names(self) -> set[str]:
        if self.live:
            return set(places.discover(self.cfg))
        return set(self.hist.blobs(self.version)) if self.version else set()

    def read(self, rel: str) -> bytes | None:
        if self.live:
            try:
                with open(places.open_live(self.cfg, rel), "rb") as f:
                    return f.read()
            except OSError:  # absent, a folder, a FIFO, a link that leads out: no file to show
                return None
        return self.hist.read(self.version, rel) if self.version else None

    def head(self, rel: str) -> bytes:
        """The first bytes of `rel` on this side (b'' when absent): whether it is a database."""
        if self.live:
            try:
                fd = places.open_live(self.cfg, rel)
            except OSError:
                return b""
            try:
                return os.pread(fd, len(sqlite_store.HEADER), 0)
            finally:
                os.close(fd)
        found = self.hist.entry(self.version, rel) if self.version else None
        return self.hist.blob_head(found[0], len(sqlite_store.HEADER)) if found else b""

    def write_to(self, rel: str, path: str) -> bool:
        """Put `rel` of this side into the file `path` (the live database: a checked copy);
        False when this side has no such file."""
        if self.live:
            try:
                cap = dbcapture.capture(*places.locate(self.cfg, rel)[:2], os.path.dirname(path))
            except snapshot.Unreadable:
                return False
            os.replace(cap.tmp_path, path)
            return True
        found = self.hist.entry(self.version, rel) if self.version else None
        if found is None:
            return False
        with open(path, "wb") as f:
            self.hist.copy_blob(found[0], f.write)
        return True

    def identity(self, rel: str) -> tuple[str, int] | None:
        """(blob id, size) of `rel` on this side, without holding its content; None when absent."""
        if self.live:
            try:
                size = os.stat(places.path_of(self.cfg, rel)).st_size
                return places.live_blob_id(self.cfg, rel), size
            except OSError:
                return None
        return self.hist.entry(self.version, rel) if self.version else None


def point(flag: str, text: str | None) -> tuple[dt.datetime | None, str | None]:
    """(moment, None) for a WHEN, (None, rev) for what can only be a revision."""
    if text is None:
        return None, None
    try:
        return when.parse(text), None
    except UsageError:
        if not text or text.startswith("-") or any(c.isspace() for c in text):
            raise UsageError(f"{flag} {text!r} is neither a time nor a revision: {when.HELP}; "
                             "or give a rev as `memvault log` prints it") from None
        return None, text


HELP = "what changed, key by key for JSON (default: the latest backup -> the live files)"
EPILOG = options.WHEN_HELP + options.REV_HELP + "--from and --to take either: a WHEN, or a REV.\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="only this memory file (default: every one)")
    parser.add_argument("--from", dest="from_", metavar="WHEN|REV",
                        help="the old side: a time or a revision (default: the latest backup)")
    parser.add_argument("--to", metavar="WHEN|REV", help="the new side: a time or a revision (default: the live files)")


def run(args: argparse.Namespace) -> int:
    start, start_rev = point("--from", args.from_)
    end, end_rev = point("--to", args.to)
    cfg = config.from_args(args.directory, args.config)
    rel = filearg.relative(cfg, args.file) if args.file else None
    painter = Painter()
    with History(cfg) as hist:
        old = Side(hist, cfg, start, live=False, rev=start_rev)
        new = Side(hist, cfg, end, live=end is None and end_rev is None, rev=end_rev)
        names = [rel] if rel else sorted(old.names() | new.names())
        if rel and old.identity(rel) is None and new.identity(rel) is None:
            raise NoVersion(f"{rel} is neither in {old.title} nor in {new.title}"
                            f"{filearg.did_you_mean(rel, hist.known_paths() | new.names())}")
        print(painter.dim(f"memvault diff: {old.title} -> {new.title}"))
        shown = 0
        for name in names:
            ids = (old.identity(name), new.identity(name))
            if ids[0] == ids[1]:
                continue
            if dbdiff.is_database(name, (old.head(name), new.head(name))):
                lines = dbdiff.render(name, lambda p: old.write_to(name, p), lambda p: new.write_to(name, p),
                                      (old.label, new.label), painter)
            elif max(found[1] if found else 0 for found in ids) > filediff.DIFF_MAX:
                lines = filediff.summary(name, ids, (old.label, new.label), painter)  # bounded memory
            else:
                lines = filediff.render(name, old.read(name), new.read(name), (old.label, new.label), painter)
            if lines:
                print("\n".join(lines))
                shown += 1
    if not shown:
        print("no differences")
    return 0
