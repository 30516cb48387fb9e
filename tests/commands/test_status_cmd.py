from __future__ import annotations

import json

from support import Project


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
