"""watcher: a real subprocess watching real folders — an in-place write and a rename-over
are backed up within seconds, new folders are picked up, a steady writer still gets its
backup, changes during a backup are kept, and SIGTERM waits for the running backup."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memvault_hooks.memory import watcher

# The watched process: its "backup" appends a line to a log (and may take a while).
SCRIPT = """
import os, sys, time
from memvault_hooks.memory import watcher
root, log, seconds, debounce, max_wait, polling = sys.argv[1:7]

def run_sync():
    with open(log, "a") as f:
        f.write(f"start {time.monotonic()}\\n")
    time.sleep(float(seconds))
    with open(log, "a") as f:
        f.write(f"end {time.monotonic()}\\n")

targets = [watcher.Target(root, ("memory.json", "notes/**/*.md", "later/deeper/*.jsonl"))]
sys.exit(watcher.watch(targets, run_sync, debounce=float(debounce), max_wait=float(max_wait),
                       force_polling=polling == "1", recheck=0.5))
"""


class Watched:
    def __init__(self, root: Path, log: Path, proc: subprocess.Popen[str]) -> None:
        self.root, self.log, self.proc = root, log, proc

    def runs(self) -> int:
        return self.lines().count("end")

    def lines(self) -> list[str]:
        return [line.split()[0] for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def wait_runs(self, n: int, within: float = 8.0) -> float:
        started = time.monotonic()
        while self.runs() < n:
            assert time.monotonic() - started < within, f"{self.runs()} backups, expected {n}; {self.stderr()}"
            assert self.proc.poll() is None, self.stderr()
            time.sleep(0.05)
        return time.monotonic() - started

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else "(running)"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def _start(seconds: float = 0.0, debounce: float = 0.3, max_wait: float = 60.0,
               polling: bool = False, prefix: tuple[str, ...] = ()) -> Watched:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        (root / "memory.json").write_text("{}")
        log = tmp_path / "log"
        proc = subprocess.Popen([*prefix, sys.executable, "-c", SCRIPT, str(root), str(log), str(seconds),
                                 str(debounce), str(max_wait), "1" if polling else "0"],
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "memvault: watching" in first, first + proc.stderr.read()
        watched = Watched(root, log, proc)
        watched.first_line = first  # type: ignore[attr-defined]
        return watched

    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_an_in_place_write_and_a_rename_over_are_backed_up_within_seconds(start) -> None:  # type: ignore[no-untyped-def]
    w = start()
    time.sleep(0.3)
    with open(w.root / "memory.json", "r+") as f:          # written in place
        f.write('{"a": 1}')
    assert w.wait_runs(1) < 5
    tmp = w.root / ".memory.json.tmp123"
    tmp.write_text('{"a": 2}')
    os.replace(tmp, w.root / "memory.json")                # written aside, renamed over
    assert w.wait_runs(2) < 5
    with open(w.root / "memory.json", "a") as f:          # the new file is watched too
        f.write(" ")
    assert w.wait_runs(3) < 5
    (w.root / "unrelated.txt").write_text("x")             # not a memory file: no backup
    time.sleep(1.0)
    assert w.runs() == 3


def test_new_folders_and_files_matching_the_patterns_are_picked_up(start) -> None:  # type: ignore[no-untyped-def]
    w = start()
    time.sleep(0.3)
    (w.root / "notes" / "a" / "b").mkdir(parents=True)
    w.wait_runs(1)                                          # a new folder under a `**` pattern
    (w.root / "notes" / "a" / "b" / "today.md").write_text("# today\n")
    w.wait_runs(2)
    (w.root / "later" / "deeper").mkdir(parents=True)       # the folder did not exist at start
    w.wait_runs(3)
    (w.root / "later" / "deeper" / "graph.jsonl").write_text("{}\n")
    w.wait_runs(4)


def test_a_file_rewritten_every_fraction_of_a_second_is_backed_up_by_max_wait(start) -> None:  # type: ignore[no-untyped-def]
    w = start(debounce=1.0, max_wait=1.5)
    time.sleep(0.3)
    began = time.monotonic()
    while w.runs() == 0:
        assert time.monotonic() - began < 6, "the steady writer was never backed up"
        (w.root / "memory.json").write_text(f'{{"t": {time.monotonic()}}}')
        time.sleep(0.15)
    assert time.monotonic() - began < 3.5


def test_changes_during_a_backup_are_queued_and_sigterm_waits_for_the_backup(start) -> None:  # type: ignore[no-untyped-def]
    w = start(seconds=1.5)
    time.sleep(0.3)
    (w.root / "memory.json").write_text('{"a": 1}')
    while "start" not in w.lines():
        time.sleep(0.02)
    (w.root / "memory.json").write_text('{"a": 2}')        # arrives while the backup runs
    w.wait_runs(2, within=10)                               # ... and gets its own backup

    (w.root / "memory.json").write_text('{"a": 3}')
    while w.lines().count("start") < 3:
        time.sleep(0.02)
    w.proc.send_signal(signal.SIGTERM)                      # in the middle of a backup
    assert w.proc.wait(timeout=10) == 0
    assert w.lines()[-2:] == ["start", "end"]               # the backup finished before it stopped
    assert "stopped (SIGTERM)" in w.proc.stderr.read()


def test_polling_mode_sees_writes_and_a_recreated_folder(start) -> None:  # type: ignore[no-untyped-def]
    w = start(polling=True)
    assert "polling" in w.first_line
    (w.root / "notes").mkdir()
    w.wait_runs(1)
    (w.root / "notes" / "x.md").write_text("x")
    w.wait_runs(2)
    w.proc.send_signal(signal.SIGINT)
    assert w.proc.wait(timeout=10) == 0


NO_INOTIFY = ("unshare", "--user", "--map-root-user", "sh", "-c",
              'echo 0 > /proc/sys/user/max_inotify_instances && exec "$@"', "sh")


def _no_inotify_possible() -> bool:
    """Whether a user namespace (whose inotify limit is its own) can be made here."""
    try:
        return subprocess.run([*NO_INOTIFY, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _no_inotify_possible(), reason="util-linux's unshare cannot make a user namespace here (.ci/run installs util-linux; CI runs as root)")
def test_without_inotify_it_falls_back_to_polling_and_says_so(start) -> None:  # type: ignore[no-untyped-def]
    # In its own user namespace the watcher may create no inotify instance at all (the
    # limit there is 0; the machine's own limit is untouched): the native watch fails.
    w = start(prefix=NO_INOTIFY)
    assert "native events" in w.first_line
    assert w.proc.stderr is not None
    said = w.proc.stderr.readline()
    assert "native file watch failed" in said and "falling back to polling" in said
    (w.root / "memory.json").write_text('{"b": 1}')
    w.wait_runs(1)
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(timeout=10) == 0


def test_a_deleted_and_recreated_folder_is_watched_again(start) -> None:  # type: ignore[no-untyped-def]
    w = start()
    (w.root / "notes").mkdir()
    w.wait_runs(1)
    os.rename(w.root / "notes", w.root / "old-notes")
    (w.root / "notes").mkdir()
    w.wait_runs(2)
    time.sleep(1.0)                                         # the replan (every 0.5 s) rewatches it
    (w.root / "notes" / "new.md").write_text("x")
    w.wait_runs(3)


def test_plan_and_matcher(tmp_path: Path) -> None:
    (tmp_path / "memory-bank" / "a").mkdir(parents=True)
    (tmp_path / ".cursor" / "rules").mkdir(parents=True)
    targets = [watcher.Target(str(tmp_path), ("CLAUDE.md", "memory-bank/**/*.md", ".cursor/rules/**/*.mdc",
                                              ".github/instructions/**/*.instructions.md")),
               watcher.Target(str(tmp_path / "no" / "such" / "dir"), ("**/*.md",))]
    folders = set(watcher.plan(targets))
    assert folders == {str(tmp_path), str(tmp_path / "memory-bank"), str(tmp_path / "memory-bank" / "a"),
                       str(tmp_path / ".cursor" / "rules")}
    match = watcher.Matcher(targets)
    assert match(str(tmp_path / "CLAUDE.md"))
    assert match(str(tmp_path / "memory-bank" / "x.md")) and match(str(tmp_path / "memory-bank" / "a" / "b" / "y.md"))
    assert match(str(tmp_path / ".cursor" / "rules" / "r.mdc"))
    assert match(str(tmp_path / "no" / "such" / "dir" / "m.md"))
    assert not match(str(tmp_path / "memory-bank" / "x.txt"))
    assert not match(str(tmp_path / "sub" / "CLAUDE.md"))
    assert not match(str(tmp_path / ".CLAUDE.md.swp"))
    db = watcher.Matcher([watcher.Target(str(tmp_path), ("history.db",))])
    assert db(str(tmp_path / "history.db-wal")) and db(str(tmp_path / "history.db-journal"))
    assert not db(str(tmp_path / "history.db-shm")) and not db(str(tmp_path / "other.db-wal"))
    assert watcher.Matcher([watcher.Target("/r", ("m[0-9].json", "[!x]y"))])("/r/m5.json")
    assert not watcher.Matcher([watcher.Target("/r", ("[!x]y",))])("/r/xy")
