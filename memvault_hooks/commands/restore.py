"""`memvault restore [FILE...] [--at WHEN | --rev REV | --source-commit SHA] [--dry-run] [--to DIR]`."""
from __future__ import annotations

import argparse

from memvault_hooks import config
from memvault_hooks.history import filearg
from memvault_hooks import options
from memvault_hooks.history.restorer import Restore
from memvault_hooks.history.versionarg import Choice


HELP = "put memory files back as they were (the live content is backed up first)"
EPILOG = options.WHEN_HELP + options.REV_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE", help="the memory files to restore (default: every one); a source's as @SOURCE/PATH")
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="WHEN", help="the version at WHEN (see below; default: the latest backup)")
    g.add_argument("--rev", metavar="REV", help="the version REV (see below)")
    g.add_argument("--source-commit", metavar="SHA",
                   help="the first backup made at this project commit (full or abbreviated)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be written, write nothing")
    parser.add_argument("--to", metavar="DIR", help="write into DIR instead of over the live files")


def run(args: argparse.Namespace) -> int:
    choice = Choice(args)  # a bad WHEN stops here, exit 2, before anything is opened
    cfg = config.from_args(args.directory, args.config)
    names = [filearg.relative(cfg, name) for name in args.files]
    return Restore(cfg, names, dry_run=args.dry_run, dest=args.to).run(choice.resolve)
