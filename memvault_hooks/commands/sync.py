"""`memvault sync [--trigger NAME] [--quiet]`: one backup now."""
from __future__ import annotations

import sys
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks import dirs
from memvault_hooks import fastpath
from memvault_hooks import triggers

if TYPE_CHECKING:
    import argparse

    from memvault_hooks import config


def fast(directory: str | None, explicit: str | None, rest: list[str]) -> int | None:
    """Exit 0 from stat alone when nothing changed; None to take the full path."""
    quiet = False
    trigger = "manual"
    i = 0
    while i < len(rest):
        if rest[i] == "--quiet":
            quiet = True
            i += 1
        elif rest[i] == "--trigger" and i + 1 < len(rest) and triggers.valid(rest[i + 1]):
            trigger = rest[i + 1]
            i += 2
        else:
            return None
    project = dirs.find_project(directory)
    config = fastpath.cached_config(project, explicit)
    if config is None or not fastpath.nothing_changed(config):
        return None
    fastpath.record_no_change(config, trigger)
    if not quiet:
        print("memvault: nothing to back up")
    return 0


def _config(args: argparse.Namespace) -> config.Config:
    """The configuration the hook's cache holds (validated when it was written, trusted
    while the file is unchanged: no YAML parser to import), else the file itself."""
    from memvault_hooks import config

    cached = fastpath.cached_config(dirs.find_project(args.directory), args.config)
    if cached is not None:
        try:
            return config.Config.from_dict(cached)
        except TypeError:
            pass  # a cache written by another version of memvault
    return config.from_args(args.directory, args.config)


def run(args: argparse.Namespace) -> int:
    from memvault_hooks import backup
    from memvault_hooks import file_lock
    from memvault_hooks import processes
    from memvault_hooks.errors import MemvaultError
    from memvault_hooks.progress import Progress

    cfg = _config(args)
    trigger = args.trigger
    if args.after_pid:
        processes.wait_for_exit(args.after_pid)
    if args.lock_fd is not None:
        # Handed the lock by a hook: name the run after the latest hook that asked for it
        # meanwhile (`commit --amend` fires post-commit then post-rewrite: it is a rewrite).
        pending = file_lock.read_pending(cfg.vault_path)
        trigger = pending[0] if pending else trigger
    try:
        with Progress("sync", enabled=not args.quiet) as shown:
            result = backup.run_locked(cfg, trigger, args.lock_fd, shown)
    except file_lock.LockTimeout as exc:
        backup.record_failure(cfg, args.trigger, str(exc))
        raise MemvaultError(str(exc)) from None
    except (MemvaultError, OSError) as exc:
        reason = str(exc) if isinstance(exc, MemvaultError) else f"{exc.strerror}: {exc.filename}"
        backup.record_failure(cfg, args.trigger, reason)
        raise MemvaultError(reason) from None
    for err in result.errors:
        sys.stderr.write(f"memvault: {err}\n")
    if not args.quiet:
        if result.commit:
            listed = ", ".join(f"{change} {path}" for path, change in result.changes)
            print(f"memvault: backed up {listed} as {result.commit[:12]} in {cfg.vault_path}")
        else:
            print("memvault: nothing to back up")
    return result.exit_code
