"""alerts: measures by kind (real files), the vanished/emptied/shrunk decision, the trailer,
and the record's life: raised once, kept across runs, ended by ack, restore or recovery."""
from __future__ import annotations

import json
import os
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from memvault_hooks.memory import alerts

GOOD = "0123456789abcdef0123456789abcdef01234567"
LATER = "fedcba9876543210fedcba9876543210fedcba98"


def measured(tmp_path: Path, data: bytes, kind: str) -> int | None:
    path = tmp_path / "f"
    path.write_bytes(data)
    by_file = alerts.measure_file(str(path), kind)
    assert alerts.measure_bytes(data, kind) == by_file
    return by_file


@pytest.mark.parametrize("data, count", [
    (b'{"a": 1, "b": [true, null, "x"], "c": {}, "d": 2.5}', 5),
    (b"{}", 0), (b"[]", 0), (b"", 0), (b"  \n", 0), (b'"just one"', 1),
    (b'\xef\xbb\xbf{"bom": [1, 2]}', 2),
    (b'{"a": 1', None), (b'{"a": 1} {"b": 2}', None), (b"[1, 2,]", None),
])
def test_json_counts_leaf_values(tmp_path: Path, data: bytes, count: int | None) -> None:
    assert measured(tmp_path, data, "json") == count


def test_json_of_any_depth_and_size_is_measured_in_bounded_memory(tmp_path: Path) -> None:
    deep = b"[" * 200_000 + b"1" + b"]" * 200_000          # far past Python's recursion limit
    assert measured(tmp_path, deep, "json") == 1
    big = tmp_path / "big.json"
    with open(big, "w") as f:
        f.write("[")
        f.write(",".join(json.dumps({"name": f"e{i}", "obs": ["x" * 20, i]}) for i in range(150_000)))
        f.write("]")
    assert os.path.getsize(big) > 8 << 20
    tracemalloc.start()
    try:
        assert alerts.measure_file(str(big), "json") == 450_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20, f"measuring an {os.path.getsize(big) >> 20} MB file took {peak >> 10} KB"


@pytest.mark.parametrize("data, count", [
    (b'{"type":"entity"}\n{"type":"relation"}\n', 2), (b"a\n\n   \nb", 2), (b"", 0),
    (b"\n\n", 0), (b"x" * 300_000, 1), (b"x" * 300_000 + b"\n" + b" " * 100_000 + b"\ny\n", 2),
])
def test_jsonl_counts_non_blank_lines(tmp_path: Path, data: bytes, count: int) -> None:
    assert measured(tmp_path, data, "jsonl") == count


def test_text_counts_bytes_and_sqlite_counts_rows(tmp_path: Path) -> None:
    assert measured(tmp_path, b"# Memory\nline\n", "text") == 14
    db = tmp_path / "m.db"
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1),(2),(3);"
                       "INSERT INTO b VALUES (1);")
    conn.commit()
    conn.close()
    assert alerts.measure_file(str(db), "sqlite") == 4
    assert alerts.measure_bytes(db.read_bytes(), "sqlite") == 4
    assert alerts.measure_bytes(b"", "sqlite") == 0
    assert alerts.measure_bytes(b"garbage, not a database", "sqlite") is None
    assert alerts.measure_file(str(tmp_path / "missing"), "text") is None
    assert [alerts.kind_for(n, str(db)) for n in ("m.db", "store")] == ["sqlite", "sqlite"]
    assert [alerts.kind_for(n) for n in ("a.json", "b.jsonl", "MEMORY.md", "x.sqlite3")] == \
        ["json", "jsonl", "text", "sqlite"]


@pytest.mark.parametrize("before, after, shrink, kind", [
    (10, 4, 0.5, "shrunk"), (10, 5, 0.5, None), (10, 11, 0.5, None), (100, 10, 0.5, "shrunk"),
    (10, 0, 0.5, "emptied"), (10, None, 0.5, "vanished"), (0, None, 0.5, None), (0, 0, 0.5, None),
    (None, 0, 0.5, None), (10, 1, 1.0, None), (10, 0, 1.0, "emptied"), (10, 9, 0.0, "shrunk"),
    (10, 10, 0.0, None),
])
def test_decide(before: int | None, after: int | None, shrink: float, kind: str | None) -> None:
    assert alerts.decide(before, after, shrink) == kind


def test_trailer_and_its_reading() -> None:
    alert = alerts.Alert("memory.json", "shrunk", 120, 12, "2026-12-06T10:00:00Z", GOOD, "values")
    assert alert.trailer() == "Memvault-Alert: memory.json: shrunk 120 -> 12"
    assert alerts.parse_trailer("memory.json: shrunk 120 -> 12") == ("memory.json", "shrunk", 120, 12)
    odd = alerts.Alert("a: b\nc.md", "vanished", 7, 0, "t", GOOD)
    value = odd.trailer().split(": ", 1)[1]
    assert "\n" not in value
    assert alerts.parse_trailer(value) == ("a: b\nc.md", "vanished", 7, 0)
    assert alerts.parse_trailer("@notes/x: y.md: emptied 3 -> 0") == ("@notes/x: y.md", "emptied", 3, 0)
    assert alerts.parse_trailer("memory.json: grew 1 -> 2") is None


def test_a_shrink_is_raised_once_kept_and_named_with_its_restore_command(tmp_path: Path) -> None:
    record = alerts.Record()
    assert record.update("memory.json", 100, 95, 0.5, GOOD, "t1", "json") is None
    alert = record.update("memory.json", 100, 10, 0.5, GOOD, "t2", "json")
    assert alert is not None and (alert.kind, alert.before, alert.after, alert.rev) == ("shrunk", 100, 10, GOOD)
    record.committed("memory.json", LATER)
    assert "Memvault-Alert: memory.json: shrunk 100 -> 10" == alert.trailer()
    assert "memvault restore memory.json --rev 0123456789ab" in alert.status_line()
    assert "memvault restore memory.json --rev 0123456789ab" in alert.message()
    assert "shrunk from 100 to 10 values" in alert.message()
    record.save(str(tmp_path))
    assert os.stat(tmp_path / alerts.ALERTS_NAME).st_mode & 0o777 == 0o600

    # Next run: the vault's latest is the shrunken version; same content: no new alert, still active.
    record = alerts.Record.load(str(tmp_path))
    assert record.update("memory.json", 10, 10, 0.5, LATER, "t3", "json") is None
    [kept] = record.active()
    assert kept.to_json() | {} == {"path": "memory.json", "kind": "shrunk", "before": 100, "after": 10,
                                   "time": "t2", "rev": GOOD, "unit": "values", "alert_rev": LATER,
                                   "vault_latest": 10}
    # Emptied later: raised again, still pointing at the last good rev.
    again = record.update("memory.json", 10, 0, 0.5, LATER, "t4", "json")
    assert again is not None and (again.kind, again.before, again.rev) == ("emptied", 100, GOOD)
    # The content comes back (against the last good version): the alert ends by itself.
    assert record.update("memory.json", 0, 90, 0.5, LATER, "t5", "json") is None
    assert record.active() == []


def test_ack_ends_alerts_and_a_lasting_loss_is_not_raised_again(tmp_path: Path) -> None:
    record = alerts.Record()
    assert record.update("MEMORY.md", 500, None, 0.5, GOOD, "t1") is not None
    assert record.update("@notes/a.md", 80, 8, 0.5, GOOD, "t1") is not None
    record.save(str(tmp_path))

    record = alerts.Record.load(str(tmp_path))
    assert [a.path for a in record.ack(["@notes/a.md", "unknown.md"])] == ["@notes/a.md"]
    assert [a.path for a in record.active()] == ["MEMORY.md"]
    assert [a.path for a in record.ack()] == ["MEMORY.md"]
    record.save(str(tmp_path))

    record = alerts.Record.load(str(tmp_path))
    assert record.update("MEMORY.md", 500, None, 0.5, GOOD, "t2") is None      # still gone: acknowledged
    assert record.active() == []
    assert record.update("MEMORY.md", 500, 500, 0.5, GOOD, "t3") is None       # back
    assert record.update("MEMORY.md", 500, None, 0.5, GOOD, "t4") is not None  # gone again: raised again


def test_restore_ends_the_alert_and_a_bad_record_reads_as_empty(tmp_path: Path) -> None:
    record = alerts.Record()
    record.update("memory.jsonl", 40, 0, 0.5, GOOD, "t1", "jsonl")
    record.update("b.json", 40, 0, 0.5, GOOD, "t1", "json")
    record.restored(["memory.jsonl"])
    assert [a.path for a in record.active()] == ["b.json"]
    (tmp_path / alerts.ALERTS_NAME).write_text("{not json")
    assert alerts.Record.load(str(tmp_path)).active() == []
    (tmp_path / alerts.ALERTS_NAME).write_text('{"active": [{"path": 1}], "acked": {}}')
    assert alerts.Record.load(str(tmp_path)).active() == []


def test_one_huge_string_or_number_is_measured_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.write(b'{"a": "')
        for _ in range(24):
            f.write(b"x" * (1 << 20))
        f.write(b'", "n": ' + b"7" * (8 << 20) + b', "b": [1, 2]}')
    tracemalloc.start()
    try:
        assert alerts.measure_file(str(path), "json") == 4
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"measuring a file holding a 24 MB string took {peak >> 10} KB"


def test_a_small_document_is_counted_as_the_stream_counts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below one chunk json's parser counts the leaves (no ijson to import); the streaming
    count says the same on random documents, and both refuse what is not JSON."""
    import io
    import random

    rng = random.Random(1)

    def document(depth: int = 0) -> object:
        roll = rng.random()
        if depth < 4 and roll < 0.3:
            return [document(depth + 1) for _ in range(rng.randint(0, 4))]
        if depth < 4 and roll < 0.6:
            return {f"k{i}": document(depth + 1) for i in range(rng.randint(0, 4))}
        return rng.choice([1, "s", None, True, 2.5, -3])

    docs = [json.dumps(document()).encode() for _ in range(500)] + [b'{"a": }', b"[1, 2", b"\xff"]
    small = [alerts._count_leaves(io.BytesIO(doc)) for doc in docs]
    monkeypatch.setattr(alerts, "WHOLE", 1)   # every document takes the streaming path,
    monkeypatch.setattr(alerts, "CHUNK", 1)   # one byte at a time
    assert [alerts._count_leaves(io.BytesIO(doc)) for doc in docs] == small
    assert small[-3:] == [None, None, None]
