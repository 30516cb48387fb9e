"""`memvault show FILE [--at WHEN | --rev REV]`: the exact bytes stored then (default: latest)."""
from __future__ import annotations

import argparse
import shlex
import sys

from memvault_hooks import config
from memvault_hooks.history import filearg
from memvault_hooks import options
from memvault_hooks.history import when
from memvault_hooks.memory import sqlite_store
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.history.history import History
from memvault_hooks.history.history import NoVersion
from memvault_hooks.history.versionarg import Choice


HELP = "a file's content at a point in time (default: the latest backup)"
EPILOG = options.WHEN_HELP + options.REV_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the memory file, relative to source_dir, or @SOURCE/PATH for a source's (@claude-code/MEMORY.md)")
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="WHEN", help="the version at WHEN (see below)")
    g.add_argument("--rev", metavar="REV", help="the version REV (see below)")


def run(args: argparse.Namespace) -> int:
    choice = Choice(args)
    cfg = config.from_args(args.directory, args.config)
    rel = filearg.relative(cfg, args.file)
    with History(cfg) as hist:
        version = choice.resolve(hist)
        found = hist.entry(version, rel)
        if found is None:
            first = hist.versions(rel)
            since = (f"; it was first backed up at {when.local(min(v.time for v in first))}"
                     if first else f"; it has never been backed up{filearg.did_you_mean(rel, hist.known_paths())}")
            raise NoVersion(f"{rel} is not in the backup {version.describe()}{since}")
        opening, database = True, sqlite_store.is_database(rel)

        def write(piece: bytes) -> None:
            nonlocal opening, database
            if opening:  # the first piece: SQLite's header?
                opening, database = False, database or sqlite_store.is_sqlite(piece)
            if not database:
                sys.stdout.buffer.write(piece)

        hist.copy_blob(found[0], write)  # streamed: memory of one piece, any size
        if database:
            # Binary: never dumped onto a terminal. How to get it instead:
            print(f"memvault: {quote(rel)} in {version.describe()} is a SQLite database ({found[1]} bytes), "
                  f"not shown; write a copy with `memvault restore {shlex.quote(rel)} --rev {version.short} "
                  f"--to DIR` and open it with sqlite3; `memvault diff {shlex.quote(rel)}` shows its row changes")
            return 0
    sys.stdout.buffer.flush()
    return 0
