"""sqlite_store: consistent copies of live databases (a real writer thread and real writer
processes), who writes, and the atomic replacement a restore makes."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from memvault_hooks.memory import sqlite_store

BATCH = 25


def make_db(path: Path, wal: bool = True, rows: int = 0) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE obs (id INTEGER PRIMARY KEY, batch INTEGER, text TEXT)")
    conn.executemany("INSERT INTO obs (batch, text) VALUES (?, ?)", [(0, f"r{i}") for i in range(rows)])
    conn.commit()
    conn.close()


def rows_of(path: Path | str, sql: str = "SELECT batch, count(*) FROM obs GROUP BY batch") -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_is_sqlite_and_is_database(tmp_path: Path) -> None:
    db = tmp_path / "history"
    make_db(db)
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    assert sqlite_store.is_sqlite(str(db)) and sqlite_store.is_sqlite(db.read_bytes()[:100])
    assert not sqlite_store.is_sqlite(str(text)) and not sqlite_store.is_sqlite(b"{}")
    assert not sqlite_store.is_sqlite(str(tmp_path / "missing"))
    assert sqlite_store.is_database("history", str(db))            # by its header
    assert sqlite_store.is_database("notes.db", str(text))         # by its ending (then checked by copy)
    assert sqlite_store.is_database("a/b.SQLite3") and not sqlite_store.is_database("memory.json")


def test_copies_taken_while_a_thread_writes_hold_only_whole_committed_transactions(tmp_path: Path) -> None:
    db = tmp_path / "claude-mem.db"
    make_db(db)
    stop = threading.Event()
    committed = [0]

    def writer() -> None:
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA wal_autocheckpoint=0")   # every committed row stays in the -wal
        batch = 0
        while not stop.is_set() or batch < 5:
            batch += 1
            conn.execute("BEGIN")
            for i in range(BATCH):
                conn.execute("INSERT INTO obs (batch, text) VALUES (?, ?)", (batch, "x" * (i * 40)))
                if i == BATCH // 2:
                    time.sleep(0.001)           # copies land in the middle of transactions
            conn.execute("COMMIT")
            committed[0] = batch
        writer_conn.append(conn)                 # left open: its rows stay in the -wal

    writer_conn: list[sqlite3.Connection] = []
    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        for n in range(25):
            dest = tmp_path / f"copy{n}.db"
            sqlite_store.copy(str(db), str(dest))
            copies.append(dest)
    finally:
        stop.set()
        thread.join()
    assert os.path.getsize(str(db) + "-wal") > 0       # the rows sit in the write-ahead log
    final = tmp_path / "final.db"
    sqlite_store.copy(str(db), str(final))
    seen_batches = set()
    for dest in copies + [final]:
        conn = sqlite3.connect(dest)
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        conn.close()
        for batch, count in rows_of(dest):
            assert count == BATCH, f"{dest.name}: batch {batch} has {count} rows (a torn transaction)"
            seen_batches.add(batch)
        assert not os.path.exists(str(dest) + "-wal")
    assert len({tuple(rows_of(d)) for d in copies}) > 1           # copies did see the writer's progress
    assert dict(rows_of(final)) == {b: BATCH for b in range(1, committed[0] + 1)}  # every committed row
    writer_conn[0].close()


def test_the_signature_sees_a_commit_that_only_reached_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    make_db(db, rows=1)
    sig = sqlite_store.signature(str(db))
    main_before = os.stat(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("INSERT INTO obs (batch, text) VALUES (1, 'new')")
    conn.commit()
    assert (os.stat(db).st_size, os.stat(db).st_mtime_ns) == (main_before.st_size, main_before.st_mtime_ns)
    assert sqlite_store.changed_since(str(db), sig)         # the main file alone would say "unchanged"
    now = sqlite_store.signature(str(db))
    assert not sqlite_store.changed_since(str(db), now)
    conn.close()
    assert sqlite_store.changed_since(str(tmp_path / "gone.db"), now)


def test_an_idle_wal_database_is_copied_without_trace_and_alike_each_time(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    make_db(db, rows=500)
    assert sorted(os.listdir(tmp_path)) == ["history.db"]
    before = db.read_bytes()
    sqlite_store.copy(str(db), str(tmp_path / "a"))
    sqlite_store.copy(str(db), str(tmp_path / "b"))
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "history.db"]   # no -wal / -shm left beside it
    assert db.read_bytes() == before
    a, b = (tmp_path / "a").read_bytes(), (tmp_path / "b").read_bytes()
    assert a == b                                       # unchanged database: same bytes, no new commit
    assert a[18:20] == b"\x01\x01"                      # rollback-journal mode: one self-contained file
    assert os.stat(tmp_path / "a").st_mode & 0o777 == 0o600
    assert rows_of(tmp_path / "a") == [(0, 500)]


def test_a_corrupt_database_is_reported_and_leaves_no_copy(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    make_db(db, wal=False, rows=2000)
    data = bytearray(db.read_bytes())
    data[4096: 4096 * 3] = b"\x0d\xff" * 4096          # trash the second and third pages
    db.write_bytes(bytes(data))
    with pytest.raises(sqlite_store.DatabaseProblem) as exc:
        sqlite_store.copy(str(db), str(tmp_path / "copy"), delays=(0.01,))
    assert "broken.db" in str(exc.value) and "kept the last good version" in str(exc.value)
    assert not (tmp_path / "copy").exists()
    (tmp_path / "text.db").write_text("hello")
    with pytest.raises(sqlite_store.DatabaseProblem):
        sqlite_store.copy(str(tmp_path / "text.db"), str(tmp_path / "copy"), delays=())


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute(sys.argv[2])
conn.execute("INSERT INTO obs (batch, text) VALUES (9, 'held')")
print("ready", flush=True)
time.sleep(60)
"""


def hold(db: Path, begin: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db), begin], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_database_locked_past_the_timeout_is_reported_for_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    make_db(db, wal=False, rows=3)
    proc = hold(db, "BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(sqlite_store.DatabaseProblem) as exc:
            sqlite_store.copy(str(db), str(tmp_path / "copy"), timeout=0.2, delays=(0.05,))
        assert time.monotonic() - started < 5
        assert "locked" in str(exc.value) and "next run" in str(exc.value)
    finally:
        proc.kill()
        proc.wait()
    sqlite_store.copy(str(db), str(tmp_path / "copy"))
    assert rows_of(tmp_path / "copy") == [(0, 3)]                 # the uncommitted row never made it


def test_writers_names_the_process_that_holds_it_open(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    make_db(db, rows=1)
    assert sqlite_store.writers(str(db)) == []
    proc = hold(db, "BEGIN")
    try:
        found = sqlite_store.writers(str(db))
        assert [w.pid for w in found] == [proc.pid]
        assert "python" in str(found[0]) and str(proc.pid) in str(found[0])
    finally:
        proc.kill()
        proc.wait()
    assert sqlite_store.writers(str(db)) == []
    # In this process, another connection's write lock is found by the lock probe.
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        assert [w.pid for w in sqlite_store.writers(str(db))] == [None]
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert sqlite_store.writers(str(tmp_path / "missing.db")) == []


CRASH_WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("INSERT INTO obs (batch, text) VALUES (7, 'only in the wal')")
os._exit(0)   # dies without a checkpoint: the row stays in the -wal
"""


def test_replace_refuses_a_writer_then_swaps_in_and_drops_the_stale_wal(tmp_path: Path) -> None:
    live = tmp_path / "mem.db"
    make_db(live, rows=5)
    os.chmod(live, 0o640)
    subprocess.run([sys.executable, "-c", CRASH_WRITER, str(live)], check=True)
    assert os.path.getsize(str(live) + "-wal") > 0
    restored = tmp_path / "restored.db"
    make_db(restored, wal=False, rows=2)

    proc = hold(live, "BEGIN")
    try:
        with pytest.raises(sqlite_store.DatabaseInUse) as exc:
            sqlite_store.replace(str(live), str(restored))
        assert str(proc.pid) in str(exc.value) and "mem.db" in str(exc.value)
        assert restored.exists()
    finally:
        proc.kill()
        proc.wait()

    sqlite_store.replace(str(live), str(restored))
    assert not restored.exists()
    assert not any(os.path.exists(str(live) + s) for s in ("-wal", "-shm", "-journal"))
    assert os.stat(live).st_mode & 0o777 == 0o640
    conn = sqlite3.connect(live)
    assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    assert conn.execute("SELECT batch, count(*) FROM obs GROUP BY batch").fetchall() == [(0, 2)]
    conn.close()
