"""`memvault ack [FILE...]`: acknowledging memory-loss alerts, and its bad inputs."""
from __future__ import annotations

import json

from support import Project


def test_ack_one_file_keeps_the_others(project: Project) -> None:
    assert project.sync().returncode == 0
    project.write("memory.json", "{}")
    project.write("gpt4o_memories.json", "[]")
    assert "ALERT" in project.sync().stderr
    proc = project.run("ack", str(project.root / "gpt4o_memories.json"))  # a path, as a shell completes it
    assert proc.returncode == 0 and "gpt4o_memories.json" in proc.stdout and "--rev" in proc.stdout
    report = json.loads(project.run("status", "--json").stdout)
    assert [a["path"] for a in report["alerts"]] == ["memory.json"]
    assert project.run("ack").returncode == 0
    nothing = project.run("ack")
    assert nothing.returncode == 0 and "no memory-loss alert" in nothing.stdout
    unknown = project.run("ack", "memory.json")
    assert unknown.returncode == 2 and "no active alert" in unknown.stderr


def test_ack_before_any_vault_and_under_the_trust_rule(project: Project) -> None:
    proc = project.run("ack")
    assert proc.returncode == 0 and "no vault" in proc.stdout
    remote = project.root.parent / "remote.git"
    (project.root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {remote}\n")
    proc = project.run("ack")
    assert proc.returncode == 2 and "memvault allow" in proc.stderr
    assert not project.vault.exists()
