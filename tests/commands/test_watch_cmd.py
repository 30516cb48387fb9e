"""`memvault watch` as a real subprocess: the presets' files in a real project backed up
within seconds of an in-place write and of a rename-over (trigger `watch`), SIGTERM and
SIGINT end it with exit 0, memory outside any git project, and the trust rule."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import MEMVAULT
from support import Project
from support import make_project
from support import memvault


class Watch:
    """A running `memvault watch` (its output collected in a file, so it never blocks)."""

    def __init__(self, cwd: Path, out: Path, proc: subprocess.Popen[str]) -> None:
        self.cwd, self.out, self.proc = cwd, out, proc

    def output(self) -> str:
        return self.out.read_text()

    def wait_for(self, check: Callable[[], bool], within: float = 8.0) -> float:
        started = time.monotonic()
        while not check():
            assert self.proc.poll() is None, f"watch ended ({self.proc.returncode}): {self.output()}"
            assert time.monotonic() - started < within, f"not within {within} s: {self.output()}"
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Watch]]:
    running: list[subprocess.Popen[str]] = []

    def _start(cwd: Path, *args: str) -> Watch:
        out = tmp_path / f"watch-{len(running)}.out"
        with open(out, "w") as f:
            proc = subprocess.Popen([*MEMVAULT, "watch", *args], cwd=cwd, stdout=f,
                                    stderr=subprocess.STDOUT, text=True)
        running.append(proc)
        watch = Watch(cwd, out, proc)
        watch.wait_for(lambda: "memvault: watching" in watch.output(), within=30)
        return watch

    yield _start
    for proc in running:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.fixture
def agents(tmp_path: Path) -> Project:
    """A git project where Claude Code, Cursor and Cline keep memory, with those presets."""
    project = make_project(tmp_path, files=())
    project.write("CLAUDE.md", "# rules\n")
    project.write(".cursor/rules/a.mdc", "use tabs\n")
    project.write("memory-bank/x.md", "# progress\n")
    project.config(f"version: 1\npresets: [claude-code, cursor, cline]\nvault:\n  path: {project.vault}\n")
    return project


def _stored(project: Project, rel: str) -> str | None:
    path = project.stored / rel
    return path.read_text() if path.exists() else None


def test_watch_backs_up_an_in_place_write_and_a_rename_over_within_seconds(
        agents: Project, start: Callable[..., Watch]) -> None:
    watch = start(agents.root, "--debounce", "0.3")
    watch.wait_for(lambda: _stored(agents, "memory-bank/x.md") == "# progress\n")  # the first backup, as it starts

    with open(agents.root / "CLAUDE.md", "r+") as f:  # written in place
        f.seek(0, os.SEEK_END)
        f.write("- never push on Fridays\n")
    took = watch.wait_for(lambda: _stored(agents, "CLAUDE.md") == "# rules\n- never push on Fridays\n")
    assert took < 5

    aside = agents.root / ".cursor" / "rules" / ".a.mdc.tmp"  # written aside, renamed over
    aside.write_text("use spaces\n")
    os.replace(aside, agents.root / ".cursor" / "rules" / "a.mdc")
    took = watch.wait_for(lambda: _stored(agents, ".cursor/rules/a.mdc") == "use spaces\n")
    assert took < 5

    (agents.root / "unrelated.txt").write_text("not memory\n")  # no backup for it
    time.sleep(1.0)
    assert watch.stop(signal.SIGTERM) == 0
    assert "stopped (SIGTERM)" in watch.output()

    log = json.loads(agents.run("log", "--json").stdout)
    assert [entry["trigger"] for entry in log] == ["watch", "watch", "watch"]
    assert [f["path"] for f in log[0]["files"]] == [".cursor/rules/a.mdc"]
    assert [f["path"] for f in log[1]["files"]] == ["CLAUDE.md"]
    assert not (agents.stored / "unrelated.txt").exists()


def test_watch_backs_up_memory_outside_any_git_project_and_stops_on_sigint(
        tmp_path: Path, start: Callable[..., Watch]) -> None:
    folder = tmp_path / "agent-home"
    (folder / "notes").mkdir(parents=True)
    (folder / ".memvault.yaml").write_text(f"version: 1\nfiles: ['notes/**/*.md']\n"
                                           f"vault:\n  path: {tmp_path / 'vault'}\n")
    watch = start(folder, "--debounce", "0.2")
    (folder / "notes" / "2026" / "12").mkdir(parents=True)  # a new folder below a `**` pattern
    (folder / "notes" / "2026" / "12" / "today.md").write_text("# today\n")
    stored = tmp_path / "vault" / "rAgentShared" / "notes" / "2026" / "12" / "today.md"
    watch.wait_for(lambda: stored.exists() and stored.read_text() == "# today\n")
    assert watch.stop(signal.SIGINT) == 0
    assert "stopped (SIGINT)" in watch.output() and "Traceback" not in watch.output()


def test_watch_obeys_the_trust_rule(project: Project, tmp_path: Path) -> None:
    remote = tmp_path / "elsewhere.git"
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {remote}\n", allow=False)
    proc = memvault("watch", cwd=project.root, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert "memvault allow" in proc.stderr
    assert not project.vault.exists()


def test_watch_refuses_a_bad_debounce(project: Project) -> None:
    proc = memvault("watch", "--debounce", "soon", cwd=project.root, timeout=30)
    assert proc.returncode == 2
    assert "--debounce" in proc.stderr and "seconds" in proc.stderr


def _lock_held(vault: Path) -> bool:
    import fcntl

    lock = vault / ".memvault.lock"
    if not lock.exists():
        return False
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def test_sigterm_lets_the_running_backup_finish(agents: Project, start: Callable[..., Watch]) -> None:
    watch = start(agents.root, "--debounce", "0.2")
    watch.wait_for(lambda: _stored(agents, "CLAUDE.md") is not None)
    time.sleep(0.5)
    # A memory file caught half-written is re-read for about a second: the backup takes that long.
    agents.write("memory.json", '{"half": ')
    agents.write("CLAUDE.md", "# rules, edited\n")
    watch.wait_for(lambda: _lock_held(agents.vault), within=8)
    assert watch.stop(signal.SIGTERM) == 0
    assert _stored(agents, "CLAUDE.md") == "# rules, edited\n"  # that backup was finished
    assert "memory.json" in watch.output() and "stopped (SIGTERM)" in watch.output()
    assert json.loads(agents.run("log", "--json").stdout)[0]["trigger"] == "watch"
