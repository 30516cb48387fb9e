"""SQLite databases among the memory files, backed up through the real command line: a
WAL database written by a thread while syncs run, an unchanged one, a change that sits
only in the `-wal`, a database locked longer than the lock timeout."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from support import Project
from support import git
from trigger_support import commit_count
from trigger_support import settle

from memvault_hooks.memory import sqlite_store


def _config(project: Project, *extra: str) -> None:
    project.config(f"version: 1\nfiles: [memory.json, history.db, {', '.join(extra) or 'none.md'}]\n"
                   f"vault:\n  path: {project.vault}\n")


def _wal_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS memories (id INTEGER PRIMARY KEY, text TEXT)")
    conn.commit()
    return conn


def _check(path: Path) -> list[tuple[str]]:
    conn = sqlite3.connect(sqlite_store.uri(str(path), mode="ro"), uri=True)
    try:
        return conn.execute("PRAGMA quick_check").fetchall()
    finally:
        conn.close()


def _rows(path: Path) -> set[int]:
    conn = sqlite3.connect(sqlite_store.uri(str(path), mode="ro"), uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM memories")}
    finally:
        conn.close()


def test_a_wal_database_written_while_syncs_run(project: Project, tmp_path: Path) -> None:
    _config(project)
    db = project.root / "history.db"
    conn = _wal_db(db)
    committed: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            conn.execute("INSERT INTO memories (id, text) VALUES (?, ?)", (i, "x" * 500))
            if i % 3 == 0:
                conn.execute("UPDATE memories SET text = ? WHERE id = ?", ("changed", i - 1))
            conn.commit()
            committed.append(i)
            time.sleep(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(5):
            proc = project.sync()
            assert proc.returncode == 0, proc.stderr
    finally:
        stop.set()
        thread.join()
    proc = project.sync()  # after the last committed row
    assert proc.returncode == 0, proc.stderr
    assert os.path.exists(str(db) + "-wal")  # the owner still holds it: the newest rows sit in the log
    revs = git(project.vault, "log", "--format=%H", "--", "rAgentShared/history.db").split()
    assert len(revs) >= 3  # the syncs ran while rows were being committed
    for i, rev in enumerate(revs):
        copy = tmp_path / f"copy{i}.db"
        copy.write_bytes(subprocess.run(["git", "-C", str(project.vault), "show", f"{rev}:rAgentShared/history.db"],
                                        capture_output=True, check=True).stdout)
        assert _check(copy) == [("ok",)], rev
        assert not (tmp_path / f"copy{i}.db-wal").exists()  # self-contained: rollback journal mode
    assert _rows(project.stored / "history.db") == set(committed)  # every committed row, the -wal's too
    conn.close()


def test_an_unchanged_database_makes_no_commit(project: Project) -> None:
    _config(project)
    conn = _wal_db(project.root / "history.db")
    conn.executemany("INSERT INTO memories (text) VALUES (?)", [(f"m{i}",) for i in range(100)])
    conn.commit()
    assert project.sync().returncode == 0
    count = commit_count(project.vault)
    for _ in range(3):  # open (the owner keeps it open), and closed: checkpointed into the main file
        proc = project.sync()
        assert proc.returncode == 0 and "nothing to back up" in proc.stdout + proc.stderr, proc.stdout
    conn.close()
    assert not os.path.exists(str(project.root / "history.db") + "-wal")
    assert project.sync().returncode == 0
    assert commit_count(project.vault) == count
    status = project.run("status", "--json")
    assert '"changed": []' in status.stdout


def test_a_change_only_in_the_wal_is_picked_up_by_a_hook(project: Project) -> None:
    _config(project)
    db = project.root / "history.db"
    conn = _wal_db(db)
    conn.execute("PRAGMA wal_autocheckpoint=0")  # nothing reaches the main file
    conn.execute("INSERT INTO memories (text) VALUES ('first')")
    conn.commit()
    past = time.time() - 60  # out of git's racy window: the hook's no-change path decides from stat
    os.utime(db, (past, past))
    os.utime(str(db) + "-wal", (past, past))
    for name in ("memory.json",):
        os.utime(project.root / name, (past, past))
    assert project.sync().returncode == 0
    assert project.run("hook", "post-commit").returncode == 0  # fills the no-change path's caches
    settle(project.vault)
    count = commit_count(project.vault)
    main_stat = os.stat(db)
    conn.execute("INSERT INTO memories (text) VALUES ('only in the wal')")
    conn.commit()
    assert os.stat(db).st_mtime_ns == main_stat.st_mtime_ns and os.stat(db).st_size == main_stat.st_size
    proc = project.run("hook", "post-commit")
    assert proc.returncode == 0, proc.stderr
    settle(project.vault)
    assert commit_count(project.vault) == count + 1
    conn2 = sqlite3.connect(project.stored / "history.db")
    assert [r[0] for r in conn2.execute("SELECT text FROM memories ORDER BY id")] == ["first", "only in the wal"]
    conn2.close()
    conn.close()


def test_a_database_by_its_header_and_one_locked_too_long(project: Project) -> None:
    _config(project, "store")
    plain = sqlite3.connect(project.root / "store")  # no ending: known by its header
    plain.execute("CREATE TABLE t (x)")
    plain.execute("INSERT INTO t VALUES (1)")
    plain.commit()
    plain.close()
    db = project.root / "history.db"
    conn = sqlite3.connect(db, isolation_level=None)  # rollback journal: an exclusive lock stops readers
    conn.execute("CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO memories (text) VALUES ('kept')")
    assert project.sync().returncode == 0
    assert _check(project.stored / "store") == [("ok",)]
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("INSERT INTO memories (text) VALUES ('locked in')")
    project.write("memory.json", '{"still": "backed up"}')
    env = {**os.environ, "MEMVAULT_SQLITE_LOCK_TIMEOUT": "0.2"}
    proc = project.sync(env=env)
    assert proc.returncode == 1
    assert "history.db" in proc.stderr and "locked" in proc.stderr and "next run" in proc.stderr
    assert "backed up" in (project.stored / "memory.json").read_text()  # the others still are
    assert _rows(project.stored / "history.db") == {1}  # the last good version stays
    status = project.run("status", "--json")
    assert status.returncode == 1 and "history.db" in status.stdout
    conn.execute("COMMIT")
    conn.close()
    proc = project.sync(env=env)  # the next run tries again
    assert proc.returncode == 0, proc.stderr
    assert _rows(project.stored / "history.db") == {1, 2}


def test_a_damaged_database_is_reported_and_verify_checks_stored_ones(project: Project) -> None:
    _config(project, "notes.sqlite")
    conn = sqlite3.connect(project.root / "notes.sqlite")
    conn.execute("CREATE TABLE n (x)")
    conn.execute("INSERT INTO n VALUES ('good')")
    conn.commit()
    conn.close()
    assert project.sync().returncode == 0
    verified = project.run("verify", "--json")
    formats = next(c for c in json.loads(verified.stdout)["checks"] if c["name"] == "formats")
    assert formats["ok"] is True, formats  # quick_check passes
    project.write("history.db", b"SQLite format 3\x00" + b"\xff" * 4000)  # a header, then garbage
    project.write("memory.json", '{"others": "still backed up"}')
    proc = project.sync()
    assert proc.returncode == 1 and "history.db" in proc.stderr and "Traceback" not in proc.stderr
    assert "kept the last good version" in proc.stderr
    assert not (project.stored / "history.db").exists()
    assert "others" in (project.stored / "memory.json").read_text()
    stored = project.stored / "notes.sqlite"  # a stored database damaged behind memvault's back
    data = bytearray(stored.read_bytes())
    data[100:4096] = b"\x07" * (4096 - 100)
    stored.write_bytes(bytes(data))
    git(project.vault, "commit", "-qam", "damaged")
    verified = project.run("verify", "--json")
    assert verified.returncode == 1
    formats = next(c for c in json.loads(verified.stdout)["checks"] if c["name"] == "formats")
    assert formats["ok"] is False and "notes.sqlite" in formats["detail"]
