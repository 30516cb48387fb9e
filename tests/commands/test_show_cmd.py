from __future__ import annotations

import subprocess

from support import MEMVAULT
from support import Project
from vault_support import blob
from vault_support import commit_time
from vault_support import make_versions
from vault_support import memory
from vault_support import ok
from vault_support import revs


def _show(project: Project, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*MEMVAULT, "show", *args], cwd=project.root, capture_output=True)


def test_show_latest_and_every_rev_exact_bytes(project: Project) -> None:
    made = make_versions(project, 3)
    assert _show(project, "memory.json").stdout == memory(2).encode()
    for rev in made:
        proc = _show(project, "memory.json", "--rev", rev[:10])
        assert proc.returncode == 0 and proc.stdout == blob(project, rev, "memory.json")


def test_show_is_binary_safe(project: Project) -> None:
    data = bytes(range(256)) + b"\r\n\x00end"
    project.write("notes.md", data)
    project.config(f"version: 1\nfiles: ['*.md', memory.json]\nvault:\n  path: {project.vault}\n")
    ok(project.sync())
    assert _show(project, "notes.md").stdout == data


def test_show_at_times(project: Project) -> None:
    made = make_versions(project, 2, spaced=True)
    first, second = (commit_time(project, rev) for rev in made)
    assert _show(project, "memory.json", "--at", f"@{first}").stdout == memory(0).encode()
    assert _show(project, "memory.json", "--at", f"@{second}").stdout == memory(1).encode()
    assert _show(project, "memory.json", "--at", "now").stdout == memory(1).encode()
    before = _show(project, "memory.json", "--at", f"@{first - 1}")
    assert before.returncode == 1 and before.stdout == b""
    assert b"first backup was made at" in before.stderr and b"Traceback" not in before.stderr


def test_show_missing_file_and_rev(project: Project) -> None:
    ok(project.sync())
    proc = _show(project, "never.json")
    assert proc.returncode == 1 and b"never been backed up" in proc.stderr and b"did you mean" not in proc.stderr
    proc = _show(project, "memroy.json")
    assert proc.returncode == 1 and b"did you mean memory.json?" in proc.stderr
    proc = _show(project, "memory.json", "--rev", "0123456789abcdef")
    assert proc.returncode == 1 and b"first backup was made at" in proc.stderr
    assert b"`memvault log` lists every backup" in proc.stderr
    assert len(revs(project)) == 1


def test_show_bad_arguments_exit_2(project: Project) -> None:
    ok(project.sync())
    for args in (("memory.json", "--at", "next tuesday"), ("memory.json", "--at", "x", "--rev", "HEAD"),
                 ("/etc/passwd",), (), ("memory.json", "--rev=--all")):
        proc = _show(project, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == b"" and b"Traceback" not in proc.stderr
