"""`memvault ack [FILE...]`: acknowledge memory-loss alerts (all of them, or those of FILE).

An acknowledged loss is not raised again while it stays as it is (a file that stays gone);
a new loss of the same file is. Obeys the trust rule like `log`: nothing is read or written
while settings that reach outside the project wait for `memvault allow`.
"""
from __future__ import annotations

import argparse
import os

from memvault_hooks import config
from memvault_hooks.errors import UsageError
from memvault_hooks.history import filearg
from memvault_hooks.memory import alerts
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.vault import backup
from memvault_hooks.vault import file_lock

HELP = "acknowledge memory-loss alerts (all, or those of FILE): `status` no longer fails for them"
EPILOG = ("FILE is a memory file's path relative to source_dir. `memvault status` lists the alerts, "
          "each with the `memvault restore FILE --rev REV` command that brings back the last good version.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="only the alerts of these memory files (default: every alert)")


def run(args: argparse.Namespace) -> int:
    cfg = config.from_args(args.directory, args.config)
    rels = [filearg.relative(cfg, name) for name in args.files]
    if not os.path.isdir(os.path.join(cfg.vault_path, ".git")):
        print(f"memvault: there is no vault at {cfg.vault_path} yet, so no alert to acknowledge")
        return 0
    from memvault_hooks.vault import vaultmark

    vaultmark.check(cfg.vault_path)
    with file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT):  # a sync updates the same record
        record = alerts.Record.load(cfg.vault_path)
        active = {alert.path for alert in record.active()}
        unknown = [rel for rel in rels if rel not in active]
        if unknown:
            raise UsageError(f"no memory-loss alert for {', '.join(map(quote, unknown))}; "
                             + (f"the active ones are: {', '.join(map(quote, sorted(active)))}" if active
                                else "there is no active alert (`memvault status` lists them)"))
        done = record.ack(rels or None)
        record.save(cfg.vault_path)
    if not done:
        print("memvault: no memory-loss alert to acknowledge")
        return 0
    for alert in done:
        print(f"memvault: acknowledged: {quote(alert.path)} {alert.kind} "
              f"(the last good version stays in rev {alert.rev[:12]}: {alert.restore_command()})")
    return 0
