"""The command line: the argparse tree, dispatch to one module a command, exit codes.

`hook` and `sync` first try the no-change fast path, before argparse, YAML or GitPython
are imported: a hook that finds nothing changed costs little more than Python's start.
"""
from __future__ import annotations

import sys
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

if TYPE_CHECKING:
    from collections.abc import Sequence


def _fast(argv: Sequence[str]) -> int | None:
    """Answer `[-C DIR] [--config FILE] hook|sync ...` from stat alone, or None."""
    directory = explicit = None
    i = 0
    while i + 1 < len(argv) and argv[i] in ("-C", "--config"):
        if argv[i] == "-C":
            directory = argv[i + 1]
        else:
            explicit = argv[i + 1]
        i += 2
    if i >= len(argv):
        return None
    command, rest = argv[i], list(argv[i + 1:])
    if command == "hook":
        if rest and rest[0] in ("-h", "--help"):
            return None  # argparse prints the help
        from memvault_hooks.commands import hook

        return hook.fast(directory, explicit, rest)
    if command == "sync":
        from memvault_hooks.commands import sync

        return sync.fast(directory, explicit, rest)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from memvault_hooks import urls

    if not isinstance(sys.stdout, urls.MaskedStream):  # credentials in a URL are never printed
        sys.stdout = urls.MaskedStream(sys.stdout)  # type: ignore[assignment]
        sys.stderr = urls.MaskedStream(sys.stderr)  # type: ignore[assignment]
    code = _fast(argv)
    if code is not None:
        return code
    from memvault_hooks import cli

    return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
