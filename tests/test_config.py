from __future__ import annotations

from pathlib import Path

import pytest

from memvault_hooks import config
from memvault_hooks import dirs
from memvault_hooks.errors import ConfigError
from support import Project


def _error(project: Project, text: str) -> tuple[int, str]:
    project.config(text)
    proc = project.sync()
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(("text", "key", "words"), [
    ("version: 1\nfiles: [memory.json\n", "(yaml)", "line 3"),
    ("version: 1\nfilez: [memory.json]\n", "filez", "unknown key"),
    ("version: 1\nvault:\n  pth: /x\n", "vault.pth", "unknown key"),
    ("version: 1\nfiles: memory.json\n", "files", "a list"),
    ("version: 1\nfiles: [3]\n", "files[0]", "file name"),
    ("version: 2\n", "version", "version: 1"),
    ("version: one\n", "version", "whole number"),
    ("version: 1\nfiles: ['../outside.json']\n", "files[0]", ".."),
    ("version: 1\nfiles: ['/etc/passwd']\n", "files[0]", "absolute"),
    ("version: 1\nfiles: []\n", "files", "empty"),
    ("version: 1\nvault:\n  path: ./backups\n", "vault.path", "overlaps source_dir"),
    ("version: 1\nvault:\n  subdir: ../x\n", "vault.subdir", ".."),
    ("version: 1\nvault:\n  branch: 'bad branch'\n", "vault.branch", "branch"),
    ("version: 1\nschedule: '*/15 * *'\n", "schedule", "cron"),
    ("version: 1\nmirror_deletions: 'yes'\n", "mirror_deletions", "true or false"),
    ("- just\n- a list\n", "(top level)", "mapping"),
    ("version: 1\npresets: [claude-code, nope]\n", "presets[1]",
     "'nope' is not a preset. Fix: use one of: claude-code, mcp-memory, cline, cursor, copilot, gemini, codex, windsurf"),
    ("version: 1\npresets: cursor\n", "presets", "a list"),
    ("version: 1\npresets: [{name: cursor}]\n", "presets[0]", "preset name"),
    ("version: 1\nsource_dir: agent\npresets: [cursor]\n", "presets", "not inside source_dir"),
    ("version: 1\nvault:\n  timeout: soon\n", "vault.timeout", "Fix: make it a number\n"),
])
def test_config_mistakes_exit_2_naming_file_and_key(project: Project, text: str, key: str, words: str) -> None:
    code, err = _error(project, text)
    assert code == 2
    assert ".memvault.yaml" in err
    assert f"{key}:" in err
    assert words in err
    assert "Fix:" in err
    assert not project.vault.exists()


def test_missing_explicit_config_is_a_config_error(project: Project) -> None:
    proc = project.run("--config", "nope.yaml", "sync")
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr and "--config" in proc.stderr


def test_env_config_is_used(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other_vault = tmp_path / "other-vault"
    cfg_file = tmp_path / "elsewhere.yaml"
    cfg_file.write_text(f"version: 1\nfiles: [memory.json]\nvault:\n  path: {other_vault}\n")
    monkeypatch.setenv("MEMVAULT_CONFIG", str(cfg_file))
    assert project.sync().returncode == 0
    assert (other_vault / "rAgentShared" / "memory.json").exists()
    assert not project.vault.exists()


def test_explicit_config_beats_env(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVAULT_CONFIG", str(tmp_path / "missing.yaml"))
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text(f"version: 1\nvault:\n  path: {tmp_path / 'v2'}\n")
    assert project.run("--config", str(explicit), "sync").returncode == 0
    assert (tmp_path / "v2" / ".git").is_dir()


def test_defaults_without_a_file(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    cfg = config.load(str(project))
    assert cfg.config_file is None
    assert cfg.files == config.DEFAULT_FILES
    assert cfg.subdir == "rAgentShared"
    assert cfg.branch == "main"
    assert cfg.remote is None
    assert cfg.schedule == "*/15 * * * *"
    assert cfg.vault_path.startswith(dirs.data_dir())
    assert not cfg.vault_path.startswith(str(project))
    assert cfg.log_file.startswith(dirs.state_dir())
    assert cfg.error_log == cfg.log_file[:-len(".log")] + ".err"


def test_relative_and_home_paths_resolve(tmp_path: Path, isolated_home: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".memvault.yaml").write_text(
        "version: 1\nsource_dir: agents\nvault:\n  path: ~/vaults/p\nlog_file: /tmp/memoryvaultsync.log\n")
    cfg = config.load(str(project))
    assert cfg.source_dir == str(project / "agents")
    assert cfg.vault_path == str(isolated_home / "vaults" / "p")
    assert cfg.log_file == "/tmp/memoryvaultsync.log"
    assert cfg.error_log == "/tmp/memoryvaultsync.err"


def test_config_error_carries_file_and_key(tmp_path: Path) -> None:
    (tmp_path / ".memvault.yaml").write_text("version: 1\nvault: [1]\n")
    with pytest.raises(ConfigError) as info:
        config.load(str(tmp_path))
    assert info.value.key == "vault"
    assert info.value.file.endswith(".memvault.yaml")
    assert info.value.exit_code == 2


def test_find_project_walks_up_to_git_top_level(project: Project) -> None:
    sub = project.root / "a" / "b"
    sub.mkdir(parents=True)
    assert dirs.find_project(None) != str(project.root)  # cwd of the test runner
    import os

    old = os.getcwd()
    os.chdir(sub)
    try:
        assert dirs.find_project(None) == str(project.root)
        assert dirs.find_project(str(sub)) == str(sub)
    finally:
        os.chdir(old)


def test_presets_patterns_are_relative_to_the_project_inside_a_wider_source_dir(project: Project,
                                                                               isolated_home: Path) -> None:
    project.write(".cursor/rules/a.mdc", "rule\n")
    project.config(f"version: 1\nsource_dir: ..\nfiles: [nothing.json]\npresets: [cursor]\n"
                   f"vault:\n  path: {isolated_home / 'vault'}\n")
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    assert (isolated_home / "vault" / "rAgentShared" / "project" / ".cursor" / "rules" / "a.mdc").read_text() == "rule\n"


def test_vault_encrypt_defaults_off_and_is_an_outside_setting(tmp_path: Path) -> None:
    (tmp_path / ".memvault.yaml").write_text("version: 1\n")
    assert config.load(str(tmp_path)).encrypt is False
    (tmp_path / ".memvault.yaml").write_text("version: 1\nvault:\n  encrypt: true\n")
    cfg = config.load(str(tmp_path))
    assert cfg.encrypt is True
    assert [key for key, *_ in cfg.outside] == ["vault.encrypt"]
    (tmp_path / ".memvault.yaml").write_text("version: 1\nvault:\n  encrypt: 1\n")
    with pytest.raises(ConfigError) as err:
        config.load(str(tmp_path))
    assert err.value.key == "vault.encrypt" and "true or false" in str(err.value)
