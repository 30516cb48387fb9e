"""`memvault diff [FILE] [--from WHEN] [--to WHEN]`: what changed, key by key for JSON.

`--from` defaults to the latest backup, `--to` to the live files. A time before the first
backup is the empty side (every key shows as added).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os

from memvault_hooks import config
from memvault_hooks import filearg
from memvault_hooks import filediff
from memvault_hooks import sources
from memvault_hooks import when
from memvault_hooks.config import Config
from memvault_hooks.history import History
from memvault_hooks.history import NoVersion
from memvault_hooks.history import Version
from memvault_hooks.term import Painter


class Side:
    """One side of the diff: a backup, the empty state before the first one, or the live files."""

    def __init__(self, hist: History, cfg: Config, moment: dt.datetime | None, live: bool) -> None:
        self.hist, self.cfg = hist, cfg
        self.version: Version | None = None
        self.live = live
        if live:
            self.label, self.title = "live", "the live files"
            return
        try:
            self.version = hist.at(moment) if moment is not None else hist.latest()
        except NoVersion:
            self.label, self.title = "empty", "nothing (before the first backup)"
        else:
            self.label, self.title = self.version.short, f"backup {self.version.describe()}"

    def names(self) -> set[str]:
        if self.live:
            return set(sources.discover(self.cfg.source_dir, self.cfg.files))
        return set(self.hist.blobs(self.version)) if self.version else set()

    def read(self, rel: str) -> bytes | None:
        if self.live:
            try:
                with open(os.path.join(self.cfg.source_dir, rel), "rb") as f:
                    return f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
        return self.hist.read(self.version, rel) if self.version else None


def run(args: argparse.Namespace) -> int:
    start = when.parse(args.from_) if args.from_ is not None else None
    end = when.parse(args.to) if args.to is not None else None
    cfg = config.from_args(args.directory, args.config)
    rel = filearg.relative(cfg, args.file) if args.file else None
    painter = Painter()
    with History(cfg) as hist:
        old = Side(hist, cfg, start, live=False)
        new = Side(hist, cfg, end, live=end is None)
        names = [rel] if rel else sorted(old.names() | new.names())
        if rel and old.read(rel) is None and new.read(rel) is None:
            raise NoVersion(f"{rel} is neither in {old.title} nor in {new.title}")
        print(painter.dim(f"memvault diff: {old.title} -> {new.title}"))
        shown = 0
        for name in names:
            lines = filediff.render(name, old.read(name), new.read(name), (old.label, new.label), painter)
            if lines:
                print("\n".join(lines))
                shown += 1
    if not shown:
        print("no differences")
    return 0
