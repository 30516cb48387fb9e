"""The argparse tree, built from the commands' own `add_arguments`, and the dispatch to
their `run`: expected failures become a message and an exit code (1 runtime, 2 usage or
configuration), never a traceback."""
from __future__ import annotations

import argparse
from collections.abc import Sequence

from memvault_hooks import __version__
from memvault_hooks import options
from memvault_hooks.commands import allow
from memvault_hooks.commands import cron
from memvault_hooks.commands import diff
from memvault_hooks.commands import hook
from memvault_hooks.commands import init
from memvault_hooks.commands import install_hooks
from memvault_hooks.commands import log
from memvault_hooks.commands import recover
from memvault_hooks.commands import restore
from memvault_hooks.commands import show
from memvault_hooks.commands import status
from memvault_hooks.commands import sync
from memvault_hooks.commands import verify
from memvault_hooks.errors import guarded

COMMANDS = {
    "init": init, "sync": sync, "hook": hook, "install-hooks": install_hooks, "cron": cron,
    "status": status, "log": log, "show": show, "diff": diff, "restore": restore,
    "recover": recover, "allow": allow, "verify": verify,
}


def build_parser() -> argparse.ArgumentParser:
    parser = options.Parser(prog="memvault", description="Versioned, recoverable backups of AI-agent memory files.")
    parser.add_argument("--version", action="version", version=f"memvault-hooks {__version__}",
                        help="print the version and exit")
    options.add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=options.Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        module.add_arguments(options.add_command(sub, name, module.HELP, module.EPILOG))
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    args.directory = getattr(args, "directory", None)
    args.config = getattr(args, "config", None)
    return guarded(lambda: COMMANDS[args.command].run(args))
