"""`memvault watch [--debounce SECONDS]`: stay in the foreground and back up within seconds
of each change (SPEC "Commands"), for memory where no git hook fires.

It watches the folders that hold the config's memory files (watcher.py: parent folders,
so a file replaced by a rename is seen too) and runs each backup the way `memvault sync`
does (commands/sync.py `run`: the trust rule, the vault lock shared with hooks and cron),
with the trigger `watch`. It backs up once as it starts, so what changed while nothing
watched is not left out. SIGINT and SIGTERM let a running backup finish; then exit 0. A
configuration error, or settings that wait for `memvault allow`, end it with exit 2.
"""
from __future__ import annotations

import argparse
import sys

from memvault_hooks import config
from memvault_hooks import triggers
from memvault_hooks.errors import MemvaultError

HELP = ("stay in the foreground and back up within seconds of each change, files replaced by rename "
        "included (trigger watch); SIGINT or SIGTERM ends it, exit 0")
EPILOG = None


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds from 0 to 3600")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from memvault_hooks.memory import watcher

    parser.add_argument("--debounce", type=_seconds, default=watcher.DEBOUNCE, metavar="SECONDS",
                        help=f"back up once files have been quiet this long (default: {watcher.DEBOUNCE:g}); "
                             f"a file that keeps changing is backed up at least every {watcher.MAX_WAIT:g} s")


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    import threading

    from memvault_hooks.memory import watcher
    from memvault_hooks.commands import sync

    cfg = config.from_args(args.directory, args.config)  # the trust rule: exit 2 until allowed
    options = argparse.Namespace(directory=args.directory, config=args.config, trigger=triggers.WATCH,
                                 quiet=False, keep_local=False, lock_fd=None, after_pid=None)  # `sync`'s own
    stop = threading.Event()
    fatal: list[MemvaultError] = []

    def backup() -> None:
        try:
            sync.run(options)  # prints what it backed up; raises what failed (the watcher reports it)
        except MemvaultError as exc:
            if exc.exit_code != 2:
                raise
            fatal.append(exc)  # a usage or configuration error: watching would only repeat it
            stop.set()
        finally:
            sys.stdout.flush()  # a journal or a pipe sees each backup as it happens

    # source_dir with the config's patterns, the presets' included, and every source's dir
    # (`sources`, the presets' places outside the project). The first backup, once the
    # folders are watched, takes in what changed while nothing watched.
    targets = [watcher.Target(cfg.source_dir, cfg.files),
               *(watcher.Target(folder, patterns) for _, folder, patterns in cfg.sources)]
    code = watcher.watch(targets, backup, debounce=args.debounce,
                         max_wait=max(watcher.MAX_WAIT, args.debounce), say=_say, stop=stop, first=True)
    if fatal:
        raise fatal[0]
    return code
