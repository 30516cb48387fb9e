"""`memvault hook STAGE [GIT-HOOK-ARGS...]`: what plain git hooks and pre-commit call.

The git command that fired the hook never waits for a vault commit and never fails
because of us: with nothing changed the hook returns from stat alone; otherwise it
takes the vault lock, hands it to a detached `sync` that waits for the git command
to return (so pre-commit's stash of unstaged changes is popped again) and exits 0.
If another run holds the lock it leaves the pending marker for that run (naming the
git command to wait for before syncing again) and exits 0.
"""
from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks import dirs
from memvault_hooks import fastpath
from memvault_hooks import processes
from memvault_hooks import triggers
from memvault_hooks.config import Config

if TYPE_CHECKING:  # argparse costs milliseconds the no-change path does not spend
    import argparse

HELP = "what git hooks and pre-commit call: back up in the background, never fail git"
EPILOG = None


def detect_stage(stage: str | None) -> str:
    """The hook name; under pre-commit (which passes none) read from its environment."""
    if stage:
        return stage
    if os.environ.get("PRE_COMMIT_CHECKOUT_TYPE") is not None:
        return "post-checkout"
    if os.environ.get("PRE_COMMIT_IS_SQUASH_MERGE") is not None:
        return "post-merge"
    if os.environ.get("PRE_COMMIT_REWRITE_COMMAND") is not None:
        return "post-rewrite"
    return "post-commit"


def git_pid() -> int:
    """The git command this hook runs for, which the detached sync waits for; 0 for none.

    Our plain hook scripts name it (`MEMVAULT_AFTER_PID=$PPID`). Otherwise it is the
    nearest of our parent and grandparent that is git: git itself runs a hook that execs
    us, pre-commit (which restores its stash of unstaged changes before it exits) or a
    user's hook script runs us under git. Under pre-commit run by hand, pre-commit itself.
    Run from a terminal there is nothing to wait for.
    """
    named = os.environ.get("MEMVAULT_AFTER_PID", "")
    if named.isdigit() and int(named) > 1:
        return int(named)
    parent = os.getppid()
    if processes.name_of(parent).startswith("git"):
        return parent
    grandparent = processes.parent_of(parent)
    if grandparent and grandparent > 1 and processes.name_of(grandparent).startswith("git"):
        return grandparent
    return parent if os.environ.get("PRE_COMMIT") == "1" else 0


def _load_config(directory: str | None, explicit: str | None) -> Config:
    cached = fastpath.cached_config(dirs.find_project(directory), explicit)
    if cached is not None:
        return cached
    from memvault_hooks import config

    return config.from_args(directory, explicit, trusted=False)


def python() -> str:
    """The interpreter memvault runs under, by absolute path: with `-I` (isolated mode) it
    imports the installed package, never a `memvault_hooks` folder of the project."""
    return os.path.abspath(sys.executable)


def _spawn_sync(config: Config, explicit: str | None, stage: str, lock_fd: int, after_pid: int) -> None:
    """Start `memvault sync` detached (own session, no terminal), holding the lock."""
    argv = [python(), "-I", "-m", "memvault_hooks", "-C", config.project]
    if explicit:
        argv += ["--config", os.path.abspath(explicit)]
    argv += ["sync", "--trigger", stage, "--quiet", "--lock-fd", str(lock_fd), "--after-pid", str(after_pid)]
    error_log = config.error_log
    dirs.make_private_dir(os.path.dirname(error_log))
    os.set_inheritable(lock_fd, True)
    os.posix_spawn(argv[0], argv, os.environ, setsid=True, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, error_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
    ])


def _not_allowed(config: Config) -> int:
    """Nothing is done until the user allows the config: say so on stderr, once a hook.

    Exit 0, as always for a hook; under the pre-commit framework, which shows a hook's
    output only when it reports failure, exit 1 so that the line is seen (a post-* hook's
    status never stops git)."""
    from memvault_hooks import trust

    sys.stderr.write(f"memvault: backup skipped: {trust.message(config.to_dict())}\n")
    return 1 if os.environ.get("PRE_COMMIT") == "1" else 0


def fast(directory: str | None, explicit: str | None, rest: list[str]) -> int:
    stage = detect_stage(rest[0] if rest and not rest[0].startswith("-") else None)
    if stage not in triggers.HOOK_STAGES:
        sys.stderr.write(f"memvault: error: unknown hook stage {stage!r}; "
                         f"expected one of {', '.join(triggers.HOOK_STAGES)}\n")
        return 2
    try:
        config = _load_config(directory, explicit)
        if fastpath.not_allowed(config):
            return _not_allowed(config)
        if fastpath.nothing_changed(config):
            return 0
        from memvault_hooks import file_lock

        vault_path = config.vault_path
        after_pid = git_pid()
        file_lock.mark_pending(vault_path, stage, after_pid or None)
        fd = file_lock.try_acquire(vault_path)
        if fd is None:
            return 0  # the run holding the lock picks up the pending marker
        _spawn_sync(config, explicit, stage, fd, after_pid)
        os.close(fd)
    except Exception as exc:  # a hook never fails the user's git command
        sys.stderr.write(f"memvault: backup skipped: {exc}\n")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import argparse  # not at the top: the no-change path answers without it

    parser.add_argument("stage", nargs="?", metavar="STAGE",
                        help="the git hook name: post-commit, post-checkout, post-merge or post-rewrite "
                             "(detected under pre-commit, which passes none)")
    parser.add_argument("hook_args", nargs=argparse.REMAINDER, metavar="GIT-HOOK-ARGS",
                        help="the git hook's own arguments (passed through, unused)")


def run(args: argparse.Namespace) -> int:
    rest = ([args.stage] if args.stage else []) + list(args.hook_args)
    return fast(args.directory, args.config, rest)
