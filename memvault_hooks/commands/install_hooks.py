"""`memvault install-hooks [--uninstall]`: plain git hooks for the project.

They go where git really looks (`git rev-parse --git-path hooks`: core.hooksPath when
set, the common git folder from a linked worktree, `.git/modules/<name>` for a
submodule). A hook that is already there and not ours is kept as
`<stage>.pre-memvault` and still runs; `--uninstall` puts it back. Hooks written by
pre-commit are never replaced: the message says how to add memvault to pre-commit.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from memvault_hooks import dirs
from memvault_hooks import gitenv
from memvault_hooks import hook_scripts
from memvault_hooks import triggers
from memvault_hooks.atomic import write_atomic
from memvault_hooks.errors import MemvaultError
from memvault_hooks.errors import UsageError

PRE_COMMIT_ROUTE = """\
pre-commit manages the git hooks in {hooks_dir} ({stages}); memvault leaves them alone.
Add memvault to pre-commit instead, in {project}/.pre-commit-config.yaml:

    default_install_hook_types: [pre-commit, post-commit, post-checkout, post-merge, post-rewrite]
    repos:
    -   repo: <the memvault-hooks repository URL>
        rev: <tag or sha>
        hooks:
        -   id: memvault-sync

then run: pre-commit install"""


def hooks_dir(project: str) -> str:
    """The folder git runs the project's hooks from (absolute).

    Not through `gitenv.run_git`: that one turns hooks off (core.hooksPath=/dev/null)
    for the vault, and here the project's own setting is the answer wanted."""
    proc = subprocess.run(["git", "-C", project, "rev-parse", "--path-format=absolute", "--git-path", "hooks"],
                          capture_output=True, stdin=subprocess.DEVNULL, env=gitenv.git_env())
    if proc.returncode != 0:
        raise UsageError(f"{project} is not a git repository: run this inside your project, or give -C DIR")
    return proc.stdout.decode().strip()


def _read(path: str) -> str | None:
    """The hook's text; None when there is none ('' when it cannot be read: a broken link)."""
    if not os.path.lexists(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def hook_kinds(project: str) -> dict[str, str]:
    """Each stage's hook: "memvault", "pre-commit", "other" or "absent" (all absent outside git)."""
    try:
        folder = hooks_dir(project)
    except MemvaultError:
        return {stage: "absent" for stage in triggers.HOOK_STAGES}
    kinds = {}
    for stage in triggers.HOOK_STAGES:
        text = _read(os.path.join(folder, stage))
        if text is None:
            kinds[stage] = "absent"
        elif hook_scripts.is_ours(text):
            kinds[stage] = "memvault"
        elif hook_scripts.is_pre_commit(text):
            kinds[stage] = "pre-commit"
        else:
            kinds[stage] = "other"
    return kinds


def installed(project: str) -> bool:
    """True when every stage runs memvault: our plain hooks, or pre-commit's hooks with
    `memvault-sync` in the project's .pre-commit-config.yaml."""
    kinds = hook_kinds(project)
    if all(kind == "memvault" for kind in kinds.values()):
        return True
    if all(kind in ("memvault", "pre-commit") for kind in kinds.values()):
        return "memvault-sync" in (_read(os.path.join(project, ".pre-commit-config.yaml")) or "")
    return False


def install(project: str, config_file: str | None = None) -> list[str]:
    """Install (or refresh) the four hooks; returns what was done, one line a stage."""
    folder = hooks_dir(project)
    paths = {stage: os.path.join(folder, stage) for stage in triggers.HOOK_STAGES}
    current = {stage: _read(path) for stage, path in paths.items()}
    by_pre_commit = [stage for stage, text in current.items() if text and hook_scripts.is_pre_commit(text)]
    if by_pre_commit:
        raise MemvaultError(PRE_COMMIT_ROUTE.format(hooks_dir=folder, stages=", ".join(by_pre_commit),
                                                    project=project))
    for stage, text in current.items():
        previous = paths[stage] + hook_scripts.PREVIOUS_SUFFIX
        if text is not None and not hook_scripts.is_ours(text) and os.path.lexists(previous):
            raise MemvaultError(f"{paths[stage]} is not memvault's, and {previous} is taken too: "
                                f"merge them by hand into {previous}, remove {paths[stage]}, and run this again")
    os.makedirs(folder, exist_ok=True)
    python = os.path.abspath(sys.executable)
    done = []
    for stage, path in paths.items():
        text = current[stage]
        script = hook_scripts.render(stage, python, config_file)
        if text == script:
            done.append(f"{stage}: already installed")
            continue
        if text is not None and not hook_scripts.is_ours(text):
            os.rename(path, path + hook_scripts.PREVIOUS_SUFFIX)
            done.append(f"{stage}: installed; the hook that was there runs after it "
                        f"({stage}{hook_scripts.PREVIOUS_SUFFIX})")
        else:
            done.append(f"{stage}: {'updated' if text is not None else 'installed'}")
        write_atomic(path, script.encode(), 0o755)
    return done


def uninstall(project: str) -> list[str]:
    """Remove our hooks, putting back the ones they kept."""
    folder = hooks_dir(project)
    done = []
    for stage in triggers.HOOK_STAGES:
        path = os.path.join(folder, stage)
        previous = path + hook_scripts.PREVIOUS_SUFFIX
        text = _read(path)
        if text is None or not hook_scripts.is_ours(text):
            if text is not None:
                done.append(f"{stage}: not memvault's, left alone")
            continue
        if os.path.lexists(previous):
            os.replace(previous, path)
            done.append(f"{stage}: removed; the earlier hook is back")
        else:
            os.unlink(path)
            done.append(f"{stage}: removed")
    return done


def global_hooks_path(project: str) -> str | None:
    """core.hooksPath when it comes from the user's global or the system git config (not
    the repository's own): the folder every repository on the machine runs hooks from."""
    for scope in ("--global", "--system"):
        proc = subprocess.run(["git", "-C", project, "config", scope, "--path", "--get", "core.hooksPath"],
                              capture_output=True, stdin=subprocess.DEVNULL, env=gitenv.git_env())
        if proc.returncode == 0 and proc.stdout.strip():
            local = subprocess.run(["git", "-C", project, "config", "--local", "--get", "core.hooksPath"],
                                   capture_output=True, stdin=subprocess.DEVNULL, env=gitenv.git_env())
            if local.returncode == 0 and local.stdout.strip():
                return None  # the repository's own setting wins
            return proc.stdout.decode().strip()
    return None


GLOBAL_WARNING = (
    "{folder} is core.hooksPath in your {scope} git config: EVERY git repository on this machine runs "
    "these hooks, so a memvault backup starts in each of them on commit, checkout and merge "
    "(each project's settings that reach outside it still wait for `memvault allow`). "
    "To limit them to this project: git config --local core.hooksPath .git/hooks, then run this again")


HELP = ("install plain git hooks into the project (respecting core.hooksPath), "
        "keeping and still running any hook already there")
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uninstall", action="store_true", help="remove them, putting back what was there")


def run(args: argparse.Namespace) -> int:
    from memvault_hooks import config

    project = dirs.find_project(args.directory)
    if args.uninstall:
        done = uninstall(project)
    else:
        cfg = config.from_args(args.directory, args.config)  # the trust rule: allowed settings only
        done = install(project, cfg.config_file if args.config else None)
    folder = hooks_dir(project)
    for line in done or ["no memvault hooks to remove"]:
        print(f"memvault: {line}")
    print(f"memvault: hooks folder: {folder}")
    shared = global_hooks_path(project)
    if shared is not None and not args.uninstall:
        sys.stderr.write("memvault: warning: " + GLOBAL_WARNING.format(folder=folder, scope="global or system") + "\n")
    return 0
