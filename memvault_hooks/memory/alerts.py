"""Memory-loss alerts (SPEC "Memory-loss alerts"): measuring, deciding, and remembering them.

A memory file's content is measured by its kind: JSON by its number of leaf values (read
as a stream of parser events: memory stays bounded, nesting of any depth is fine, no
recursion), JSON Lines by its non-blank lines (entities and relations of an MCP memory
graph), a SQLite database by its rows, other text by its bytes. Against the vault's latest
version a sync decides: `vanished` (the file is gone), `emptied` (0 bytes, `{}`, `[]`, no
lines, no rows), or `shrunk` (it lost more than `alert_shrink` of its measure).

The record (`<vault>/.memvault-alerts.json`, machine-local like `.last_sync`, never
committed, owner-only) keeps the unacknowledged alerts with the last good version's rev,
until `memvault ack`, a restore of the file, or a later version that is no longer shrunken
against that last good version. An acknowledged condition that persists (a file that stays
gone, so the vault's latest stays the same) is not raised again until it changes. It also
keeps the measure of each version a sync committed, by the vault file's stat, so the next
sync measures only the new copy.

Where it is wired (vault/losswatch.py owns the sync's side; commands/ack.py, status.py,
log.py and history/restorer.py the rest):
- sync, for each memory file the vault holds, under the lock, before committing:
  `kind = kind_for(rel, live path)`, `before = measure_bytes(vault_blob, kind)` (or
  measure_file on a copy of the vault version), `after = measure_file(capture.tmp_path, kind)`
  or None when the file is gone, then `alert = record.update(rel, before, after, cfg.alert_shrink, good_rev=HEAD,
  now=...)`; a returned alert is new: print `alert.message()` on stderr, log it, and add
  `alert.trailer()` to the commit message (backup/message.py); set `alert_rev` to the new
  commit with `record.committed(rel, rev)`; then `record.save(vault)`.
- status: `record.active()` makes `status` exit 1; each `alert.status_line()` is printed,
  `alert.to_json()` goes to `status --json` `alerts`.
- `memvault ack [FILE...]`: `record.ack(files or None)`; FILE names that match no alert are
  a usage error naming the active ones. restore: `record.restored(rels)` for what it wrote.
- log: `parse_trailer` on `Memvault-Alert` trailers marks alert commits.
- config: `alert_shrink` is a number with 0 <= value <= 1 (1: only emptied/vanished alert).
- vault.LOCAL_FILES gains ALERTS_NAME and f"{ALERTS_NAME}.*.tmp" (never committed).
A vanished file makes no commit (the vault keeps its last version): its alert lives in the
record, on stderr and in `status`, with no trailer.
"""
from __future__ import annotations

import io
import json
import os
import re
import shlex
from collections.abc import Iterable
from typing import Any
from typing import BinaryIO

from memvault_hooks.atomic import write_atomic

ALERTS_NAME = ".memvault-alerts.json"
TRAILER = "Memvault-Alert"
KINDS = ("vanished", "emptied", "shrunk")
UNITS = {"json": "values", "jsonl": "lines", "sqlite": "rows", "text": "bytes"}
CHUNK = 1 << 16
WHOLE = 1 << 20  # a JSON document up to this size is parsed whole, by json's C parser
BOM = b"\xef\xbb\xbf"
_LEAF_EVENTS = frozenset(("string", "number", "boolean", "null"))


# ---- measuring ---------------------------------------------------------------------------

def kind_for(rel: str, path: str | None = None) -> str:
    """The measure's kind of a memory file: 'sqlite' for a database (by its ending or its
    header, as sqlite_store decides), else formats.kind_of ('json', 'jsonl', 'text')."""
    from memvault_hooks.memory import formats
    from memvault_hooks.memory import sqlite_store

    return "sqlite" if sqlite_store.is_database(rel, path) else formats.kind_of(rel)


def measure_file(path: str, kind: str) -> int | None:
    """The measure of the file at `path` for its kind ('json', 'jsonl', 'text', 'sqlite');
    None when it cannot be measured (invalid for its kind, unreadable)."""
    try:
        if kind == "sqlite":
            if os.path.getsize(path) == 0:
                return 0
            from memvault_hooks.memory import sqlite_rows

            return sqlite_rows.row_total(path)
        if kind == "text":
            return os.path.getsize(path)
        with open(path, "rb") as f:
            return measure_stream(f, kind)
    except Exception:  # an unreadable or malformed file is no measure, never a failed sync
        return None


def measure_bytes(data: bytes, kind: str) -> int | None:
    if kind == "sqlite":
        if not data:
            return 0
        import tempfile

        with tempfile.TemporaryDirectory(prefix="memvault-measure-") as tmp:
            path = os.path.join(tmp, "db")
            with open(path, "wb") as f:
                f.write(data)
            return measure_file(path, kind)
    if kind == "text":
        return len(data)
    try:
        return measure_stream(io.BytesIO(data), kind)
    except Exception:
        return None


def measure_stream(f: BinaryIO, kind: str) -> int | None:
    if kind == "jsonl":
        return _count_lines(f)
    if kind == "json":
        return _count_leaves(f)
    return sum(len(chunk) for chunk in iter(lambda: f.read(CHUNK), b""))


def _count_lines(f: BinaryIO) -> int:
    """Lines holding more than white space, read in chunks (a line of any length is fine)."""
    count = 0
    filled = False
    while chunk := f.read(CHUNK):
        pieces = chunk.split(b"\n")
        for i, piece in enumerate(pieces):
            if piece.strip():
                filled = True
            if i < len(pieces) - 1:
                count += filled
                filled = False
    return count + filled


def _count_leaves(f: BinaryIO) -> int | None:
    """Leaf values (strings, numbers, booleans, nulls) of a JSON document; 0 for an empty
    file; None for one that is not valid JSON. `f` is seekable (a file, a BytesIO)."""
    head = f.read(WHOLE)
    if not head.strip() or head.strip() == BOM:
        if not f.read(1):
            return 0
    start = len(BOM) if head.startswith(BOM) else 0
    if len(head) < WHOLE:  # the whole document, and small: json's C parser (no ijson to import)
        from memvault_hooks.memory import formats

        head = head[start:]
        if not formats.too_deep(head):
            try:
                return _leaves(json.loads(head.decode("utf-8"), parse_int=len))
            except (ValueError, RecursionError):
                return None
    del head
    f.seek(start)
    from memvault_hooks.memory.bounded_json import BoundedJson
    from memvault_hooks.memory.formats import _ijson

    # basic_parse's memory grows with depth only linearly (no prefixes are built), and
    # BoundedJson keeps every token the parser holds short: one huge string is no huge memory.
    stream = BoundedJson(f, CHUNK)
    ijson = _ijson()
    count = 0
    try:
        for event, _value in ijson.basic_parse(stream, buf_size=CHUNK, use_float=True):
            if event in _LEAF_EVENTS:
                count += 1
    except Exception:
        return None
    return count


def _leaves(doc: Any) -> int:
    """The leaf values of a parsed document, counted without recursion."""
    count = 0
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        else:
            count += 1
    return count


def unit(kind: str) -> str:
    return UNITS.get(kind, "bytes")


# ---- deciding ----------------------------------------------------------------------------

def decide(before: int | None, after: int | None, alert_shrink: float) -> str | None:
    """'vanished', 'emptied', 'shrunk' or None, for a file whose vault version measures
    `before` and whose live content measures `after` (None: the file is gone)."""
    if before is None or before <= 0:
        return None                     # nothing to lose (or the vault's version is unreadable)
    if after is None:
        return "vanished"
    if after == 0:
        return "emptied"
    if before - after > alert_shrink * before:
        return "shrunk"
    return None


def _still_lost(before: int, after: int | None, alert_shrink: float) -> bool:
    return decide(before, after, alert_shrink) is not None


# ---- one alert -----------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quote_path(path: str) -> str:
    """A path as it goes on one line: JSON-quoted when it holds control characters or
    starts with a quote, else as it is."""
    if _CONTROL.search(path) or path.startswith('"'):
        return json.dumps(path)
    return path


def _unquote_path(text: str) -> str:
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(value, str):
            return value
    return text


class Alert:
    """One memory-loss alert. (A plain class: `dataclasses` imports `inspect`, ~8 ms a sync.)"""

    __slots__ = ("path", "kind", "before", "after", "time", "rev", "unit", "alert_rev", "vault_latest")

    def __init__(self, path: str, kind: str, before: int, after: int, time: str, rev: str,
                 unit: str = "bytes", alert_rev: str | None = None, vault_latest: int = 0) -> None:
        self.path = path              # relative to source_dir, or '@source/rel'
        self.kind = kind              # vanished / emptied / shrunk
        self.before = before          # the last good version's measure
        self.after = after            # the live content's measure (0 when vanished)
        self.time = time              # ISO 8601 UTC, when it was raised
        self.rev = rev                # the last good version: `memvault restore FILE --rev REV`
        self.unit = unit
        self.alert_rev = alert_rev    # the commit that backed up the shrunken content
        self.vault_latest = vault_latest  # the vault's latest version's measure, at the last look

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alert) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Alert({self.to_json()!r})"

    def trailer(self) -> str:
        """`Memvault-Alert: <path>: <kind> <before> -> <after>`."""
        return f"{TRAILER}: {quote_path(self.path)}: {self.kind} {self.before} -> {self.after}"

    def _what(self) -> str:
        if self.kind == "vanished":
            return f"vanished (it held {self.before} {self.unit})"
        if self.kind == "emptied":
            return f"emptied (it held {self.before} {self.unit})"
        lost = 100 * (self.before - self.after) // max(self.before, 1)
        return f"shrunk from {self.before} to {self.after} {self.unit} (-{lost}%)"

    def restore_command(self) -> str:
        return f"memvault restore {shlex.quote(self.path)} --rev {self.rev[:12]}"

    def message(self) -> str:
        """What the sync prints on stderr (cron mails it)."""
        return (f"memvault: ALERT: {quote_path(self.path)} {self._what()}; the last good version is "
                f"rev {self.rev[:12]}: {self.restore_command()} (or `memvault ack "
                f"{shlex.quote(self.path)}` if this was intended)")

    def status_line(self) -> str:
        """What `status` prints: the file, the last good rev and the exact restore command."""
        return (f"{quote_path(self.path)}: {self._what()} at {self.time}; last good rev "
                f"{self.rev[:12]}; restore it with `{self.restore_command()}`, or "
                f"`memvault ack {shlex.quote(self.path)}`")

    def to_json(self) -> dict[str, Any]:
        """`status --json` `alerts` entry: path, kind, before, after, time, rev (+ unit, alert_rev)."""
        return {name: getattr(self, name) for name in self.__slots__}


def parse_trailer(value: str) -> tuple[str, str, int, int] | None:
    """(path, kind, before, after) of a `Memvault-Alert` trailer's value, or None."""
    match = re.fullmatch(r"(.+): (vanished|emptied|shrunk) (\d+) -> (\d+)", value.strip())
    if not match:
        return None
    return _unquote_path(match.group(1)), match.group(2), int(match.group(3)), int(match.group(4))


# ---- the record ----------------------------------------------------------------------------

class Record:
    """The unacknowledged alerts of one vault, and the acknowledged conditions."""

    def __init__(self, active: dict[str, Alert] | None = None,
                 acked: dict[str, tuple[str, int, int]] | None = None,
                 measures: dict[str, list[Any]] | None = None) -> None:
        self.alerts = active or {}
        self.acked = acked or {}
        # The measure of each file in the vault's work tree as a sync last took it, by the
        # file's stat: [size, mtime_ns, ctime_ns, inode, kind, measure] (`measure_of`).
        self.measures = measures or {}

    @classmethod
    def load(cls, vault_path: str) -> Record:
        """The record, or an empty one when it is missing or unreadable."""
        try:
            with open(os.path.join(vault_path, ALERTS_NAME), "rb") as f:
                data = json.loads(f.read(1 << 22))
            active = {a["path"]: Alert(**a) for a in data["active"]}
            acked = {p: (str(k), int(b), int(a)) for p, (k, b, a) in data["acked"].items()}
            measures = data.get("measures")
        except (OSError, ValueError, KeyError, TypeError):
            return cls()
        return cls(active, acked, measures if isinstance(measures, dict) else None)

    def save(self, vault_path: str) -> None:
        """Written atomically, readable by its owner alone."""
        path = os.path.join(vault_path, ALERTS_NAME)
        data = {"version": 1, "active": [a.to_json() for a in self.active()],
                "acked": {p: list(c) for p, c in sorted(self.acked.items())},
                "measures": self.measures}
        write_atomic(path, json.dumps(data, indent=1).encode())

    def measure_of(self, path: str, st: os.stat_result, kind: str) -> int | None:
        """The measure kept for `path` while the file has the stat `st`; None when unknown."""
        kept = self.measures.get(path)
        key = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, kind]
        if isinstance(kept, list) and len(kept) == 6 and kept[:5] == key and type(kept[5]) is int:
            return kept[5]  # type: ignore[no-any-return]
        return None

    def keep_measure(self, path: str, st: os.stat_result, kind: str, measure: int) -> None:
        self.measures[path] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, kind, measure]

    def active(self) -> list[Alert]:
        return sorted(self.alerts.values(), key=lambda a: (a.time, a.path))

    def update(self, path: str, before: int | None, after: int | None, alert_shrink: float,
               good_rev: str, now: str, kind: str = "text") -> Alert | None:
        """One sync's look at one file; returns an alert only when it is new (to print
        and to put in the commit). `before` measures the vault's latest version (held at
        `good_rev`), `after` the live content (None: gone); `kind` gives the unit."""
        found = decide(before, after, alert_shrink)
        condition = (found or "", before or 0, after or 0)
        if found is None or self.acked.get(path) != condition:
            self.acked.pop(path, None)
        current = self.alerts.get(path)
        if current is not None and not _still_lost(current.before, after, alert_shrink):
            del self.alerts[path]               # recovered against the last good version
            current = None
        if current is not None and before is not None:
            current.vault_latest = before
        if found is None or before is None or path in self.acked:
            return None
        if current is not None:
            if (current.kind, current.after) == (found, after or 0):
                return None                     # the same loss, already raised
            current.kind, current.after, current.time = found, after or 0, now
            return current                      # kept: the first last-good version and its rev
        alert = Alert(path, found, before, after or 0, now, good_rev, unit(kind), vault_latest=before)
        self.alerts[path] = alert
        return alert

    def committed(self, path: str, rev: str) -> None:
        """Note the commit that carries the alert of `path`."""
        if path in self.alerts:
            self.alerts[path].alert_rev = rev

    def ack(self, paths: Iterable[str] | None = None) -> list[Alert]:
        """Acknowledge the alerts of `paths` (all when None); returns those acknowledged."""
        chosen = list(self.alerts) if paths is None else [p for p in paths if p in self.alerts]
        done = []
        for path in chosen:
            alert = self.alerts.pop(path)
            # A loss the vault did not take in (a file that stays gone, a 0-byte JSON file
            # that is not valid) is seen again at every sync: remember it as acknowledged.
            self.acked[path] = (alert.kind, alert.vault_latest, alert.after)
            done.append(alert)
        return done

    def restored(self, paths: Iterable[str]) -> None:
        """A restore put these files back: their alerts end."""
        for path in paths:
            self.alerts.pop(path, None)
            self.acked.pop(path, None)
