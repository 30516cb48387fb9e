"""`memvault sync [--trigger NAME] [--quiet]`: one backup now."""
from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks import dirs
from memvault_hooks import fastpath
from memvault_hooks import triggers

if TYPE_CHECKING:
    import argparse

    from memvault_hooks import config
    from memvault_hooks.sources import Scan


class Options:
    """`sync`'s options, as argparse would give them to `run`."""

    def __init__(self, directory: str | None, config: str | None) -> None:
        self.directory = directory
        self.config = config
        self.trigger = "manual"
        self.quiet = False
        self.keep_local = False
        self.lock_fd: int | None = None
        self.after_pid: int | None = None


def _options(directory: str | None, explicit: str | None, rest: list[str]) -> Options | None:
    """The options of a well-formed command line, or None (argparse then says what is wrong)."""
    options = Options(directory, explicit)
    i = 0
    while i < len(rest):
        flag = rest[i]
        value = rest[i + 1] if i + 1 < len(rest) else ""
        if flag in ("--quiet", "--keep-local"):
            setattr(options, flag[2:].replace("-", "_"), True)
            i += 1
            continue
        if flag == "--trigger" and triggers.valid(value) and not value.startswith("-"):
            options.trigger = value
        elif flag in ("--lock-fd", "--after-pid") and value.isdigit():
            setattr(options, flag[2:].replace("-", "_"), int(value))
        else:
            return None
        i += 2
    return options


def fast(directory: str | None, explicit: str | None, rest: list[str]) -> int | None:
    """Exit 0 from stat alone when nothing changed, else sync without argparse (whose
    import and parser tree cost more than a small sync); None to take the full path."""
    options = _options(directory, explicit, rest)
    if options is None:
        return None
    config = fastpath.cached_config(dirs.find_project(directory), explicit)
    if config is None:
        return None  # the configuration is read, validated and cached on the full path
    if fastpath.not_allowed(config):
        return None  # the full path says what waits for `memvault allow`, exit 2
    seen = fastpath.look(config, complete=True) if options.lock_fd is None and not options.keep_local else None
    if seen is not None and seen.unchanged:
        fastpath.record_no_change(config, options.trigger, options.quiet)
        if not options.quiet:
            if not fastpath.tracks_files(config):
                return None  # no memory file at all: the full path says what was looked for
            print("memvault: nothing to back up")
        return 0
    from memvault_hooks.errors import guarded

    return guarded(lambda: run(options, seen.scan if seen is not None else None))


def _config(args: argparse.Namespace | Options) -> config.Config:
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


def run(args: argparse.Namespace | Options, scan: Scan | None = None) -> int:
    """`scan`: the memory files as the no-change check just saw them (the sync goes on from there)."""
    from memvault_hooks import backup
    from memvault_hooks import file_lock
    from memvault_hooks import vaultmark
    from memvault_hooks.errors import MemvaultError
    from memvault_hooks.progress import Progress

    from memvault_hooks import trust

    cfg = _config(args)
    trust.require(cfg.to_dict())
    if cfg.config_file is None and not os.path.exists(os.path.join(cfg.project, ".git")):
        from memvault_hooks.errors import UsageError

        raise UsageError(f"{cfg.project} is neither a git repository nor a folder with a .memvault.yaml: "
                         "run `memvault sync` inside your project, or `memvault init` here first "
                         "to back up this folder's memory files")
    if args.lock_fd is not None:
        try:
            os.set_inheritable(args.lock_fd, False)  # ours alone: no git process may hold it
        except OSError:
            raise MemvaultError(f"--lock-fd {args.lock_fd} is not an open file descriptor") from None
    try:
        with Progress("sync", enabled=not args.quiet) as shown:
            # run_locked waits for --after-pid and names the run (a hook's pending marker may rename it).
            result = backup.run_locked(cfg, args.trigger, args.lock_fd, shown, keep_local=args.keep_local,
                                       quiet=args.quiet, after_pid=args.after_pid, scan=scan)
    except vaultmark.NotAVault:
        raise  # nothing is recorded in a place that is not ours (the error goes to stderr)
    except file_lock.LockTimeout as exc:
        backup.record_failure(cfg, args.trigger, str(exc))
        raise MemvaultError(str(exc)) from None
    except (MemvaultError, OSError) as exc:
        reason = str(exc) if isinstance(exc, MemvaultError) else f"{exc.strerror}: {exc.filename}"
        backup.record_failure(cfg, args.trigger, reason)
        raise MemvaultError(reason) from None
    for err in result.errors:
        sys.stderr.write(f"memvault: {err}\n")
    # Behind files need the user: said on every run shown, and once by a quiet one (cron mails it).
    told = result.newly_behind if args.quiet else result.behind
    if told:
        from memvault_hooks import behind

        sys.stderr.write(f"memvault: {behind.advice(sorted(set(told)))}\n")
    if not args.quiet:
        if result.commit:
            from memvault_hooks.pathquote import quote

            listed = ", ".join(f"{change} {quote(path)}" for path, change in result.changes)
            print(f"memvault: backed up {listed} as {result.commit[:12]} in {cfg.vault_path}")
        elif result.found and not result.errors:
            print("memvault: nothing else to back up" if result.behind else "memvault: nothing to back up")
        elif not result.errors:
            from memvault_hooks import sources

            print(f"memvault: nothing to back up: {sources.none_found(cfg.source_dir, cfg.files, cfg.config_file)}")
    return result.exit_code
