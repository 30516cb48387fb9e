"""Progress shows on a terminal (files and bytes) for work that takes a moment, and
never when stderr is not a terminal or the run is quiet."""
from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import pytest

from memvault_hooks.ui.progress import Progress
from support import Project


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_files_and_bytes_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVAULT_PROGRESS_DELAY", "0")
    out = Terminal()
    with Progress("sync", stream=out) as p:
        p.start(2, 3 << 20)
        p.advance(files=1, nbytes=1 << 20)
        p.phase("committing 1 file(s)")
    text = out.getvalue()
    assert "memvault sync: 1/2 files, 1.0 MB/3.0 MB, committing 1 file(s)" in text
    assert text.endswith("\n")


def test_silent_off_a_terminal_quiet_or_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVAULT_PROGRESS_DELAY", "0")
    for p in (Progress("sync", stream=io.StringIO()), Progress("sync", enabled=False, stream=Terminal())):
        p.start(1, 10)
        p.advance(files=1, nbytes=10)
        p.finish()
        assert p.stream.getvalue() == ""  # type: ignore[attr-defined]
    monkeypatch.setenv("MEMVAULT_PROGRESS_DELAY", "60")
    quick = Progress("sync", stream=Terminal())
    quick.start(1, 10)
    quick.advance(files=1, nbytes=10)
    quick.finish()
    assert quick.stream.getvalue() == ""  # type: ignore[attr-defined]


def _sync_on_a_pty(project: Project, *args: str) -> str:
    """Run `memvault sync` with stderr on a pseudo-terminal; what it wrote there."""
    leader, follower = pty.openpty()
    env = dict(os.environ, MEMVAULT_PROGRESS_DELAY="0")
    proc = subprocess.Popen([sys.executable, "-m", "memvault_hooks", "sync", *args], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    return b"".join(chunks).decode(errors="replace")


def test_sync_on_a_terminal_shows_progress(project: Project) -> None:
    shown = _sync_on_a_pty(project)
    assert "memvault sync: 2/2 files" in shown and "KB" in shown


def test_sync_quiet_or_piped_shows_none(project: Project) -> None:
    assert "memvault sync:" not in _sync_on_a_pty(project, "--quiet")
    (project.root / "memory.json").write_text('{"changed": true}\n')
    piped = project.sync()
    assert piped.returncode == 0 and "memvault sync:" not in piped.stderr
