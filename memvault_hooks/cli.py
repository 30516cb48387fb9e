"""The argparse tree, built from the commands' own `add_arguments`, and the dispatch to
their `run`: expected failures become a message and an exit code (1 runtime, 2 usage or
configuration), never a traceback."""
from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from types import ModuleType

from memvault_hooks import __version__
from memvault_hooks import options
from memvault_hooks.errors import guarded

COMMANDS = (
    "init", "sync", "hook", "install-hooks", "cron", "status",
    "log", "show", "diff", "restore", "recover", "verify", "allow", "watch", "secrets", "ack",
)


def command_module(name: str) -> ModuleType:
    """`commands/<name>.py`: its HELP, EPILOG, add_arguments(parser) and run(args)."""
    return importlib.import_module(f"memvault_hooks.commands.{name.replace('-', '_')}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole tree; with `command`, only that command's branch (its module alone is
    imported: a detached `sync` does not load what `diff` or `cron` need)."""
    parser = options.Parser(prog="memvault", description="Versioned, recoverable backups of AI-agent memory files.")
    parser.add_argument("--version", action="version", version=f"memvault-hooks {__version__}",
                        help="print the version and exit")
    options.add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=options.Parser)
    sub.required = True
    for name in (command,) if command in COMMANDS else COMMANDS:
        module = command_module(name)
        module.add_arguments(options.add_command(sub, name, module.HELP, module.EPILOG))
    return parser


def main(argv: Sequence[str], command: str | None = None) -> int:
    """Parse and run; `command` is the command word when the caller already knows it."""
    args = build_parser(command).parse_args(argv)
    args.directory = getattr(args, "directory", None)
    args.config = getattr(args, "config", None)
    return guarded(lambda: command_module(args.command).run(args))
