"""A SQLite database's change between two versions: added, removed and changed rows per
table (memory/sqlite_rows), never its bytes. Each side is a file on disk (a vault blob
streamed out, or a checked copy of the live database), so memory stays bounded."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from memvault_hooks.memory import sqlite_rows
from memvault_hooks.memory import sqlite_store
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.term import Painter

# Writes one side of the diff into the given path; False when that side has no such file.
SideWriter = Callable[[str], bool]


def render(rel: str, write_old: SideWriter, write_new: SideWriter, labels: tuple[str, str],
           painter: Painter) -> list[str]:
    """Lines for one database, headed by its name; [] when no row changed."""
    with tempfile.TemporaryDirectory(prefix="memvault-dbdiff-") as tmp:
        paths: list[str | None] = []
        for name, write in (("old.db", write_old), ("new.db", write_new)):
            path = os.path.join(tmp, name)
            paths.append(path if write(path) else None)
        old, new = paths
        state = "added" if old is None else "deleted" if new is None else "changed"
        header = [painter.bold(quote(rel)) + painter.dim(f"  ({labels[0]} -> {labels[1]}, {state}, SQLite database)")]
        try:
            changes = sqlite_rows.table_changes(old, new)
        except Exception as exc:  # a side that is no database (damaged, or not yet one)
            return header + [painter.dim(f"  (cannot compare the rows: {exc})")]
    if not changes:
        return []
    lines = []
    for change in changes:
        style = painter.green if change.added and not (change.removed or change.changed) else \
            painter.red if change.removed and not (change.added or change.changed) else painter.yellow
        lines.append(style(f"  {change.line()}"))
    return header + lines


def is_database(rel: str, heads: tuple[bytes, ...]) -> bool:
    """By the name's ending, or SQLite's header on either side."""
    return sqlite_store.is_database(rel) or any(sqlite_store.is_sqlite(head) for head in heads)
