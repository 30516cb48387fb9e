"""`memvault hook`: stage detection under pre-commit, handing work to a detached sync that
waits for the git command, and coalescing hooks that fire while it runs."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from support import MEMVAULT
from support import Project
from trigger_support import commit_count
from trigger_support import settle
from trigger_support import stored
from trigger_support import trailers

PRE_COMMIT_ENV = {
    "post-commit": {},
    "post-checkout": {"PRE_COMMIT_CHECKOUT_TYPE": "1", "PRE_COMMIT_FROM_REF": "a", "PRE_COMMIT_TO_REF": "b"},
    "post-merge": {"PRE_COMMIT_IS_SQUASH_MERGE": "0"},
    "post-rewrite": {"PRE_COMMIT_REWRITE_COMMAND": "amend"},
}


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


@pytest.mark.parametrize("stage", sorted(PRE_COMMIT_ENV))
def test_stage_is_read_from_pre_commits_environment(project: Project, stage: str) -> None:
    assert project.sync().returncode == 0
    project.write("memory.json", f'{{"stage": "{stage}"}}')
    # run as pre-commit runs it: from a parent process that exits once the hook is done
    proc = subprocess.run(["sh", "-c", '"$@"; exit $?', "pre-commit", *MEMVAULT, "hook"], cwd=project.root,
                          env=_env(PRE_COMMIT="1", **PRE_COMMIT_ENV[stage]), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    settle(project.vault)
    assert trailers(project.vault)["Memvault-Trigger"] == stage


def test_unknown_stage_is_a_usage_error(project: Project) -> None:
    proc = project.run("hook", "pre-push")
    assert proc.returncode == 2 and "pre-push" in proc.stderr


def test_nothing_changed_makes_no_commit(project: Project) -> None:
    for name in ("memory.json", "gpt4o_memories.json"):  # written well before they are read
        os.utime(project.root / name, (time.time() - 60, time.time() - 60))
    assert project.sync().returncode == 0
    count = commit_count(project.vault)
    proc = project.run("hook", "post-commit")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert not (project.vault / ".memvault-pending").exists()
    settle(project.vault)
    assert commit_count(project.vault) == count


def test_sync_waits_for_git_and_takes_hooks_fired_meanwhile(project: Project) -> None:
    assert project.sync().returncode == 0
    count = commit_count(project.vault)
    fake_git = subprocess.Popen(["sleep", "60"])
    try:
        env = _env(MEMVAULT_AFTER_PID=str(fake_git.pid))
        project.write("memory.json", '{"n": 1}')
        assert project.run("hook", "post-commit", env=env).returncode == 0
        project.write("memory.json", '{"n": 2}')
        assert project.run("hook", "post-rewrite", "amend", env=env).returncode == 0  # lock held: leaves a note
        time.sleep(0.5)
        assert commit_count(project.vault) == count  # nothing while "git" still runs
    finally:
        fake_git.kill()
        fake_git.wait()
    settle(project.vault)
    assert commit_count(project.vault) == count + 1  # both hooks, one vault commit
    assert stored(project.vault, "memory.json") == b'{"n": 2}'
    assert trailers(project.vault)["Memvault-Trigger"] == "post-rewrite"


def test_hook_never_fails_git(project: Project) -> None:
    project.config("version: 1\nnot_a_key: 1\n")  # a broken config must not break the git command
    proc = project.run("hook", "post-commit")
    assert proc.returncode == 0
    assert "not_a_key" in proc.stderr
