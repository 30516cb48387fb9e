"""Git's hook environment never reaches the vault, and the project's index and refs stay put."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from memvault_hooks.vault import gitenv
from support import Project
from support import git


def _project_snapshot(root: Path, git_dir: Path) -> tuple[str, str, str, bytes]:
    return (git(root, "ls-files", "-s"), git(root, "rev-parse", "HEAD"),
            git(root, "for-each-ref"), (git_dir / "index").read_bytes())


def test_no_git_env_drops_hook_variables() -> None:
    env = {"GIT_DIR": "x", "GIT_INDEX_FILE": "y", "GIT_WORK_TREE": "z", "GIT_PREFIX": "p",
           "GIT_SSH_COMMAND": "ssh", "GIT_CONFIG_KEY_0": "k", "GIT_ASKPASS": "a", "PATH": "/bin"}
    assert gitenv.no_git_env(env) == {"GIT_SSH_COMMAND": "ssh", "GIT_CONFIG_KEY_0": "k",
                                      "GIT_ASKPASS": "a", "PATH": "/bin"}


def test_hook_environment_does_not_touch_project(project: Project) -> None:
    project.write("tracked.txt", "staged content\n")
    git(project.root, "add", "tracked.txt")  # something staged: the index must keep it
    git_dir = project.root / ".git"
    before = _project_snapshot(project.root, git_dir)
    env = {**os.environ, "GIT_DIR": str(git_dir), "GIT_INDEX_FILE": str(git_dir / "index"),
           "GIT_WORK_TREE": str(project.root), "GIT_PREFIX": "", "GIT_EDITOR": ":"}
    proc = project.sync("--trigger", "post-commit", env=env)
    assert proc.returncode == 0, proc.stderr
    assert _project_snapshot(project.root, git_dir) == before
    assert (project.stored / "memory.json").exists()
    assert git(project.vault, "rev-list", "--count", "HEAD").strip() == "1"


def test_linked_worktree_hook_environment(project: Project, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(project.root, "worktree", "add", "-q", "-b", "feature", str(wt))
    (wt / "memory.json").write_text('{"from": "worktree"}')
    (wt / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {tmp_path / 'wt-vault'}\n")
    git(wt, "commit", "--allow-empty", "-qm", "on feature")
    wt_git_dir = project.root / ".git" / "worktrees" / "wt"
    main_before = _project_snapshot(project.root, project.root / ".git")
    wt_before = _project_snapshot(wt, wt_git_dir)
    env = {**os.environ, "GIT_DIR": str(wt_git_dir), "GIT_INDEX_FILE": str(wt_git_dir / "index"),
           "GIT_WORK_TREE": str(wt), "GIT_COMMON_DIR": str(project.root / ".git")}
    from support import memvault

    proc = memvault("sync", "--trigger", "post-commit", cwd=wt, env=env)
    assert proc.returncode == 0, proc.stderr
    assert _project_snapshot(project.root, project.root / ".git") == main_before
    assert _project_snapshot(wt, wt_git_dir) == wt_before
    vault = tmp_path / "wt-vault"
    assert (vault / "rAgentShared" / "memory.json").read_text() == '{"from": "worktree"}'
    message = git(vault, "log", "-1", "--format=%B")
    assert f"Memvault-Source-Commit: {git(wt, 'rev-parse', 'HEAD').strip()}" in message


def test_real_post_commit_hook_in_linked_worktree(project: Project, tmp_path: Path) -> None:
    """A real git post-commit hook (git's own environment) running a foreground sync."""
    hook = project.root / ".git" / "hooks" / "post-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\nexec {sys.executable} -m memvault_hooks sync --trigger post-commit --quiet\n")
    hook.chmod(0o755)
    wt = tmp_path / "wt"
    git(project.root, "worktree", "add", "-q", "-b", "feature", str(wt))
    (wt / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {tmp_path / 'wt-vault'}\n")
    (wt / "memory.json").write_text('{"n": 1}')
    (wt / "staged.txt").write_text("one\n")
    git(wt, "add", "staged.txt")
    git(wt, "commit", "-qm", "add staged")
    (wt / "next.txt").write_text("two\n")
    git(wt, "add", "next.txt")  # staged, then committed: the index must be exactly what git left
    wt_git_dir = project.root / ".git" / "worktrees" / "wt"
    before = _project_snapshot(wt, wt_git_dir)
    (wt / "memory.json").write_text('{"n": 2}')
    assert git(wt, "commit", "-qm", "commit next") == ""
    head = git(wt, "rev-parse", "HEAD").strip()
    assert git(wt, "ls-files", "-s") == before[0]
    assert "next.txt" in git(wt, "show", "--name-only", "--format=", "HEAD")
    vault = tmp_path / "wt-vault"
    assert (vault / "rAgentShared" / "memory.json").read_text() == '{"n": 2}'
    message = git(vault, "log", "-1", "--format=%B")
    assert "Memvault-Trigger: post-commit" in message
    assert f"Memvault-Source-Commit: {head}" in message


def test_git_error_keeps_every_line_that_matters(tmp_path: Path) -> None:
    """ssh's own line and git's whole sentence, not only stderr's last line."""
    try:
        gitenv.run_git(str(tmp_path), "clone", "--quiet", "--", "ssh://nohost.invalid/x.git",
                       str(tmp_path / "dest"), timeout=30)
    except gitenv.GitError as exc:
        said = str(exc)
    else:
        raise AssertionError("a clone from an unresolvable host succeeded")
    assert said.startswith("git clone --quiet failed: ssh: Could not resolve hostname nohost.invalid"), said
    assert ("fatal: Could not read from remote repository. Please make sure you have the correct access "
            "rights and the repository exists.") in said
    assert "\n" not in said and "Cloning into" not in said


def test_reason_of_nothing_said_names_the_exit_code() -> None:
    assert gitenv.reason("", 128) == "git exited 128"
    assert gitenv.reason("hint: try again\n", 1) == "git exited 1"


def test_head_is_read_from_gits_files_as_rev_parse_reads_it(tmp_path: Path) -> None:
    """gitenv.head agrees with `git rev-parse HEAD` in a plain checkout, a linked worktree
    (a `.git` file, refs in the common folder), a detached HEAD, after `pack-refs` (it asks
    git then) and on an unborn branch (None)."""
    from memvault_hooks.vault import gitenv

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    assert gitenv.head(str(repo)) is None   # unborn
    for i in range(2):
        (repo / "f").write_text(str(i))
        git(repo, "add", "f")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", f"c{i}")
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"), "HEAD~1")
    detached = tmp_path / "detached"
    git(repo, "worktree", "add", "-q", "--detach", str(detached), "HEAD~1")
    for where in (repo, tmp_path / "wt", detached):
        assert gitenv.head(str(where)) == git(where, "rev-parse", "HEAD").strip()
    assert gitenv.head(str(repo)) != gitenv.head(str(tmp_path / "wt"))
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert gitenv.head(str(repo)) == git(repo, "rev-parse", "HEAD").strip()
