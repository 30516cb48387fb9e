from __future__ import annotations

import stat
from pathlib import Path

import yaml

from support import Project
from support import git
from support import memvault


def test_init_writes_config_and_creates_private_vault(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    git(project, "init", "-q")
    vault = tmp_path / "my-vault"
    proc = memvault("init", "--vault", str(vault), cwd=project)
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((project / ".memvault.yaml").read_text())
    assert data["version"] == 1
    assert data["vault"]["path"] == str(vault)
    assert data["vault"]["subdir"] == "rAgentShared"
    assert "memory.json" in data["files"]
    assert (vault / ".git").is_dir()
    assert stat.S_IMODE(vault.stat().st_mode) == 0o700
    hooks = vault / ".git" / "hooks"
    assert not hooks.exists() or not any(hooks.iterdir())
    assert git(vault, "symbolic-ref", "HEAD").strip() == "refs/heads/main"


def test_init_keeps_an_existing_config(project: Project) -> None:
    before = (project.root / ".memvault.yaml").read_text()
    proc = project.run("init", "--vault", "/elsewhere")
    assert proc.returncode == 0
    assert "keeping" in proc.stdout
    assert (project.root / ".memvault.yaml").read_text() == before
    assert (project.vault / ".git").is_dir()


def test_init_records_remote(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    proc = memvault("init", "--vault", str(tmp_path / "v"), "--remote", str(remote), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((project / ".memvault.yaml").read_text())["vault"]["remote"] == str(remote)
    assert git(tmp_path / "v", "remote", "get-url", "origin").strip() == str(remote)


def test_default_template_is_valid_and_vault_outside_project(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    proc = memvault("init", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert memvault("sync", cwd=project).returncode == 0
    vault_line = [line for line in proc.stdout.splitlines() if "vault ready at" in line][0]
    vault = Path(vault_line.split("vault ready at ")[1])
    assert not str(vault).startswith(str(project))
