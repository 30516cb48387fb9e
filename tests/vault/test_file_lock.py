"""The vault lock and the pending marker, through real processes: a hook that fires while
a restore holds the lock leaves the marker (`trigger\\npid`), and the restore, once done,
runs that backup under the hook's own trigger name (issue 11 point 9)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from memvault_hooks import config
from memvault_hooks.vault import file_lock
from memvault_hooks import triggers
from support import MEMVAULT
from support import Project
from support import git
from trigger_support import trailers
from vault_support import blob
from vault_support import ok
from vault_support import revs


def _hold_lock(vault: Path) -> subprocess.Popen[str]:
    """Another memvault run, as far as the lock goes: holds it until its stdin closes."""
    code = ("import fcntl, os, sys\n"
            f"fd = os.open({str(vault / file_lock.LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def _wait_for(predicate: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_marker_round_trip_in_its_one_format(tmp_path: Path) -> None:
    file_lock.mark_pending(str(tmp_path), "post-commit", 4242)
    assert (tmp_path / file_lock.PENDING_NAME).read_text() == "post-commit\n4242\n"
    assert file_lock.read_pending(str(tmp_path)) == ("post-commit", 4242)
    assert file_lock.take_pending(str(tmp_path)) == ("post-commit", 4242)
    assert file_lock.read_pending(str(tmp_path)) is None
    file_lock.mark_pending(str(tmp_path), "cron")
    assert file_lock.read_pending(str(tmp_path)) == ("cron", None)


def test_a_hook_that_fires_during_a_restore_is_run_after_it_under_its_own_trigger(project: Project) -> None:
    ok(project.sync())
    first = revs(project)[0]
    project.write("memory.json", '{"version": 2}\n')
    ok(project.sync())
    # A hook of the user's own, kept by install-hooks and run after ours while git waits: once
    # told, it changes another memory file, so the pending backup has something to commit.
    hooks = project.root / ".git" / "hooks"
    go = project.root.parent / "go"
    (hooks / "post-commit").write_text(
        "#!/bin/sh\n"
        f"while [ ! -e '{go}' ]; do sleep 0.05; done\n"
        f"printf '{{\"changed\": \"by the hook\"}}\\n' > '{project.root / 'gpt4o_memories.json'}'\n")
    (hooks / "post-commit").chmod(0o755)
    ok(project.run("install-hooks"))

    holder = _hold_lock(project.vault)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    restore = subprocess.Popen([*MEMVAULT, "restore", "memory.json", "--rev", first], cwd=project.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    commit = subprocess.Popen(["git", "-C", str(project.root), "commit", "-q", "--allow-empty", "-m", "work"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        marker = project.vault / file_lock.PENDING_NAME
        _wait_for(marker.exists, "the hook's pending marker")
        _wait_for(lambda: marker.read_text().count("\n") == 2, "the marker's two lines")
        trigger, pid = marker.read_text().splitlines()
        assert trigger == "post-commit" and pid == str(commit.pid)  # trigger\npid: file_lock's format
        assert holder.stdin is not None
        holder.stdin.close()  # the other run ends: the restore takes the lock
        holder.wait(timeout=10)
        assert restore.stdout is not None
        said = ""
        while "memvault: restored" not in said:
            line = restore.stdout.readline()
            assert line, f"restore ended early: {said}{restore.stderr.read() if restore.stderr else ''}"
            said += line
        go.write_text("")  # restore is done; now the user's hook changes a file; git then returns
        assert commit.wait(timeout=60) == 0, commit.stderr.read() if commit.stderr else ""
        out, err = restore.communicate(timeout=120)
    finally:
        for proc in (holder, restore, commit):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert restore.returncode == 0, said + out + err
    assert "pending backup did not run" not in err, err
    assert (project.root / "memory.json").read_bytes() == blob(project, first, "memory.json")
    assert not (project.vault / file_lock.PENDING_NAME).exists()
    # The pending backup ran after the restore, named after the hook, with a clean trigger.
    assert trailers(project.vault)["Memvault-Trigger"] == "post-commit"
    subject = git(project.vault, "log", "-1", "--format=%s")
    assert subject.rstrip("\n").endswith("post-commit: 1 modified"), subject
    assert "changed" in git(project.vault, "show", "HEAD:rAgentShared/gpt4o_memories.json")
    assert trailers(project.vault, "HEAD~1")["Memvault-Trigger"] == "restore"
    for rev in revs(project):
        assert triggers.valid(trailers(project.vault, rev)["Memvault-Trigger"])
    log = Path(config.from_args(str(project.root), None).log_file).read_text()
    assert "sync trigger=post-commit ok committed" in log, log
    assert not any(line.strip().isdigit() for line in log.splitlines()), log


def test_a_handed_over_lock_is_known_as_this_vaults_or_another(tmp_path: Path) -> None:
    """A hook that read the configuration before it changed hands over another vault's lock:
    the sync must see that (run_locked then takes this vault's own lock)."""
    mine, other = str(tmp_path / "mine"), str(tmp_path / "other")
    fd = file_lock.try_acquire(other)
    assert fd is not None
    assert file_lock.is_lock_of(fd, other)
    assert not file_lock.is_lock_of(fd, mine)
    file_lock.release(fd)
