"""The engine under overlap, crashes and torn writes."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time

from support import MEMVAULT
from support import Project
from support import git


def _popen_sync(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*MEMVAULT, "sync", *args], cwd=project.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _fsck(project: Project) -> None:
    proc = subprocess.run(["git", "-C", str(project.vault), "fsck", "--full", "--strict"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stderr.lower()


def test_twenty_overlapping_syncs_all_succeed(project: Project) -> None:
    procs = []
    for i in range(24):
        project.write("memory.json", json.dumps({"round": i}))
        procs.append(_popen_sync(project, "--trigger", "cron" if i % 2 else "manual"))
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert all(code == 0 for code, _ in results), results
    _fsck(project)
    assert (project.stored / "memory.json").read_text() == json.dumps({"round": 23})
    assert git(project.vault, "status", "--porcelain") == ""
    # every stored version of memory.json parses
    for sha in git(project.vault, "rev-list", "HEAD").split():
        json.loads(git(project.vault, "show", f"{sha}:rAgentShared/memory.json"))


def test_sigkill_at_random_moments_then_clean_sync(project: Project) -> None:
    rng = random.Random(7)
    project.sync()
    for i in range(12):
        project.write("memory.json", json.dumps({"kill": i, "pad": "x" * rng.randrange(100_000)}))
        proc = _popen_sync(project)
        time.sleep(rng.uniform(0.0, 0.35))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    last = {"final": True}
    project.write("memory.json", json.dumps(last))
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    assert json.loads((project.stored / "memory.json").read_text()) == last
    _fsck(project)
    assert git(project.vault, "status", "--porcelain") == ""
    assert not list((project.vault / ".git").glob("*.lock"))


def test_killed_holder_does_not_block_next_run(project: Project) -> None:
    """A run killed while holding the lock leaves nothing that blocks (flock, not a PID file)."""
    import fcntl

    project.sync()
    holder = subprocess.Popen(
        ["python3", "-c", "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('held', flush=True); time.sleep(600)", str(project.vault / ".memvault.lock")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with open(project.vault / ".memvault.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            raise AssertionError("lock was not held")
        except BlockingIOError:
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    project.write("memory.json", '{"after": "kill"}')
    proc = project.sync()
    assert proc.returncode == 0
    assert (project.stored / "memory.json").read_text() == '{"after": "kill"}'


def test_second_sync_waits_for_the_first_then_works(project: Project) -> None:
    import fcntl

    project.sync()
    lock = open(project.vault / ".memvault.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    project.write("memory.json", '{"while": "locked"}')
    waiting = _popen_sync(project)
    time.sleep(1.0)
    assert waiting.poll() is None, "sync did not wait for the lock"
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()
    assert waiting.wait(timeout=60) == 0
    assert (project.stored / "memory.json").read_text() == '{"while": "locked"}'


def test_lock_timeout_is_a_clean_failure(project: Project) -> None:
    import fcntl

    project.sync()
    lock = open(project.vault / ".memvault.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        project.write("memory.json", '{"x": 1}')
        env = {**os.environ, "MEMVAULT_LOCK_TIMEOUT": "0.5"}
        proc = project.sync(env=env)
    finally:
        lock.close()
    assert proc.returncode == 1
    assert "lock" in proc.stderr and "Traceback" not in proc.stderr


def test_writer_rewriting_in_place_never_yields_a_torn_version(project: Project) -> None:
    """A writer that truncates and rewrites memory.json in place, slowly, while syncs run."""
    project.sync()
    path = project.root / "memory.json"
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            doc = json.dumps({"version": i, "facts": [f"fact {j}" for j in range(200 + i % 50)]}, indent=2)
            with open(path, "r+b") as f:
                f.truncate(0)
                data = doc.encode()
                for k in range(0, len(data), 512):
                    f.write(data[k:k + 512])
                    f.flush()
                    time.sleep(0.001)
            i += 1
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        codes = []
        for _ in range(15):
            codes.append(project.sync("--quiet").returncode)
    finally:
        stop.set()
        thread.join()
    assert codes.count(0) >= 1
    assert set(codes) <= {0, 1}
    shas = git(project.vault, "rev-list", "HEAD", "--", "rAgentShared/memory.json").split()
    assert len(shas) >= 2
    for sha in shas:
        json.loads(git(project.vault, "show", f"{sha}:rAgentShared/memory.json"))
    assert project.sync().returncode == 0
    assert (project.stored / "memory.json").read_bytes() == path.read_bytes()
    _fsck(project)


def test_a_large_file_is_stored_by_git_while_it_is_validated(project: Project) -> None:
    """Above snapshot.STORE_EARLY_ABOVE a copy goes to `git hash-object -w` before it is
    validated; the commit names that blob (plumbing: no index refresh), the vault stays
    whole and clean, and an invalid large copy leaves no commit and no git behind."""
    from memvault_hooks.vault import snapshot

    entries = [{"id": i, "text": f"entry {i} " + "x" * 80} for i in range(snapshot.STORE_EARLY_ABOVE // 100)]
    content = json.dumps({"entries": entries}).encode()
    assert len(content) > snapshot.STORE_EARLY_ABOVE
    project.write("memory.json", content)
    first = project.sync()
    assert first.returncode == 0, first.stderr
    assert git(project.vault, "cat-file", "blob", "HEAD:rAgentShared/memory.json").encode() == content
    # Named in the index by its blob (no stat: git never hashed the placed file again).
    assert "size: 0\t" in git(project.vault, "ls-files", "--debug", "rAgentShared/memory.json")
    _fsck(project)
    assert git(project.vault, "status", "--porcelain") == ""
    commits = git(project.vault, "rev-list", "HEAD").split()

    project.write("memory.json", content[:-1000])   # cut short: not JSON
    second = project.sync()
    assert second.returncode == 1 and "invalid JSON" in second.stderr
    assert git(project.vault, "rev-list", "HEAD").split() == commits
    assert git(project.vault, "cat-file", "blob", "HEAD:rAgentShared/memory.json").encode() == content
    left = subprocess.run(["pgrep", "-f", f"hash-object -w --no-filters -- {project.vault}"],
                          capture_output=True, text=True)
    assert left.stdout == ""
    _fsck(project)
