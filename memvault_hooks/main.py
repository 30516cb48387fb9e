"""The command line's entry: the no-change fast path, then the argparse tree (cli.py).

`hook` and `sync` first try the no-change fast path, before argparse, YAML or GitPython
are imported: a hook that finds nothing changed costs little more than Python's start.
"""
from __future__ import annotations

import gc
import sys
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

if TYPE_CHECKING:
    from collections.abc import Sequence


def peek(argv: Sequence[str]) -> tuple[str | None, str | None, str | None, list[str]]:
    """(DIR, FILE, COMMAND, the rest) of `[-C DIR] [--config FILE] COMMAND ...`, read
    without argparse; COMMAND is None when the command line has another shape."""
    directory = explicit = None
    i = 0
    while i + 1 < len(argv) and argv[i] in ("-C", "--config"):
        if argv[i] == "-C":
            directory = argv[i + 1]
        else:
            explicit = argv[i + 1]
        i += 2
    if i >= len(argv) or argv[i].startswith("-"):
        return directory, explicit, None, []
    return directory, explicit, argv[i], list(argv[i + 1:])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (`argv`, or the process's own); its exit code."""
    program = argv is None  # this process's command line: it exits when main returns
    argv = list(sys.argv[1:] if argv is None else argv)
    from memvault_hooks import urls

    if not isinstance(sys.stdout, urls.MaskedStream):  # credentials in a URL are never printed
        sys.stdout = urls.MaskedStream(sys.stdout)  # type: ignore[assignment]
        sys.stderr = urls.MaskedStream(sys.stderr)  # type: ignore[assignment]
    collecting = gc.isenabled()
    try:
        return _dispatch(argv)
    finally:
        if program:
            # Python's exit walks every object still alive looking for cycles (the state
            # record's thousands of entries: ~5 ms); frozen objects are not walked.
            gc.freeze()
        elif collecting:
            gc.enable()


def _dispatch(argv: list[str]) -> int:
    directory, explicit, command, rest = peek(argv)
    # The no-change check allocates thousands of small objects (the stat cache, one stat a
    # file) and none that refer to each other: the cyclic collector would only walk them.
    gc.disable()
    if command == "hook" and not (rest and rest[0] in ("-h", "--help")):  # argparse prints the help
        from memvault_hooks.commands import hook

        return hook.fast(directory, explicit, rest)
    if command == "sync":
        from memvault_hooks.commands import sync

        code = sync.fast(directory, explicit, rest)
        if code is not None:
            return code
    gc.enable()
    from memvault_hooks import cli

    return cli.main(argv, command)


if __name__ == "__main__":
    raise SystemExit(main())
