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
    "log", "show", "diff", "restore", "recover", "verify",
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memvault", description="Versioned, recoverable backups of AI-agent memory files.")
    parser.add_argument("--version", action="version", version=f"memvault-hooks {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _common(p)
        return p

    p = add("init", "write .memvault.yaml if absent; create or clone the vault")
    p.add_argument("--vault", metavar="PATH", help="where the vault lives")
    p.add_argument("--remote", metavar="URL", help="the vault's remote")

    p = add("sync", "one backup now")
    p.add_argument("--trigger", default="manual", metavar="NAME", type=_trigger,
                   help="recorded as Memvault-Trigger (letters, digits, '.', '_', '-')")
    p.add_argument("--quiet", action="store_true", help="print nothing unless something fails")
    p.add_argument("--keep-local", action="store_true",
                   help="back up files that are behind the vault (an older version it holds) as the newest anyway")
    p.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--after-pid", type=int, help=argparse.SUPPRESS)

    p = add("hook", "what git hooks and pre-commit call")
    p.add_argument("stage", nargs="?", help="the git hook name (detected under pre-commit)")
    p.add_argument("hook_args", nargs=argparse.REMAINDER, help="the git hook's own arguments")

    p = add("install-hooks", "install plain git hooks into the project")
    p.add_argument("--uninstall", action="store_true", help="remove them, putting back what was there")

    p = add("cron", "manage this project's crontab entry")
    cron_sub = p.add_subparsers(dest="cron_command", metavar="ACTION", parser_class=_Parser)
    cron_sub.required = True
    q = cron_sub.add_parser("install", help="add or update the entry")
    q.add_argument("--schedule", metavar="EXPR", help="5-field cron expression (default: config schedule)")
    cron_sub.add_parser("remove", help="remove the entry")
    cron_sub.add_parser("status", help="show the entry")

    p = add("status", "last sync, pending changes, hooks and cron")
    p.add_argument("--json", action="store_true")

    p = add("log", "vault history, newest first")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("-n", type=int, metavar="N", dest="n")
    p.add_argument("--json", action="store_true")

    p = add("show", "a file's content at a point in time")
    p.add_argument("file", metavar="FILE")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="WHEN")
    g.add_argument("--rev", metavar="REV")

    p = add("diff", "what changed, key by key for JSON")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("--from", dest="from_", metavar="WHEN")
    p.add_argument("--to", metavar="WHEN")

    p = add("restore", "put memory files back as they were")
    p.add_argument("files", nargs="*", metavar="FILE")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="WHEN")
    g.add_argument("--rev", metavar="REV")
    g.add_argument("--source-commit", metavar="SHA")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--to", metavar="DIR")

    p = add("recover", "fresh machine: clone the vault and restore every file")
    p.add_argument("--from", dest="from_", metavar="URL", required=True)
    p.add_argument("--at", metavar="WHEN")

    p = add("verify", "prove the backup is whole and restorable")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    args.directory = getattr(args, "directory", None)
    args.config = getattr(args, "config", None)
    module = importlib.import_module(f"memvault_hooks.commands.{args.command.replace('-', '_')}")
    return guarded(lambda: module.run(args))
