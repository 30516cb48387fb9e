"""The argparse tree and the error handler: expected failures become a message and an
exit code (1 runtime, 2 usage or configuration), never a traceback."""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from memvault_hooks import __version__
from memvault_hooks.errors import guarded

COMMANDS = (
    "init", "sync", "hook", "install-hooks", "cron", "status",
    "log", "show", "diff", "restore", "recover", "verify", "allow", "watch",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"memvault: error: {message}\n")


def _trigger(value: str) -> str:
    from memvault_hooks import triggers

    if not triggers.valid(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a trigger name: use letters, digits, '.', '_' or '-'")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-C", dest="directory", metavar="DIR", default=argparse.SUPPRESS,
                   help="run as if started in DIR (the project)")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                   help="the configuration file (default: $MEMVAULT_CONFIG, else <project>/.memvault.yaml)")


WHEN_HELP = """\
WHEN is a point in time; the version used is the newest backup at or before it:
  2026-11-26T12:00:00Z        ISO 8601 in UTC (also with an offset: 2026-11-26T13:00:00+01:00)
  '2026-11-26 12:00'          ISO 8601 without a zone: this machine's local time
  2026-11-26                  a date alone: local midnight
  '2 hours ago', 3d ago       relative: seconds, minutes, hours, days, weeks, months, years
                              (also 2h, 2.hours.ago, 'an hour ago')
  yesterday, now              yesterday is 24 hours ago, as git reads it
  @1795000000                 seconds since the epoch

"""
REV_HELP = """\
REV is a vault revision as `memvault log` prints it (full or abbreviated sha), or any name
git reads in the vault (main~3).

"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memvault", description="Versioned, recoverable backups of AI-agent memory files.")
    parser.add_argument("--version", action="version", version=f"memvault-hooks {__version__}",
                        help="print the version and exit")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help: str, epilog: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _common(p)
        return p

    p = add("init", "write .memvault.yaml if absent; create or clone the vault; list the files it will back up")
    p.add_argument("--vault", metavar="PATH",
                   help="where the vault lives (default: a per-project folder under the user's data dir)")
    p.add_argument("--remote", metavar="URL",
                   help="the vault's remote (a git URL); an existing vault there is cloned")

    p = add("sync", "one backup now")
    p.add_argument("--trigger", default="manual", metavar="NAME", type=_trigger,
                   help="recorded as Memvault-Trigger (letters, digits, '.', '_', '-'; default: manual)")
    p.add_argument("--quiet", action="store_true",
                   help="print nothing unless something fails, and log nothing when nothing changed")
    p.add_argument("--keep-local", action="store_true",
                   help="back up files that are behind the vault (an older version it holds) as the newest anyway")
    p.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--after-pid", type=int, help=argparse.SUPPRESS)

    p = add("hook", "what git hooks and pre-commit call: back up in the background, never fail git")
    p.add_argument("stage", nargs="?", metavar="STAGE",
                   help="the git hook name: post-commit, post-checkout, post-merge or post-rewrite "
                        "(detected under pre-commit, which passes none)")
    p.add_argument("hook_args", nargs=argparse.REMAINDER, metavar="GIT-HOOK-ARGS",
                   help="the git hook's own arguments (passed through, unused)")

    p = add("install-hooks", "install plain git hooks into the project (respecting core.hooksPath), "
                             "keeping and still running any hook already there")
    p.add_argument("--uninstall", action="store_true", help="remove them, putting back what was there")

    p = add("cron", "manage this project's entry in the user's crontab")
    cron_sub = p.add_subparsers(dest="cron_command", metavar="ACTION", parser_class=_Parser)
    cron_sub.required = True

    def add_cron(name: str, help: str) -> argparse.ArgumentParser:
        q = cron_sub.add_parser(name, help=help, description=help)
        _common(q)
        return q

    q = add_cron("install", "add or update this project's crontab entry (idempotent; other lines untouched)")
    q.add_argument("--schedule", metavar="EXPR",
                   help="5-field cron expression: minute hour day-of-month month day-of-week, "
                        "e.g. '*/15 * * * *' (default: the config's schedule)")
    add_cron("remove", "remove this project's crontab entry")
    add_cron("status", "show this project's crontab entry: exit 0 when installed, 1 when not; "
                       "warn when no cron daemon runs")

    p = add("status", "last sync, what changed since, pending pushes, hooks and cron, last error, warnings")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    p = add("log", "vault history, newest first", epilog="FILE is a memory file's path relative to source_dir.")
    p.add_argument("file", nargs="?", metavar="FILE", help="only the versions that changed this memory file")
    p.add_argument("-n", type=int, metavar="N", dest="n", help="show at most N versions")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of text")

    p = add("show", "a file's content at a point in time (default: the latest backup)", epilog=WHEN_HELP + REV_HELP)
    p.add_argument("file", metavar="FILE", help="the memory file, relative to source_dir")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="WHEN", help="the version at WHEN (see below)")
    g.add_argument("--rev", metavar="REV", help="the version REV (see below)")

    p = add("diff", "what changed, key by key for JSON (default: the latest backup -> the live files)",
            epilog=WHEN_HELP + REV_HELP + "--from and --to take either: a WHEN, or a REV.\n")
    p.add_argument("file", nargs="?", metavar="FILE", help="only this memory file (default: every one)")
    p.add_argument("--from", dest="from_", metavar="WHEN|REV",
                   help="the old side: a time or a revision (default: the latest backup)")
    p.add_argument("--to", metavar="WHEN|REV", help="the new side: a time or a revision (default: the live files)")

    p = add("restore", "put memory files back as they were (the live content is backed up first)",
            epilog=WHEN_HELP + REV_HELP)
    p.add_argument("files", nargs="*", metavar="FILE", help="the memory files to restore (default: every one)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="WHEN", help="the version at WHEN (see below; default: the latest backup)")
    g.add_argument("--rev", metavar="REV", help="the version REV (see below)")
    g.add_argument("--source-commit", metavar="SHA",
                   help="the first backup made at this project commit (full or abbreviated)")
    p.add_argument("--dry-run", action="store_true", help="say what would be written, write nothing")
    p.add_argument("--to", metavar="DIR", help="write into DIR instead of over the live files")

    p = add("recover", "fresh machine: clone the vault and restore every file", epilog=WHEN_HELP)
    p.add_argument("--from", dest="from_", metavar="URL", required=True, help="the vault's remote to clone")
    p.add_argument("--at", metavar="WHEN", help="restore the version at WHEN (see below; default: the latest)")

    add("allow", "show the settings of this project's config that reach outside it (a remote, log files, "
                 "folders elsewhere), and allow them for this user; needed again after any change to them")

    from memvault_hooks.commands import watch

    watch.add_arguments(add("watch", watch.HELP))

    p = add("verify", "prove the backup is whole and restorable (exit 1 when any check fails)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    args.directory = getattr(args, "directory", None)
    args.config = getattr(args, "config", None)
    module = importlib.import_module(f"memvault_hooks.commands.{args.command.replace('-', '_')}")
    return guarded(lambda: module.run(args))
