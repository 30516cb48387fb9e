"""`memvault allow`: what it shows, what it records, and what every command does before it."""
from __future__ import annotations

import json
from pathlib import Path

from support import Project


def test_allow_shows_the_settings_in_words_and_unblocks_the_commands(project: Project, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: '{remote}'\n", allow=False)
    for args in (("sync",), ("log",), ("verify",), ("show", "memory.json"), ("diff",), ("restore",),
                 ("cron", "install"), ("install-hooks",), ("recover", f"--from={remote}")):
        proc = project.run(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "vault.remote" in proc.stderr and "memvault allow" in proc.stderr, args
    assert not project.vault.exists()  # no vault, no lock, no state
    status = project.run("status", "--json")
    assert status.returncode == 1
    assert any("memvault allow" in p for p in json.loads(status.stdout)["problems"])
    hook = project.run("hook", "post-commit")
    assert hook.returncode == 0 and hook.stderr.count("\n") == 1 and "memvault allow" in hook.stderr

    allowed = project.run("allow")
    assert allowed.returncode == 0, allowed.stderr
    assert f"vault.remote: push every backup" in allowed.stdout and str(remote) in allowed.stdout
    assert project.sync().returncode in (0, 1)  # allowed: it backs up (the push fails: no remote there)
    assert (project.stored / "memory.json").exists()
    again = project.run("allow")
    assert "already allowed" in again.stdout

    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: '{tmp_path / 'other.git'}'\n",
                   allow=False)
    assert project.sync().returncode == 2  # a change needs allowing again


def test_a_config_without_outside_settings_needs_nothing(project: Project) -> None:
    proc = project.run("allow")
    assert proc.returncode == 0 and "nothing to allow" in proc.stdout
    assert project.sync().returncode == 0


def test_init_records_what_it_writes(project: Project, tmp_path: Path) -> None:
    (project.root / ".memvault.yaml").unlink()
    remote = tmp_path / "remote.git"
    proc = project.run("init", "--vault", str(project.vault), "--remote", str(remote))
    assert proc.returncode in (0, 1), proc.stderr  # 1: the remote is not there yet
    assert "allowed what it sets outside the project" in proc.stdout and str(remote) in proc.stdout
    assert project.run("status", "--json").stdout.count("memvault allow") == 0
    assert "already allowed" in project.run("allow").stdout
    assert project.sync().returncode in (0, 1)
    assert (project.stored / "memory.json").exists()
