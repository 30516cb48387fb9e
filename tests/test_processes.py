from __future__ import annotations

import os
import subprocess
from pathlib import Path

from memvault_hooks.vault import file_lock
from memvault_hooks import processes


def test_alive_parent_and_wait() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert processes.alive(child.pid)
        assert processes.parent_of(child.pid) == os.getpid()
        assert processes.name_of(child.pid) == "sleep"
    finally:
        child.kill()
    processes.wait_for_exit(child.pid, timeout=20)
    assert not processes.alive(child.pid)  # killed but not reaped yet: a zombie counts as gone
    child.wait()
    assert not processes.alive(child.pid)
    processes.wait_for_exit(None)
    processes.wait_for_exit(os.getpid())  # never waits for itself


def test_pending_marker_names_the_git_command(tmp_path: Path) -> None:
    vault = str(tmp_path)
    assert file_lock.read_pending(vault) is None
    file_lock.mark_pending(vault, "post-commit", 1234)
    file_lock.mark_pending(vault, "post-rewrite", 4321)
    assert file_lock.read_pending(vault) == ("post-rewrite", 4321)
    assert file_lock.take_pending(vault) == ("post-rewrite", 4321)
    assert file_lock.take_pending(vault) is None
    file_lock.mark_pending(vault, "cron")
    assert file_lock.read_pending(vault) == ("cron", None)


def test_git_children_reap_kills_the_group_of_a_dead_owner(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import signal
    import subprocess
    import time

    from memvault_hooks.vault import git_children

    # a "git" (by name) that leads its own group, with a child in it
    script = tmp_path / "git"
    script.write_text("#!/bin/sh\nsleep 30 &\nwait\n")
    script.chmod(0o755)
    child = subprocess.Popen([str(script)], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(git_children.members(child.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        record = git_children.register(child.pid)
        assert record is not None
        assert git_children.reap() == []          # its owner (this process) lives: kept
        with open(record, "w") as f:
            f.write("999999999\n")                  # an owner that is gone
        assert git_children.reap() == [child.pid]
        child.wait(5)
        assert git_children.members(child.pid) == []
        assert not os.path.exists(record)
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except OSError:
            pass
        child.wait()
