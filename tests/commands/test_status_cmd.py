from __future__ import annotations

import json
import re
from pathlib import Path

from cron_support import cron_daemon
from cron_support import daemon_running
from cron_support import saved_crontab  # noqa: F401  (fixture)
from memvault_hooks import state
from remote_support import Joined
from remote_support import join
from support import Project

BY_HAND = "backups run only by hand: run `memvault install-hooks` or `memvault cron install`"


def test_status_before_any_backup_is_not_ok(project: Project) -> None:
    proc = project.run("status", "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    assert report["last_sync"] is None
    assert sorted(report["changed"]) == ["gpt4o_memories.json", "memory.json"]


def test_status_after_sync_and_change(project: Project) -> None:
    project.sync()
    report = json.loads(project.run("status", "--json").stdout)
    assert report["ok"] is True
    assert report["changed"] == []
    assert report["last_error"] is None
    for key in ("ok", "last_sync", "changed", "push_pending", "hooks_installed", "cron_installed", "last_error"):
        assert key in report
    project.write("memory.json", '{"new": 1}')
    assert json.loads(project.run("status", "--json").stdout)["changed"] == ["memory.json"]


def _age_last_sync(project: Project, seconds: int) -> None:
    import time

    record = state.load(str(project.vault))
    record["last_sync"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds))
    state.save(str(project.vault), record)


def test_status_stale_after_twice_the_installed_cron_entrys_interval(project: Project, saved_crontab: None) -> None:
    """The schedule given to `cron install --schedule` counts, not the config's."""
    project.config(f"version: 1\nschedule: '0 * * * *'\nvault:\n  path: {project.vault}\n")
    project.sync()
    assert project.run("cron", "install", "--schedule", "*/10 * * * *").returncode == 0
    _age_last_sync(project, 19 * 60)  # within twice the 10-minute interval
    proc = project.run("status", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["ok"] is True
    _age_last_sync(project, 21 * 60)
    proc = project.run("status", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["ok"] is False
    assert report["stale_after_seconds"] == 20 * 60
    assert any("more than twice the schedule's interval" in p and "'*/10 * * * *'" in p for p in report["problems"])
    assert project.run("cron", "remove").returncode == 0
    proc = project.run("status", "--json")  # no entry installed: nothing is overdue
    assert proc.returncode == 0 and json.loads(proc.stdout)["stale_after_seconds"] is None


def test_status_without_cron_entry_is_never_stale_but_warns_backups_are_by_hand(project: Project) -> None:
    project.sync()
    _age_last_sync(project, 30 * 24 * 3600)
    proc = project.run("status", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["ok"] is True and report["problems"] == []
    assert report["warnings"] == [BY_HAND]
    table = project.run("status")
    assert table.returncode == 0 and f"warning: {BY_HAND}" in table.stdout
    assert project.run("install-hooks").returncode == 0
    assert json.loads(project.run("status", "--json").stdout)["warnings"] == []


def test_status_warns_when_the_cron_entry_has_no_daemon_to_run_it(project: Project, saved_crontab: None) -> None:
    project.sync()
    installed = project.run("cron", "install")
    assert installed.returncode == 0
    if not daemon_running():
        assert "no cron daemon is running" in installed.stderr
        proc = project.run("status", "--json")
        report = json.loads(proc.stdout)
        assert proc.returncode == 0 and report["ok"] is True  # a warning, not a failure
        assert len(report["warnings"]) == 1 and "no cron daemon is running" in report["warnings"][0]
        proc = project.run("cron", "status")
        assert proc.returncode == 0 and "no cron daemon is running" in proc.stderr
    with cron_daemon():
        proc = project.run("status", "--json")
        assert proc.returncode == 0 and json.loads(proc.stdout)["warnings"] == []
        proc = project.run("cron", "status")
        assert proc.returncode == 0 and "warning" not in proc.stderr
        assert "warning" not in project.run("cron", "install").stderr


def test_status_after_a_failed_run(project: Project) -> None:
    project.sync()
    project.write("memory.json", '{"torn": ')
    assert project.sync().returncode == 1
    proc = project.run("status", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["ok"] is False
    assert "memory.json" in report["last_error"]["message"]
    assert any(p.startswith("the last run failed") for p in report["problems"])


def test_status_table_on_a_terminal(project: Project) -> None:
    project.sync()
    proc = project.run("status")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["ok", "yes"]
    assert any(line.startswith("last sync") and "ago" in line for line in lines)
    assert any(line.startswith("changed") and "nothing since the last backup" in line for line in lines)
    assert "\033[" not in proc.stdout


def test_status_bad_schedule_is_a_config_error(project: Project) -> None:
    project.config(f"version: 1\nschedule: '*/0 * * * *'\nvault:\n  path: {project.vault}\n")
    proc = project.run("status")
    assert proc.returncode == 2 and "schedule" in proc.stderr and "Traceback" not in proc.stderr


def test_status_lists_a_file_behind_the_shared_vault(tmp_path: Path) -> None:
    w = Joined(tmp_path)
    assert join(w.b, w.env_b).returncode == 0
    assert w.b.sync(env=w.env_b).returncode == 0
    report = w.status_b()
    assert report["behind"] == ["memory.json"]
    assert report["changed"] == []  # a sync will not take it: not "run memvault sync"
    assert report["ok"] is True, report["problems"]
    table = w.b.run("status", env=w.env_b).stdout
    assert re.search(r"^behind\s+memory\.json$", table, re.M), table
    assert "memvault restore memory.json" in table and "sync --keep-local" in table
    # Edited on B since: its own new content, no longer behind (a sync backs it up).
    w.b.write("memory.json", Joined.version(9))
    report = w.status_b()
    assert report["behind"] == [] and report["changed"] == ["memory.json"]


def test_status_after_joining_names_the_command_that_records_a_sync(tmp_path: Path) -> None:
    """A second machine right after `init` cloned the vault: not ok yet, and says what to run."""
    w = Joined(tmp_path)
    assert join(w.b, w.env_b).returncode == 0
    report = w.status_b()
    assert "no successful sync is recorded on this machine (run `memvault sync`)" in report["problems"]
    assert w.b.sync(env=w.env_b).returncode == 0
    assert w.status_b()["ok"] is True
