"""`memvault sync [--trigger NAME] [--quiet]`: one backup now."""
from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks import config
from memvault_hooks import dirs
from memvault_hooks import fastpath
from memvault_hooks import triggers

if TYPE_CHECKING:  # argparse costs milliseconds the no-change path does not spend
    import argparse

    from memvault_hooks.memory import sources

HELP = "one backup now"
EPILOG = None
# The scan the no-change check made when it found changes, for `run` in this process.
_scans: list[sources.Scan] = []


def _trigger(value: str) -> str:
    if not triggers.valid(value):
        import argparse

        raise argparse.ArgumentTypeError(f"{value!r} is not a trigger name: use letters, digits, '.', '_' or '-'")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import argparse  # not at the top: the no-change path answers without it

    parser.add_argument("--trigger", default="manual", metavar="NAME", type=_trigger,
                        help="recorded as Memvault-Trigger (letters, digits, '.', '_', '-'; default: manual)")
    parser.add_argument("--quiet", action="store_true",
                        help="print nothing unless something fails, and log nothing when nothing changed")
    parser.add_argument("--keep-local", action="store_true",
                        help="back up files that are behind the vault (an older version it holds) as the newest anyway")
    parser.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--after-pid", type=int, help=argparse.SUPPRESS)


def _plain(rest: list[str]) -> tuple[str, bool] | None:
    """(trigger, quiet) of `sync [--trigger NAME] [--quiet]`, the forms cron and people use;
    None for anything else, which argparse reads."""
    words = list(rest)
    quiet = "--quiet" in words
    if quiet:
        words.remove("--quiet")
    if not words:
        return "manual", quiet
    if len(words) == 2 and words[0] == "--trigger" and triggers.valid(words[1]) and not words[1].startswith("-"):
        return words[1], quiet
    return None


def fast(directory: str | None, explicit: str | None, rest: list[str]) -> int | None:
    """Exit 0 from stat alone when nothing changed; None to parse the command line and `run`."""
    plain = _plain(rest)
    if plain is None:
        _wait_for_git(rest)
        return None
    trigger, quiet = plain
    cfg = fastpath.cached_config(dirs.find_project(directory), explicit)
    if cfg is None:
        return None  # the configuration is read, validated and cached on the full path
    if fastpath.not_allowed(cfg):
        return None  # the full path says what waits for `memvault allow`, exit 2
    if not fastpath.nothing_changed(cfg, _scans):
        return None
    fastpath.record_no_change(cfg, trigger, quiet)
    if not quiet:
        if not fastpath.tracks_files(cfg):
            return None  # no memory file at all: the full path says what was looked for
        print("memvault: nothing to back up")
    return 0


def _wait_for_git(rest: list[str]) -> None:
    """A hook's detached sync (`--after-pid PID`) first waits for the git command that ran
    the hook, before it imports what a sync needs: until git returns, the two would share
    the machine's cores (run_locked waits for it again, then at no cost)."""
    if "--after-pid" in rest[:-1]:
        value = rest[rest.index("--after-pid") + 1]
        if value.isdigit():
            from memvault_hooks import processes

            processes.wait_for_exit(int(value))


def _config(args: argparse.Namespace) -> config.Config:
    """The configuration the hook's cache holds, else the file itself."""
    cached = fastpath.cached_config(dirs.find_project(args.directory), args.config)
    return cached if cached is not None else config.from_args(args.directory, args.config)


def run(args: argparse.Namespace) -> int:
    from memvault_hooks.vault import backup
    from memvault_hooks.vault import file_lock
    from memvault_hooks.vault import vaultmark
    from memvault_hooks.errors import MemvaultError
    from memvault_hooks.ui.progress import Progress

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
                                       quiet=args.quiet, after_pid=args.after_pid,
                                       scan=_scans.pop() if _scans and args.lock_fd is None else None)
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
    if result.secrets and not any(err.startswith("push held") for err in result.errors):
        from memvault_hooks.vault import held

        sys.stderr.write(f"memvault: {held.note(cfg, result.secrets)}\n")
    # Behind files need the user: said on every run shown, and once by a quiet one (cron mails it).
    told = result.newly_behind if args.quiet else result.behind
    if told:
        from memvault_hooks.vault import behind

        sys.stderr.write(f"memvault: {behind.advice(sorted(set(told)))}\n")
    if not args.quiet:
        if result.commit:
            from memvault_hooks.ui.pathquote import quote

            listed = ", ".join(f"{change} {quote(path)}" for path, change in result.changes)
            print(f"memvault: backed up {listed} as {result.commit[:12]} in {cfg.vault_path}")
        elif result.found and not result.errors:
            print("memvault: nothing else to back up" if result.behind else "memvault: nothing to back up")
        elif not result.errors:
            from memvault_hooks.memory import sources

            print(f"memvault: nothing to back up: {sources.none_found(cfg.source_dir, cfg.files, cfg.config_file)}")
    return result.exit_code
