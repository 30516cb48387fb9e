"""`memvault install-hooks`: real git commands fire the installed plain hooks."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from support import Project
from support import git
from support import make_project
from support import memvault
from trigger_support import commit_count
from trigger_support import settle
from trigger_support import stored
from trigger_support import trailers
from trigger_support import user_state

from memvault_hooks import hook_scripts
from memvault_hooks import triggers
from memvault_hooks.commands import install_hooks

STAGES = triggers.HOOK_STAGES
REPO = Path(__file__).resolve().parents[2]


def _install(project: Project, *extra: str) -> None:
    proc = project.run("install-hooks", *extra)
    assert proc.returncode == 0, proc.stderr


def _baseline(project: Project) -> None:
    assert project.sync().returncode == 0
    settle(project.vault)


def _edit(project: Project, rel: str = "memory.json", value: object = None) -> bytes:
    data = json.dumps({"note": value if value is not None else os.urandom(4).hex()}).encode()
    project.write(rel, data)
    return data


def test_repository_hook_scripts_are_the_rendered_template() -> None:
    for stage in STAGES:
        path = REPO / "hooks" / stage
        assert path.read_text() == hook_scripts.render(stage), f"hooks/{stage} is stale"
        assert path.stat().st_mode & stat.S_IXUSR


def test_commit_and_checkout_make_vault_commits(project: Project) -> None:
    _install(project)
    _baseline(project)
    hooks = Path(git(project.root, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip())
    script = (hooks / "post-commit").read_text()
    assert os.path.abspath(sys.executable) in script  # absolute interpreter: works from any shell
    assert install_hooks.installed(str(project.root))
    assert json.loads(project.run("status", "--json").stdout)["hooks_installed"] is True

    content = _edit(project)
    git(project.root, "commit", "-q", "--allow-empty", "-m", "work")
    before = user_state(project.root)
    settle(project.vault)
    assert trailers(project.vault)["Memvault-Trigger"] == "post-commit"
    assert trailers(project.vault)["Memvault-Source-Commit"] == git(project.root, "rev-parse", "HEAD").strip()
    assert stored(project.vault, "memory.json") == content
    assert user_state(project.root) == before

    content = _edit(project)
    git(project.root, "checkout", "-q", "-b", "feature")
    settle(project.vault)
    assert trailers(project.vault)["Memvault-Trigger"] == "post-checkout"
    assert stored(project.vault, "memory.json") == content

    count = commit_count(project.vault)
    git(project.root, "commit", "-q", "--allow-empty", "-m", "nothing changed")
    settle(project.vault)
    assert commit_count(project.vault) == count  # unchanged memory: no vault commit


def test_merge_and_amend(project: Project) -> None:
    _install(project)
    _baseline(project)
    git(project.root, "checkout", "-q", "-b", "feature")
    (project.root / "f.txt").write_text("f\n")
    git(project.root, "add", "f.txt")
    git(project.root, "commit", "-q", "-m", "f")
    git(project.root, "checkout", "-q", "main")
    settle(project.vault)

    content = _edit(project)
    git(project.root, "merge", "-q", "--no-edit", "--no-ff", "feature")
    settle(project.vault)
    assert trailers(project.vault)["Memvault-Trigger"] == "post-merge"
    assert stored(project.vault, "memory.json") == content

    content = _edit(project)
    count = commit_count(project.vault)
    git(project.root, "commit", "-q", "--amend", "--no-edit")
    settle(project.vault)
    # amend fires post-commit then post-rewrite: one vault commit, named after the rewrite
    assert commit_count(project.vault) == count + 1
    assert trailers(project.vault)["Memvault-Trigger"] == "post-rewrite"
    assert stored(project.vault, "memory.json") == content


def test_rebase_of_twenty_commits_costs_few_vault_commits(project: Project) -> None:
    git(project.root, "add", "memory.json")
    git(project.root, "commit", "-q", "-m", "track memory")
    counter = project.root / "post-commit-calls"
    hooks = project.root / ".git" / "hooks"
    (hooks / "post-commit").write_text(f"#!/bin/sh\necho x >> '{counter}'\n")
    (hooks / "post-commit").chmod(0o755)
    git(project.root, "checkout", "-q", "-b", "feature")
    for i in range(20):
        _edit(project, value=f"step {i}")
        git(project.root, "commit", "-q", "-am", f"step {i}")
    git(project.root, "checkout", "-q", "main")
    (project.root / "other.txt").write_text("other\n")
    git(project.root, "add", "other.txt")
    git(project.root, "commit", "-q", "-m", "other")
    git(project.root, "checkout", "-q", "feature")
    _install(project)
    _baseline(project)
    counter.unlink()
    count = commit_count(project.vault)
    untracked = _edit(project, "gpt4o_memories.json")  # a change for the hooks to back up

    git(project.root, "rebase", "-q", "main")
    settle(project.vault)
    assert len(counter.read_text().splitlines()) == 20  # the chained hook ran for every commit
    added = commit_count(project.vault) - count
    assert 1 <= added <= 3
    assert trailers(project.vault)["Memvault-Trigger"] == "post-rewrite"
    assert stored(project.vault, "memory.json") == (project.root / "memory.json").read_bytes()
    assert stored(project.vault, "gpt4o_memories.json") == untracked
    status = json.loads(project.run("status", "--json").stdout)
    assert status["last_error"] is None


def test_existing_hook_is_kept_and_runs_once_with_args_and_stdin(project: Project) -> None:
    hooks = project.root / ".git" / "hooks"
    record = project.root / "foreign.log"
    foreign = {
        "post-rewrite": f"#!/bin/sh\necho \"rewrite $*\" >> '{record}'\ncat >> '{record}'\n",
        "post-checkout": f"#!/bin/sh\necho \"checkout $3\" >> '{record}'\nexit 3\n",
    }
    for stage, text in foreign.items():
        (hooks / stage).write_text(text)
        (hooks / stage).chmod(0o755)
    _install(project)
    _install(project)  # twice changes nothing
    for stage, text in foreign.items():
        assert (hooks / f"{stage}.pre-memvault").read_text() == text
        assert hook_scripts.is_ours((hooks / stage).read_text())
    assert sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample")) == sorted(
        [*STAGES, "post-rewrite.pre-memvault", "post-checkout.pre-memvault"])
    _baseline(project)

    old = git(project.root, "rev-parse", "HEAD").strip()
    content = _edit(project)
    git(project.root, "commit", "-q", "--amend", "--no-edit", "--allow-empty")
    new = git(project.root, "rev-parse", "HEAD").strip()
    settle(project.vault)
    assert record.read_text() == f"rewrite amend\n{old} {new}\n"  # exactly once, args and stdin
    assert stored(project.vault, "memory.json") == content

    proc = subprocess.run(["git", "-C", str(project.root), "checkout", "-q", "-b", "x"])
    assert proc.returncode != 0  # the kept post-checkout failed, and git says so, as without us
    assert record.read_text().endswith("checkout 1\n")

    proc2 = project.run("install-hooks", "--uninstall")
    assert proc2.returncode == 0, proc2.stderr
    for stage, text in foreign.items():
        assert (hooks / stage).read_text() == text
        assert not (hooks / f"{stage}.pre-memvault").exists()
    for stage in ("post-commit", "post-merge"):
        assert not (hooks / stage).exists()
    assert not install_hooks.installed(str(project.root))
    assert json.loads(project.run("status", "--json").stdout)["hooks_installed"] is False


def test_core_hooks_path_is_honoured(project: Project) -> None:
    git(project.root, "config", "core.hooksPath", ".githooks")
    _install(project)
    assert all((project.root / ".githooks" / stage).is_file() for stage in STAGES)
    assert not (project.root / ".git" / "hooks" / "post-commit").exists()
    assert install_hooks.installed(str(project.root))
    _baseline(project)
    content = _edit(project)
    git(project.root, "commit", "-q", "--allow-empty", "-m", "x")
    settle(project.vault)
    assert trailers(project.vault)["Memvault-Trigger"] == "post-commit"
    assert stored(project.vault, "memory.json") == content
    _install(project, "--uninstall")
    assert not any((project.root / ".githooks" / stage).exists() for stage in STAGES)


def test_linked_worktree(project: Project, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    git(project.root, "worktree", "add", "-q", "-b", "side", str(tree))
    vault = tmp_path / "tree-vault"
    (tree / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {vault}\n")
    (tree / "memory.json").write_text('{"tree": 1}')
    proc = memvault("install-hooks", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert (project.root / ".git" / "hooks" / "post-commit").is_file()  # the common hooks folder
    assert memvault("sync", cwd=tree).returncode == 0
    (tree / "memory.json").write_text('{"tree": 2}')
    git(tree, "commit", "-q", "--allow-empty", "-m", "in the worktree")
    before = user_state(tree)
    settle(vault)
    assert trailers(vault)["Memvault-Trigger"] == "post-commit"
    assert trailers(vault)["Memvault-Source-Commit"] == git(tree, "rev-parse", "HEAD").strip()
    assert stored(vault, "memory.json") == b'{"tree": 2}'
    assert user_state(tree) == before


def test_submodule(tmp_path: Path) -> None:
    (tmp_path / "up").mkdir()
    upstream = make_project(tmp_path / "up")
    superproject = tmp_path / "super"
    superproject.mkdir()
    git(superproject, "init", "-q", "-b", "main")
    git(superproject, "commit", "-q", "--allow-empty", "-m", "super")
    git(superproject, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(upstream.root), "sub")
    git(superproject, "commit", "-q", "-m", "add sub")
    sub = superproject / "sub"
    vault = tmp_path / "sub-vault"
    (sub / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {vault}\n")
    (sub / "memory.json").write_text('{"sub": 1}')
    proc = memvault("install-hooks", cwd=sub)
    assert proc.returncode == 0, proc.stderr
    assert (superproject / ".git" / "modules" / "sub" / "hooks" / "post-commit").is_file()
    assert memvault("sync", cwd=sub).returncode == 0
    super_before = user_state(superproject)
    (sub / "memory.json").write_text('{"sub": 2}')
    git(sub, "commit", "-q", "--allow-empty", "-m", "in the submodule")
    sub_before = user_state(sub)
    settle(vault)
    assert trailers(vault)["Memvault-Trigger"] == "post-commit"
    assert trailers(vault)["Memvault-Source-Commit"] == git(sub, "rev-parse", "HEAD").strip()
    assert stored(vault, "memory.json") == b'{"sub": 2}'
    assert user_state(sub) == sub_before
    assert user_state(superproject)[:2] == super_before[:2]  # its diff moved with the user's commit


def test_pre_commit_hooks_are_not_overwritten(project: Project) -> None:
    hooks = project.root / ".git" / "hooks"
    text = "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexit 0\n"
    (hooks / "post-commit").write_text(text)
    (hooks / "post-commit").chmod(0o755)
    proc = project.run("install-hooks")
    assert proc.returncode == 1
    assert "memvault-sync" in proc.stderr and "pre-commit install" in proc.stderr
    assert (hooks / "post-commit").read_text() == text
    assert not (hooks / "post-checkout").exists()
    assert not install_hooks.installed(str(project.root))
    (project.root / ".pre-commit-config.yaml").write_text("repos: []  # memvault-sync not yet\n")
    for stage in STAGES:
        (hooks / stage).write_text(text)
    assert install_hooks.installed(str(project.root))  # the pre-commit route counts


def test_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    proc = memvault("-C", str(folder), "install-hooks", cwd=tmp_path)
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr
    assert not install_hooks.installed(str(folder))
