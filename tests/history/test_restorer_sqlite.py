"""Restoring a SQLite database: refused while another process (a real one, holding a write
transaction) writes it, naming that process; then replaced atomically, its stale -wal and
-shm gone, the live content it replaced backed up first."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from support import Project

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO memories (text) VALUES ('uncommitted')")
print("holding", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


def _texts(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT text FROM memories ORDER BY rowid")]
    finally:
        conn.close()


def test_restore_refuses_while_another_process_writes_then_replaces(project: Project) -> None:
    project.config(f"version: 1\nfiles: [memory.json, history.db]\nvault:\n  path: {project.vault}\n")
    db = project.root / "history.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE memories (text TEXT)")
    conn.executemany("INSERT INTO memories VALUES (?)", [("one",), ("two",)])
    conn.commit()
    conn.close()
    assert project.sync().returncode == 0
    good = project.log()[0].split("\x00")[0]
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM memories WHERE text = 'two'")
    conn.execute("INSERT INTO memories VALUES ('three')")
    conn.commit()
    conn.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        before = db.read_bytes()
        proc = project.run("restore", "history.db", "--rev", good[:12])
        assert proc.returncode == 1
        assert "history.db" in proc.stderr and f"pid {holder.pid}" in proc.stderr and "python" in proc.stderr
        assert "nothing restored" in proc.stderr and "Traceback" not in proc.stderr
        assert db.read_bytes() == before
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    # A stale log beside it, as a program killed mid-write leaves one.
    Path(f"{db}-shm").write_bytes(b"\0" * 32768)
    Path(f"{db}-wal").write_bytes(b"stale")
    proc = project.run("restore", "history.db", "--rev", good[:12])
    assert proc.returncode == 0, proc.stderr
    assert not os.path.exists(f"{db}-wal") and not os.path.exists(f"{db}-shm")
    assert _texts(db) == ["one", "two"]
    undo = proc.stdout.split("memvault restore --rev ")[1].split(")")[0]
    kept = project.run("show", "history.db", "--rev", undo)
    assert kept.returncode == 0 and "SQLite database" in kept.stdout and "--to DIR" in kept.stdout
    assert "\0" not in kept.stdout
    out = project.root.parent / "out"
    assert project.run("restore", "history.db", "--rev", undo, "--to", str(out)).returncode == 0
    assert _texts(out / "history.db") == ["one", "three"]  # the live content it replaced was backed up first
