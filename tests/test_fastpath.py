"""The no-change path answers from stat alone, without YAML, GitPython or subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs

from memvault_hooks import dirs
from memvault_hooks import state
from support import Project


def _imported_modules(project: Project, *args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "memvault_hooks", *args],
                          cwd=project.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def _settle(project: Project) -> None:
    """Two syncs: the second re-reads files written within the racy window."""
    assert project.sync().returncode == 0
    for path in project.root.glob("*.json"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns - 5_000_000_000))
    assert project.sync().returncode == 0


def test_no_change_sync_and_hook_import_no_heavy_modules(project: Project) -> None:
    _settle(project)
    for args in (("sync",), ("hook", "post-commit")):
        modules = _imported_modules(project, *args)
        assert "memvault_hooks.fastpath" in modules
        # memvault_hooks.config is there (the cached Config), its YAML parser is not
        for heavy in ("git", "yaml", "subprocess", "memvault_hooks.vault"):
            assert heavy not in modules, f"{args}: {heavy} imported on the no-change path"


def test_changed_file_takes_the_full_path(project: Project) -> None:
    _settle(project)
    project.write("memory.json", '{"changed": true}')
    modules = _imported_modules(project, "sync")
    assert "memvault_hooks.vault" in modules
    assert (project.stored / "memory.json").read_text() == '{"changed": true}'


def test_editing_the_config_invalidates_the_cache(project: Project) -> None:
    _settle(project)
    project.write("notes.md", "# notes\n")
    project.config(f"version: 1\nfiles: [memory.json, notes.md]\nvault:\n  path: {project.vault}\n")
    assert project.sync().returncode == 0
    assert (project.stored / "notes.md").read_text() == "# notes\n"


def test_fast_cache_dir_agrees_with_platformdirs() -> None:
    assert dirs.fast_cache_dir() == platformdirs.user_cache_dir("memvault", appauthor=False)


def test_deleted_vault_is_not_mistaken_for_no_change(project: Project) -> None:
    import shutil

    _settle(project)
    shutil.rmtree(project.vault)
    assert project.sync().returncode == 0
    assert (project.stored / "memory.json").exists()


def test_no_change_sync_counts_as_a_successful_run(project: Project) -> None:
    import json
    import time

    _settle(project)
    record = state.load(str(project.vault))
    record["last_sync"] = "2000-01-01T00:00:00Z"
    state.save(str(project.vault), record)
    time.sleep(0.01)
    assert project.sync("--trigger", "cron", "--quiet").returncode == 0
    report = json.loads(project.run("status", "--json").stdout)
    assert report["last_sync"] > "2020"
    assert report["ok"] is True
    logs = list(Path(os.environ["XDG_STATE_HOME"]).rglob("sync.log"))
    assert "trigger=cron" not in logs[0].read_text()  # a quiet run that did nothing leaves no line
    assert project.sync("--trigger", "cron").returncode == 0
    assert "sync trigger=cron ok nothing to back up" in logs[0].read_text()
