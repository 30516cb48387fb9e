"""The history side under a git hook's environment, and version choice on real vaults."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from support import Project
from support import git
from vault_support import commit_time
from vault_support import make_versions
from vault_support import ok
from vault_support import revs

from memvault_hooks import config
from memvault_hooks.history.history import History
from memvault_hooks.history.history import NoVersion


def _hook_env(project: Project) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GIT_DIR": str(project.root / ".git"), "GIT_WORK_TREE": str(project.root),
                "GIT_INDEX_FILE": str(project.root / ".git" / "index"), "GIT_PREFIX": ""})
    return env


def test_history_commands_ignore_a_hooks_git_variables(project: Project) -> None:
    made = make_versions(project, 2)
    index_before = (project.root / ".git" / "index").read_bytes()
    env = _hook_env(project)
    log = json.loads(ok(project.run("log", "--json", env=env)).stdout)
    assert [e["rev"] for e in log] == made[::-1]
    project.write("memory.json", '{"live": 1}')
    ok(project.run("restore", "--rev", made[0], env=env))
    assert json.loads((project.root / "memory.json").read_text())["version"] == 0
    assert (project.root / ".git" / "index").read_bytes() == index_before
    assert git(project.root, "status", "--porcelain", "--untracked-files=no") == ""
    assert json.loads(ok(project.run("verify", "--json", env=env)).stdout)["ok"] is True


def test_version_choice(project: Project) -> None:
    made = make_versions(project, 3, spaced=True)
    cfg = config.from_args(str(project.root), None)
    times = [commit_time(project, rev) for rev in made]
    with History(cfg) as hist:
        assert [v.rev for v in hist.versions()] == made[::-1]
        at = lambda t: hist.at(dt.datetime.fromtimestamp(t, dt.timezone.utc)).rev  # noqa: E731
        assert at(times[0]) == made[0]
        assert at(times[1] - 0.5) == made[0]
        assert at(times[2] + 3600) == made[2]
        with pytest.raises(NoVersion, match="first backup was made at"):
            at(times[0] - 1)
        assert hist.first().rev == made[0]  # type: ignore[union-attr]
        assert hist.rev(made[1][:7]).rev == made[1]
        assert hist.rev("HEAD~2").rev == made[0]
        assert hist.read(hist.rev(made[0]), "missing.json") is None
        assert set(hist.blobs(hist.latest())) == {"memory.json", "gpt4o_memories.json"}
    assert revs(project) == made[::-1]
