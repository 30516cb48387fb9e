from __future__ import annotations

import os
import subprocess
from pathlib import Path

from memvault_hooks import file_lock
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
    assert file_lock.take_pending(vault) == "post-rewrite"
    assert file_lock.take_pending(vault) is None
    file_lock.mark_pending(vault, "cron")
    assert file_lock.read_pending(vault) == ("cron", None)
