"""Helpers for the history tests: vaults with many versions, and reading them back with git."""
from __future__ import annotations

import json
import subprocess
import time

from support import Project
from support import git


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def revs(project: Project) -> list[str]:
    """The vault's commits, newest first."""
    return git(project.vault, "rev-list", "HEAD").split()


def blob(project: Project, rev: str, rel: str) -> bytes:
    return subprocess.run(["git", "-C", str(project.vault), "cat-file", "blob", f"{rev}:rAgentShared/{rel}"],
                          capture_output=True, check=True).stdout


def commit_time(project: Project, rev: str) -> int:
    return int(git(project.vault, "log", "-1", "--format=%ct", rev).strip())


def next_second() -> None:
    """Sleep until the wall clock enters a new second (vault commit times have 1 s resolution)."""
    now = time.time()
    time.sleep(1.0 - (now - int(now)) + 0.02)


def memory(i: int) -> str:
    return json.dumps({"version": i, "user": {"name": "Ann", "likes": ["tea", f"book {i}", "cats"]},
                       "notes": [f"note {n}" for n in range(i % 4)]}, indent=2) + "\n"


def make_versions(project: Project, count: int, spaced: bool = False) -> list[str]:
    """`count` backups of memory.json (plus the first one of gpt4o_memories.json); revs oldest first."""
    made = []
    for i in range(count):
        if spaced and i:
            next_second()
        project.write("memory.json", memory(i))
        ok(project.sync())
        made.append(revs(project)[0])
    assert len(set(made)) == count
    return made
