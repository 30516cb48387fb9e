"""sqlite_rows: row counts and per-table row changes between two real database files."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from memvault_hooks.memory import sqlite_rows


def test_table_changes_counts_rows_per_table(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    conn = sqlite3.connect(old)
    conn.executescript("""
        CREATE TABLE obs (id INTEGER PRIMARY KEY, text TEXT);
        CREATE TABLE "we""ird" (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
        CREATE TABLE gone (x);
        CREATE TABLE same (x);
        INSERT INTO gone VALUES (1), (2);
        INSERT INTO same VALUES (1);
        INSERT INTO "we""ird" VALUES ('a', 1), ('b', 2), ('c', NULL);
    """)
    conn.executemany("INSERT INTO obs VALUES (?, ?)", [(i, f"t{i}") for i in range(1, 101)])
    conn.commit()
    conn.close()
    new.write_bytes(old.read_bytes())
    conn = sqlite3.connect(new)
    conn.executescript("""
        DELETE FROM obs WHERE id <= 10;
        UPDATE obs SET text = 'changed' WHERE id BETWEEN 50 AND 54;
        INSERT INTO obs (text) VALUES ('n1'), ('n2'), ('n3');
        DROP TABLE gone;
        CREATE TABLE fresh (y);
        INSERT INTO fresh VALUES (1);
        UPDATE "we""ird" SET v = 3 WHERE k = 'c';
        INSERT INTO "we""ird" VALUES ('d', 4);
        ALTER TABLE same ADD COLUMN z;
    """)
    conn.commit()
    conn.close()
    lines = [c.line() for c in sqlite_rows.table_changes(str(old), str(new))]
    assert lines == [
        "fresh: +1 -0 ~0 rows (new table)",
        "gone: +0 -2 ~0 rows (table removed)",
        "obs: +3 -10 ~5 rows",
        "same: +0 -0 ~0 rows (columns changed)",
        'we"ird: +1 -0 ~1 rows',
    ]
    assert sqlite_rows.table_changes(str(old), str(old)) == []
    first = sqlite_rows.table_changes_of_blobs(None, old.read_bytes())
    assert [(c.table, c.added) for c in first] == [("gone", 2), ("obs", 100), ("same", 1), ('we"ird', 3)]
    assert sqlite_rows.row_total(str(old)) == 106


def test_a_first_version_and_a_table_without_its_rowid_alias(tmp_path: Path) -> None:
    new = tmp_path / "n.db"
    conn = sqlite3.connect(new)
    conn.executescript("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 2), (3, 4);")
    conn.commit()
    conn.close()
    assert [c.line() for c in sqlite_rows.table_changes(None, str(new))] == ["t: +2 -0 ~0 rows (new table)"]
    assert [c.line() for c in sqlite_rows.table_changes(str(new), None)] == ["t: +0 -2 ~0 rows (table removed)"]
    assert sqlite_rows.table_changes_of_blobs(None, None) == []
