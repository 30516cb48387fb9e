"""The pre-commit route, end to end: a user repository whose `.pre-commit-config.yaml`
points at a clone of this repository, `pre-commit install`, then real git commands."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import DATA
from support import Project
from support import git
from support import memvault
from trigger_support import settle
from trigger_support import stored
from trigger_support import trailers
from trigger_support import user_state

pytest.importorskip("pre_commit", reason="pre-commit is a test dependency: .ci/run installs it with .[test]")

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def _session_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(home / "pre-commit"))
    for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        env.pop(var, None)
    (home / ".gitconfig").write_text("[user]\n\tname = Tester\n\temail = tester@example.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n")
    return env


def _config(repo: str, rev: str, slow_neighbour: bool = False) -> str:
    text = ("default_install_hook_types: [post-commit, post-checkout, post-merge, post-rewrite]\n"
            "repos:\n"
            f"-   repo: {repo}\n"
            f"    rev: {rev}\n"
            "    hooks:\n"
            "    -   id: memvault-sync\n")
    if slow_neighbour:
        # Another post-commit hook after ours keeps pre-commit's stash of unstaged changes
        # in place for a second after memvault-sync has returned.
        text += ("-   repo: local\n"
                 "    hooks:\n"
                 "    -   id: slow-neighbour\n"
                 "        name: slow neighbour\n"
                 "        entry: sleep 1\n"
                 "        language: system\n"
                 "        stages: [post-commit]\n"
                 "        always_run: true\n"
                 "        pass_filenames: false\n")
    return text


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(clone of this repository holding the working tree's files, its sha, PRE_COMMIT_HOME),
    with memvault-sync's environment built once for the session."""
    home = tmp_path_factory.mktemp("pre-commit-session")
    env = _session_env(home)
    clone = home / "memvault-hooks"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True, env=env)
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True, env=env).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src, dst = REPO / rel, clone / rel
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif dst.exists():
            dst.unlink()
    subprocess.run(["git", "-C", str(clone), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "commit", "-q", "--allow-empty", "-m", "test snapshot"],
                   check=True, env=env)
    rev = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], check=True, capture_output=True,
                         text=True, env=env).stdout.strip()
    warm = home / "warm"
    warm.mkdir()
    subprocess.run(["git", "init", "-q", str(warm)], check=True, env=env)
    (warm / ".pre-commit-config.yaml").write_text(_config(str(clone), rev))
    proc = subprocess.run([*PRE_COMMIT, "install-hooks"], cwd=warm, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield str(clone), rev, env["PRE_COMMIT_HOME"]


def _setup(root: Path, vault: Path, hook_repo: tuple[str, str, str]) -> None:
    """A user repository using memvault through pre-commit: memory.json is gitignored,
    gpt4o_memories.json is tracked."""
    (root / ".gitignore").write_text("memory.json\n.memvault.yaml\n")
    (root / ".pre-commit-config.yaml").write_text(_config(hook_repo[0], hook_repo[1], slow_neighbour=True))
    git(root, "add", ".gitignore", ".pre-commit-config.yaml", "gpt4o_memories.json")
    git(root, "commit", "-q", "-m", "use memvault through pre-commit")
    proc = subprocess.run([*PRE_COMMIT, "install"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "post-rewrite" in proc.stdout


def _write(path: Path, text: str) -> bytes:
    path.write_text(text)
    return path.read_bytes()


def _git_then_check(root: Path, vault: Path, trigger: str, *args: str) -> None:
    """Run a git command; once the detached sync is done, the vault holds the live memory
    (unstaged edits included), named after `trigger`, and the user's repository is as git left it."""
    git(root, *args)
    after_git = user_state(root)
    settle(vault)
    assert trailers(vault)["Memvault-Trigger"] == trigger, args
    assert trailers(vault)["Memvault-Source-Commit"] == git(root, "rev-parse", "HEAD").strip()
    for rel in ("memory.json", "gpt4o_memories.json"):
        assert stored(vault, rel) == (root / rel).read_bytes(), (args, rel)
    assert user_state(root) == after_git


@pytest.mark.parametrize("where", ["checkout", "worktree"])
def test_git_commands_back_up_through_pre_commit(project: Project, hook_repo: tuple[str, str, str],
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 where: str) -> None:
    monkeypatch.setenv("PRE_COMMIT_HOME", hook_repo[2])
    _setup(project.root, project.vault, hook_repo)
    root, vault = project.root, project.vault
    if where == "worktree":
        root, vault = tmp_path / "tree", tmp_path / "tree-vault"
        git(project.root, "worktree", "add", "-q", "-b", "side", str(root))
        (root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {vault}\n")
        shutil.copy(DATA / "memory.json", root / "memory.json")
    base = git(root, "branch", "--show-current").strip()
    assert memvault("sync", cwd=root).returncode == 0

    # post-commit, with a tracked memory file whose edits stay unstaged (pre-commit stashes them)
    _write(root / "memory.json", '{"step": "commit"}')
    live = _write(root / "gpt4o_memories.json", '{"unstaged": "edit"}')
    (root / "a.txt").write_text("a\n")
    git(root, "add", "a.txt")
    _git_then_check(root, vault, "post-commit", "commit", "-q", "-m", "a")
    assert stored(vault, "gpt4o_memories.json") == live
    assert git(root, "diff", "--name-only").split() == ["gpt4o_memories.json"]  # still unstaged

    _write(root / "memory.json", '{"step": "checkout"}')
    _git_then_check(root, vault, "post-checkout", "checkout", "-q", "-b", f"feature-{where}")

    (root / "b.txt").write_text("b\n")
    git(root, "add", "b.txt")
    git(root, "commit", "-q", "-m", "b")
    git(root, "checkout", "-q", base)
    settle(vault)
    _write(root / "memory.json", '{"step": "merge"}')
    _git_then_check(root, vault, "post-merge", "merge", "-q", "--no-ff", "--no-edit", f"feature-{where}")

    # amend fires post-commit and then post-rewrite: the one vault commit is the rewrite's
    _write(root / "memory.json", '{"step": "amend"}')
    _git_then_check(root, vault, "post-rewrite", "commit", "-q", "--amend", "--no-edit")

    # rebase needs a clean tree: commit the tracked memory file first
    git(root, "commit", "-q", "-am", "memory")
    git(root, "checkout", "-q", "-b", f"topic-{where}", "HEAD~1")
    for name in ("c1", "c2", "c3"):
        (root / f"{name}.txt").write_text(name)
        git(root, "add", f"{name}.txt")
        git(root, "commit", "-q", "-m", name)
    settle(vault)
    _write(root / "memory.json", '{"step": "rebase"}')
    _git_then_check(root, vault, "post-rewrite", "rebase", "-q", base)
    assert not (vault / ".memvault-pending").exists()


def test_manifest_is_valid_and_the_readme_config_names_it() -> None:
    proc = subprocess.run([*PRE_COMMIT, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
