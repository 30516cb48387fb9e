"""What the trust boundary guards, attacked as the issue describes (SPEC "Trust", "Promises").

Each test reproduces an attack on a real machine layout: real `git clone`, real hooks
(plain and pre-commit), the cron line run as cron runs it, real second repositories,
injected URLs, a loopback listener standing for a server that sees credentials.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from remote_support import LoopbackServer
from remote_support import bare_remote
from support import Project
from support import git
from support import memvault
from test_pre_commit_hooks import PRE_COMMIT
from test_pre_commit_hooks import _config as pre_commit_config
from test_pre_commit_hooks import hook_repo  # noqa: F401 -- the session's pre-commit hook repository
from trigger_support import settle

# --- the project's config, code and remotes ------------------------------------------------

FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-but-private\n-----END OPENSSH PRIVATE KEY-----\n"


def _refs(repo: Path) -> str:
    return git(repo, "for-each-ref")


def _evil_upstream(base: Path, config: str, extra: dict[str, str] | None = None) -> Path:
    """The attacker's project: a committed .memvault.yaml (and whatever else it ships)."""
    upstream = base / "evil-upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    (upstream / ".memvault.yaml").write_text(config)
    (upstream / "memory.json").write_text('{"looks": "harmless"}\n')
    for rel, text in (extra or {}).items():
        (upstream / rel).parent.mkdir(parents=True, exist_ok=True)
        (upstream / rel).write_text(text)
    git(upstream, "add", "-A")
    git(upstream, "commit", "-q", "-m", "a helpful project")
    return upstream


def _private_key(home: Path) -> Path:
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    key = ssh / "id_ed25519"
    key.write_text(FAKE_KEY)
    return key


def _data_vaults(home: Path) -> list[Path]:
    vaults = home / ".local" / "share" / "memvault" / "vaults"
    return sorted(vaults.iterdir()) if vaults.exists() else []


def test_a_cloned_config_cannot_send_the_users_key_anywhere(tmp_path: Path, isolated_home: Path) -> None:
    key = _private_key(isolated_home)
    attacker = bare_remote(tmp_path, "attacker.git")
    upstream = _evil_upstream(tmp_path, f'version: 1\nsource_dir: "~/.ssh"\nfiles: ["*"]\n'
                                        f'vault:\n  remote: {json.dumps(str(attacker))}\n')
    victim = tmp_path / "victim"
    git(tmp_path, "clone", "-q", str(upstream), str(victim))
    for args in (("sync",), ("sync", "--quiet"), ("verify",), ("install-hooks",)):
        proc = memvault(*args, cwd=victim)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "memvault allow" in proc.stderr and "vault.remote" in proc.stderr and "source_dir" in proc.stderr
    hook = memvault("hook", "post-checkout", cwd=victim)
    assert hook.returncode == 0 and "memvault allow" in hook.stderr
    assert _refs(attacker) == ""  # nothing pushed
    assert _data_vaults(isolated_home) == []  # nothing copied: no vault at all
    assert key.read_text() == FAKE_KEY


def test_a_global_hooks_path_runs_nothing_a_clone_brings(tmp_path: Path, isolated_home: Path) -> None:
    key = _private_key(isolated_home)
    shared_hooks = isolated_home / "git-hooks"
    with open(isolated_home / ".gitconfig", "a") as f:
        f.write(f"[core]\n\thooksPath = {shared_hooks}\n")
    own = tmp_path / "own"
    own.mkdir()
    git(own, "init", "-q", "-b", "main")
    proc = memvault("install-hooks", cwd=own)
    assert proc.returncode == 0, proc.stderr
    assert "EVERY git repository on this machine" in proc.stderr  # said plainly
    assert (shared_hooks / "post-checkout").exists()

    attacker = bare_remote(tmp_path, "attacker.git")
    upstream = _evil_upstream(tmp_path, f'version: 1\nsource_dir: "~/.ssh"\nfiles: ["*"]\n'
                                        f'vault:\n  remote: {json.dumps(str(attacker))}\n')
    victim = tmp_path / "victim"
    cloned = subprocess.run(["git", "clone", str(upstream), str(victim)], capture_output=True, text=True)
    assert cloned.returncode == 0, cloned.stderr
    assert "memvault allow" in cloned.stderr  # the user sees why nothing happened
    for vault in _data_vaults(isolated_home):
        settle(vault)
    assert _refs(attacker) == ""
    assert _data_vaults(isolated_home) == []
    assert key.read_text() == FAKE_KEY


def _project_with_code(tmp_path: Path, marker: Path) -> Project:
    """A project whose repository ships a `memvault_hooks/` package that leaves a marker."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "memvault_hooks").mkdir()
    (root / "memvault_hooks" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'a').write('imported from the project\\n')\n")
    (root / "memory.json").write_text('{"n": 0}\n')
    vault = tmp_path / "vault"
    (root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {vault}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return Project(root, vault)


def test_project_code_never_runs_from_plain_hooks_pulls_and_cron(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    project = _project_with_code(tmp_path, marker)
    # memvault itself is started from elsewhere here: this test's harness runs `python -m`
    proc = memvault("-C", str(project.root), "install-hooks", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    project.write("memory.json", '{"n": 1}\n')
    git(project.root, "commit", "-q", "--allow-empty", "-m", "commit")
    settle(project.vault)
    assert "1" in (project.stored / "memory.json").read_text()  # the hook really ran

    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(project.root), str(other))
    (other / "x.txt").write_text("x\n")
    git(other, "add", "x.txt")
    git(other, "commit", "-q", "-m", "upstream work")
    project.write("memory.json", '{"n": 2}\n')
    git(project.root, "pull", "-q", "--no-rebase", str(other), "main")
    settle(project.vault)
    assert "2" in (project.stored / "memory.json").read_text()

    from memvault_hooks import config
    from memvault_hooks.commands import cron

    cfg = config.load(str(project.root))
    line = cron.entry(cfg, "* * * * *")
    command = line.split(" ", 5)[5]  # as cron runs it: the rest of the line, by sh, in the home folder
    project.write("memory.json", '{"n": 3}\n')
    proc = subprocess.run(["sh", "-c", command], cwd=project.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "3" in (project.stored / "memory.json").read_text()
    assert not marker.exists(), marker.read_text()


def test_project_code_never_runs_through_pre_commit(tmp_path: Path, hook_repo: tuple[str, str, str],  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRE_COMMIT_HOME", hook_repo[2])
    marker = tmp_path / "MARKER"
    project = _project_with_code(tmp_path, marker)
    (project.root / ".pre-commit-config.yaml").write_text(pre_commit_config(hook_repo[0], hook_repo[1]))
    git(project.root, "add", ".pre-commit-config.yaml")
    git(project.root, "commit", "-q", "-m", "pre-commit")
    proc = subprocess.run([*PRE_COMMIT, "install"], cwd=project.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    project.write("memory.json", '{"n": 5}\n')
    git(project.root, "commit", "-q", "--allow-empty", "-m", "commit")
    settle(project.vault)
    assert "5" in (project.stored / "memory.json").read_text()
    assert not marker.exists()


def test_pre_commit_shows_the_line_on_commit_and_checkout(project: Project, tmp_path: Path,
                                                          hook_repo: tuple[str, str, str],  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRE_COMMIT_HOME", hook_repo[2])
    remote = bare_remote(tmp_path, "attacker.git")
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {json.dumps(str(remote))}\n",
                   allow=False)
    (project.root / ".pre-commit-config.yaml").write_text(pre_commit_config(hook_repo[0], hook_repo[1]))
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "pre-commit and a remote")
    assert subprocess.run([*PRE_COMMIT, "install"], cwd=project.root, capture_output=True).returncode == 0
    head = git(project.root, "rev-parse", "HEAD")
    proc = subprocess.run(["git", "commit", "--allow-empty", "-m", "next"], cwd=project.root,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # post-commit's status never reaches git
    assert "memvault allow" in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)
    assert git(project.root, "rev-parse", "HEAD") != head
    proc = subprocess.run(["git", "checkout", "-b", "side"], cwd=project.root, capture_output=True, text=True)
    assert "memvault allow" in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)
    # git passes post-checkout's status on as its own (1 here), but the checkout is done
    assert git(project.root, "branch", "--show-current").strip() == "side"
    assert _refs(remote) == "" and not project.vault.exists()


def _snapshot(repo: Path) -> tuple[str, str, bytes, str, list[str]]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
            (repo / ".git" / "index").read_bytes(), git(repo, "config", "--list", "--local"),
            sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if ".git" not in p.parts))


def test_vault_path_never_takes_over_another_repository(project: Project, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "code.py").write_text("print('committed')\n")
    git(work, "add", "code.py")
    git(work, "commit", "-q", "-m", "private history")
    (work / "code.py").write_text("print('uncommitted work')\n")
    (work / "staged.txt").write_text("staged\n")
    git(work, "add", "staged.txt")
    (work / "untracked.txt").write_text("untracked\n")
    before = _snapshot(work)
    project.config(f"version: 1\nvault:\n  path: {work}\n")
    for args in (("sync",), ("restore",), ("log",), ("verify",), ("init",)):
        proc = project.run(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "did not create" in proc.stderr, args
    assert project.run("hook", "post-commit").returncode == 0
    status = project.run("status", "--json")
    assert status.returncode == 1 and "did not create" in json.loads(status.stdout)["problems"][0]
    assert _snapshot(work) == before
    assert (work / "code.py").read_text() == "print('uncommitted work')\n"
    assert not (work / ".memvault.lock").exists() and not (work / ".last_sync").exists()
    assert not (work / ".memvault-pending").exists()

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    project.config(f"version: 1\nvault:\n  path: {folder}\n")
    proc = project.sync()
    assert proc.returncode == 1 and "not empty" in proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_vault_made_by_the_previous_release_is_still_used(project: Project) -> None:
    assert project.sync().returncode == 0
    git(project.vault, "config", "--unset", "memvault.vault")  # as the previous release left it
    project.write("memory.json", '{"after": "upgrade"}\n')
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    assert git(project.vault, "config", "--get", "memvault.vault").strip() == "true"


INJECTED = "--upload-pack=touch {marker};:"


def test_a_remote_is_never_read_as_an_option(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    remote = INJECTED.format(marker=marker)
    assert project.sync().returncode == 0
    (project.root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {project.vault}\n"
                                                 f"  remote: {json.dumps(remote)}\n")
    for args in (("verify",), ("sync",), ("allow",)):
        proc = project.run(*args)
        assert proc.returncode == 2 and "vault.remote" in proc.stderr and "Fix:" in proc.stderr, (args, proc.stderr)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    proc = memvault("init", "--vault", str(tmp_path / "v2"), f"--remote={remote}", cwd=fresh)
    assert proc.returncode == 2 and not (fresh / ".memvault.yaml").exists()
    proc = memvault("recover", f"--from={remote}", cwd=fresh)
    assert proc.returncode == 2
    assert not marker.exists()


def test_a_remote_inside_the_project_is_a_config_error(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    inner = project.root / "vault-remote.git"
    git(project.root, "init", "-q", "--bare", str(inner))
    hook = inner / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n")
    hook.chmod(0o755)
    for value in ("vault-remote.git", str(inner)):
        (project.root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {project.vault}\n"
                                                     f"  remote: {json.dumps(value)}\n")
        for args in (("allow",), ("sync",)):
            proc = project.run(*args)
            assert proc.returncode == 2, (args, proc.stderr)
            assert "inside the project" in proc.stderr and "vault.remote" in proc.stderr
    assert not marker.exists()


def test_log_file_outside_waits_for_allow(project: Project, isolated_home: Path) -> None:
    bashrc = isolated_home / ".bashrc"
    bashrc.write_text("# the user's shell\n")
    (project.root / ".memvault.yaml").write_text(f"version: 1\nlog_file: ~/.bashrc\nvault:\n  path: {project.vault}\n")
    project.write("memory.json", '{"n": 1}\n')
    assert project.sync().returncode == 2
    assert project.run("hook", "post-commit").returncode == 0
    assert bashrc.read_text() == "# the user's shell\n"
    assert not project.vault.exists()
    allowed = project.run("allow")
    assert str(bashrc) in allowed.stdout  # shown in words before anything is written there
    assert project.sync().returncode == 0
    assert "sync" in bashrc.read_text()  # once allowed, it is the user's choice


def test_credentials_in_a_url_never_show(project: Project, tmp_path: Path, isolated_home: Path) -> None:
    token = "ghp_Sup3rSecretTokenValue0123456789"
    server = LoopbackServer(b"")  # accepts, reads, closes: no TLS, no git
    try:
        url = f"https://alice:{token}@127.0.0.1:{server.port}/vault.git"
        project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {json.dumps(url)}\n"
                       f"  timeout: 10\n")
        outputs = [project.run("allow")]
        outputs.append(project.sync())
        assert outputs[-1].returncode == 1  # the push fails, the backup is kept
        assert (project.stored / "memory.json").exists()
        outputs.append(project.run("status"))
        outputs.append(project.run("status", "--json"))
        outputs.append(project.run("verify"))
        outputs.append(project.run("verify", "--json"))
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        git(fresh, "init", "-q")
        outputs.append(memvault("init", "--vault", str(tmp_path / "v2"), "--remote", url, cwd=fresh))
        outputs.append(memvault("recover", "--from", url, cwd=fresh))
        outputs.append(project.run("restore", "--rev", "HEAD", "--dry-run"))
    finally:
        server.close()
    assert server.requests > 0  # git really tried the URL
    said = "".join(p.stdout + p.stderr for p in outputs)
    assert "alice:***@127.0.0.1" in said
    assert token not in said
    logged = [p for p in (isolated_home / ".local" / "state").rglob("*") if p.is_file()
              and "allowed" not in p.parts]
    assert any(p.name == "sync.log" for p in logged) and any(p.name == "sync.err" for p in logged)
    for path in logged:
        assert token not in path.read_text(errors="replace"), path
    for vault in (project.vault, tmp_path / "v2"):
        if not vault.exists():
            continue
        reflog = git(vault, "log", "-g", "--all", "--format=%gs") if git(vault, "for-each-ref") else ""
        assert token not in reflog
        for path in (vault / ".git" / "logs").rglob("*"):
            if path.is_file():
                assert token not in path.read_text(errors="replace"), path



def test_fetch_writes_no_url_into_the_reflog(project: Project, tmp_path: Path) -> None:
    from memvault_hooks import remote
    from memvault_hooks.vault import Vault

    origin = bare_remote(tmp_path, "remote.git")
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {json.dumps(str(origin))}\n")
    assert project.sync().returncode == 0
    git(origin, "update-ref", "refs/heads/other", "main")
    vault = Vault(str(project.vault), "rAgentShared", "other")
    remote.fetch(vault, str(origin), timeout=20)  # as a sync fetches when the remote moved on
    fetched = git(project.vault, "reflog", "show", "--format=%gs", "refs/remotes/origin/other")
    assert fetched.strip() and str(origin) not in fetched, fetched  # credentials would be in that URL
