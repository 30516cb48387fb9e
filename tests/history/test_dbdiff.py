"""`diff` of a SQLite database: added, removed and changed rows per table, between two
backups and against the live database (a checked copy of it, WAL included)."""
from __future__ import annotations

import sqlite3

from support import Project


def test_diff_shows_row_changes_per_table(project: Project) -> None:
    project.config(f"version: 1\nfiles: [memory.json, mem.sqlite3]\nvault:\n  path: {project.vault}\n")
    db = project.root / "mem.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE entities (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO entities (name) VALUES (?)", [("ann",), ("bob",), ("cy",)])
    conn.execute("INSERT INTO notes (body) VALUES ('kept')")
    conn.commit()
    assert project.sync().returncode == 0
    unchanged = project.run("diff", "mem.sqlite3")
    assert unchanged.returncode == 0 and "no differences" in unchanged.stdout  # the owner keeps it open
    conn.execute("INSERT INTO entities (name) VALUES ('dee')")
    conn.execute("INSERT INTO entities (name) VALUES ('eve')")
    conn.execute("DELETE FROM entities WHERE name = 'bob'")
    conn.execute("UPDATE entities SET name = 'cyrus' WHERE name = 'cy'")
    conn.execute("CREATE TABLE links (a, b)")
    conn.execute("INSERT INTO links VALUES (1, 2)")
    conn.commit()  # in the -wal only, the owner still holds it
    live = project.run("diff", "mem.sqlite3")
    assert live.returncode == 0, live.stderr
    assert "entities: +2 -1 ~1 rows" in live.stdout
    assert "links: +1 -0 ~0 rows (new table)" in live.stdout
    assert "notes" not in live.stdout and "SQLite database" in live.stdout
    assert project.sync().returncode == 0
    revs = [entry.split("\x00")[0] for entry in project.log()]
    between = project.run("diff", "mem.sqlite3", "--from", revs[1][:12], "--to", revs[0][:12])
    assert between.returncode == 0
    assert "entities: +2 -1 ~1 rows" in between.stdout and "links: +1" in between.stdout
    conn.close()
    shown = project.run("show", "mem.sqlite3")
    assert shown.returncode == 0 and "SQLite database" in shown.stdout
    assert f"memvault restore mem.sqlite3 --rev {revs[0][:12]} --to DIR" in shown.stdout
