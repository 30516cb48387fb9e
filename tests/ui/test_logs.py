"""The run log and the error log: bounded in size (one old file kept), private, and quiet
runs that find nothing to do leave no line."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from support import Project

from memvault_hooks import config
from memvault_hooks.ui import logs


def _log_file(project: Project) -> Path:
    return Path(config.load(str(project.root)).log_file)


def test_log_rotates_past_the_limit_keeping_one_old_file(project: Project) -> None:
    assert project.sync().returncode == 0
    log = _log_file(project)
    old = "x" * 100 + "\n"
    log.write_text(old * (logs.MAX_BYTES // len(old) + 1))  # just past the limit
    project.write("memory.json", '{"changed": 1}')
    assert project.sync().returncode == 0
    rotated = Path(f"{log}.1")
    assert rotated.read_text().startswith(old) and "committed" not in rotated.read_text()
    assert log.stat().st_size < 1000 and "sync trigger=manual ok committed" in log.read_text()
    for path in (log, rotated):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The next rotation replaces the old file: never more than two.
    log.write_text("y" * logs.MAX_BYTES)
    project.write("memory.json", '{"changed": 2}')
    assert project.sync().returncode == 0
    assert Path(f"{log}.1").read_text() == "y" * logs.MAX_BYTES
    assert sorted(p.name for p in log.parent.iterdir() if p.name.startswith(log.name)) == [log.name, f"{log.name}.1"]


def test_error_log_rotates_too(project: Project) -> None:
    assert project.sync().returncode == 0
    error_log = Path(config.load(str(project.root)).error_log)
    error_log.write_text("e" * logs.MAX_BYTES)
    project.write("memory.json", "{not json")
    assert project.sync().returncode == 1
    assert Path(f"{error_log}.1").read_text() == "e" * logs.MAX_BYTES
    assert "ERROR sync trigger=manual" in error_log.read_text()


def test_quiet_runs_with_nothing_to_do_write_no_line(project: Project) -> None:
    assert project.sync().returncode == 0
    log = _log_file(project)
    before = log.read_text()
    for _ in range(3):  # the hook's no-change path answers from its cache
        assert project.sync("--trigger", "cron", "--quiet").returncode == 0
    shutil.rmtree(Path(os.environ["XDG_CACHE_HOME"]) / "memvault")  # the full path: no cache
    assert project.sync("--trigger", "cron", "--quiet").returncode == 0
    assert log.read_text() == before
    assert project.sync().returncode == 0  # a run someone watches still says so
    assert log.read_text().count("nothing to back up") == before.count("nothing to back up") + 1
