"""The rows of SQLite databases: how many, and what changed between two versions.

`row_total(path)` counts the rows of every ordinary table (alerts measure a database by it).
`table_changes(old, new)` counts added / removed / changed rows per table between two
database files, in SQL over both attached to one connection: SQLite walks them by rowid
(by primary key in a WITHOUT ROWID table), so memory stays bounded whatever their size.
Table names come from the files and are quoted wherever they reach SQL.

Where it is wired (history/dbdiff.py): the diff command shows, for a database
(sqlite_store.is_database), `table_changes_of_blobs(old_blob, new_blob)` one
`TableChange.line()` a table (a first version: old None); `log`/`show` need nothing new.
"""
from __future__ import annotations

import dataclasses
import os
import sqlite3
import tempfile

from memvault_hooks.memory import sqlite_store


def row_total(path: str) -> int:
    """The number of rows in all tables of a (copied, quiet) database."""
    conn = sqlite3.connect(sqlite_store.uri(path, mode="ro"), uri=True)
    try:
        return sum(_count(conn, "main", t) for t in _tables(conn, "main"))
    finally:
        conn.close()


# ---- per-table row changes ------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TableChange:
    table: str
    added: int
    removed: int
    changed: int
    note: str = ""      # 'new table', 'table removed', 'columns changed'

    def line(self) -> str:
        counts = f"+{self.added} -{self.removed} ~{self.changed} rows"
        return f"{self.table}: {counts}" + (f" ({self.note})" if self.note else "")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection, schema: str) -> dict[str, bool]:
    """Ordinary tables of a schema (name -> has a rowid); no virtual or internal ones."""
    rows = conn.execute(f"SELECT name, sql FROM {_q(schema)}.sqlite_master WHERE type='table' "
                        f"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").fetchall()
    out = {}
    for name, sql in rows:
        text = (sql or "").upper()
        if text.startswith("CREATE VIRTUAL"):
            continue
        out[name] = "WITHOUT ROWID" not in " ".join(text.split())
    return out


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> tuple[list[str], list[str]]:
    """(columns, primary-key columns in key order) of a table."""
    rows = conn.execute(f"PRAGMA {_q(schema)}.table_info({_q(table)})").fetchall()
    cols = [r[1] for r in rows]
    pk = [r[1] for r in sorted((r for r in rows if r[5]), key=lambda r: r[5])]
    return cols, pk


def _count(conn: sqlite3.Connection, schema: str, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {_q(schema)}.{_q(table)}").fetchone()[0])


def table_changes(old: str | None, new: str | None) -> list[TableChange]:
    """Per-table row changes from the database file `old` to `new` (None: no database).

    Rows are matched by rowid (by primary key in a WITHOUT ROWID table); a row is changed
    when a column the two versions share differs. Computed by SQLite over both files."""
    conn = sqlite3.connect("file::memory:", uri=True)
    try:
        conn.execute("PRAGMA temp_store=FILE")
        for alias, path in (("old", old), ("new", new)):
            if path is None:
                conn.execute(f"ATTACH ':memory:' AS {alias}")
            else:
                conn.execute(f"ATTACH ? AS {alias}", (sqlite_store.uri(path, mode="ro"),))
        return _changes(conn)
    finally:
        conn.close()


def _changes(conn: sqlite3.Connection) -> list[TableChange]:
    old_tables, new_tables = _tables(conn, "old"), _tables(conn, "new")
    out = []
    for table in sorted(set(old_tables) | set(new_tables)):
        if table not in old_tables:
            out.append(TableChange(table, _count(conn, "new", table), 0, 0, "new table"))
            continue
        if table not in new_tables:
            out.append(TableChange(table, 0, _count(conn, "old", table), 0, "table removed"))
            continue
        old_cols, old_pk = _columns(conn, "old", table)
        new_cols, new_pk = _columns(conn, "new", table)
        if old_tables[table] and new_tables[table]:
            keys = ["rowid"]
        elif old_pk == new_pk and old_pk:
            keys = old_pk
        else:
            out.append(TableChange(table, _count(conn, "new", table), _count(conn, "old", table), 0,
                                   "key changed"))
            continue
        on = " AND ".join(f"o.{_q(k) if k != 'rowid' else k} IS n.{_q(k) if k != 'rowid' else k}"
                          for k in keys)
        o_t, n_t = f"old.{_q(table)}", f"new.{_q(table)}"
        added = conn.execute(f"SELECT count(*) FROM {n_t} n WHERE NOT EXISTS "
                             f"(SELECT 1 FROM {o_t} o WHERE {on})").fetchone()[0]
        removed = conn.execute(f"SELECT count(*) FROM {o_t} o WHERE NOT EXISTS "
                               f"(SELECT 1 FROM {n_t} n WHERE {on})").fetchone()[0]
        shared = [c for c in new_cols if c in old_cols]
        same = " AND ".join(f"o.{_q(c)} IS n.{_q(c)}" for c in shared) or "1"
        changed = conn.execute(f"SELECT count(*) FROM {n_t} n JOIN {o_t} o ON {on} "
                               f"WHERE NOT ({same})").fetchone()[0]
        note = "columns changed" if old_cols != new_cols else ""
        if added or removed or changed or note:
            out.append(TableChange(table, int(added), int(removed), int(changed), note))
    return out


def table_changes_of_blobs(old: bytes | None, new: bytes | None) -> list[TableChange]:
    """table_changes for two database contents (e.g. two vault versions)."""
    with tempfile.TemporaryDirectory(prefix="memvault-db-") as tmp:
        paths: list[str | None] = []
        for name, data in (("old.db", old), ("new.db", new)):
            if data is None:
                paths.append(None)
                continue
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            paths.append(path)
        return table_changes(paths[0], paths[1])
