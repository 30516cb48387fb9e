"""`memvault watch [--debounce SECONDS]`: stay in the foreground and back up within seconds
of each change (SPEC "Commands"), for memory where no git hook fires.

It watches the folders that hold the config's memory files (watcher.py: parent folders,
so a file replaced by a rename is seen too) and runs each backup the way `memvault sync`
does (commands/sync.py `run`: the trust rule, the vault lock shared with hooks and cron),
with the trigger `watch`. It backs up once as it starts, so what changed while nothing
watched is not left out. SIGINT and SIGTERM let a running backup finish; then exit 0.
"""
from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from memvault_hooks import config
from memvault_hooks import triggers
from memvault_hooks.errors import MemvaultError


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds from 0 to 3600")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from memvault_hooks import watcher

    parser.add_argument("--debounce", type=_seconds, default=watcher.DEBOUNCE, metavar="SECONDS",
                        help=f"back up once files have been quiet this long (default: {watcher.DEBOUNCE:g}); "
                             f"a file that keeps changing is backed up at least every {watcher.MAX_WAIT:g} s")


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class _Stop:
    """Records SIGINT/SIGTERM until the watcher's own handlers take over (and after)."""

    def __init__(self) -> None:
        self.requested: str | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = signal.Signals(signum).name


def run(args: argparse.Namespace) -> int:
    from memvault_hooks import watcher
    from memvault_hooks.commands import sync

    cfg = config.from_args(args.directory, args.config)  # the trust rule: exit 2 until allowed
    options = sync.Options(args.directory, args.config)
    options.trigger = triggers.WATCH

    def backup() -> None:
        try:
            sync.run(options)  # prints what it backed up; raises what failed (the watcher reports it)
        finally:
            sys.stdout.flush()  # a journal or a pipe sees each backup as it happens

    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            backup()  # what changed while nothing watched
        except MemvaultError as exc:
            if exc.exit_code == 2:
                raise  # a usage or configuration error: watching would only repeat it
            _say(f"memvault: watch: the first backup failed: {exc}; the next change tries again")
        if stop.requested:
            _say(f"memvault: watch: stopped ({stop.requested})")
            return 0
        max_wait = max(watcher.MAX_WAIT, args.debounce)
        # source_dir with the config's patterns, the presets' included (places outside the
        # project join here once sources are backed up).
        return watcher.watch([watcher.Target(cfg.source_dir, cfg.files)], backup,
                             debounce=args.debounce, max_wait=max_wait, say=_say)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
