from __future__ import annotations

from support import Project


def test_first_sync_commits_files(project: Project) -> None:
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    assert (project.stored / "memory.json").read_bytes() == (project.root / "memory.json").read_bytes()
    assert len(project.log()) == 1
