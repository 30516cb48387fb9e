"""`memvault restore [FILE...] [--at WHEN | --rev REV | --source-commit SHA] [--dry-run] [--to DIR]`."""
from __future__ import annotations

import argparse

from memvault_hooks import config
from memvault_hooks import filearg
from memvault_hooks.restorer import Restore
from memvault_hooks.versionarg import Choice


def run(args: argparse.Namespace) -> int:
    choice = Choice(args)  # a bad WHEN stops here, exit 2, before anything is opened
    cfg = config.from_args(args.directory, args.config)
    names = [filearg.relative(cfg, name) for name in args.files]
    return Restore(cfg, names, dry_run=args.dry_run, dest=args.to).run(choice.resolve)
