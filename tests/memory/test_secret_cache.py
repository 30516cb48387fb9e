"""The scan cache: results by blob id (an unchanged vault costs nothing), plugin patterns kept."""
from __future__ import annotations

import json
import marshal
import os
import stat
import subprocess
import sys
from pathlib import Path

from memvault_hooks.memory.secret_cache import scan_blobs
from secret_samples import AWS
from secret_samples import kinds


def test_cache_by_blob_id(tmp_path: Path) -> None:
    cache = tmp_path / "git" / "cache"
    cache.parent.mkdir()
    reads: list[str] = []

    def read(blob: str) -> bytes:
        reads.append(blob)
        return {"b1": f"k {AWS}\n", "b2": "clean\n"}[blob].encode()

    first = scan_blobs([("b1", "MEMORY.md"), ("b2", "notes.md")], read, str(cache))
    assert reads == ["b1", "b2"] and kinds(first) == {"aws-access-key"}
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    again = scan_blobs([("b1", "MEMORY.md"), ("b2", "notes.md"), ("b1", "copy.md")], read, str(cache))
    assert reads == ["b1", "b2"]  # nothing read again: an unchanged vault costs nothing
    assert [f.path for f in again] == ["MEMORY.md", "copy.md"]
    assert again[0] == first[0] and again[1].id != first[0].id  # ids follow the path
    doc = marshal.loads(cache.read_bytes())
    doc["version"] = "an older scanner"
    cache.write_bytes(marshal.dumps(doc))
    scan_blobs([("b1", "MEMORY.md")], read, str(cache))
    assert reads == ["b1", "b2", "b1"]  # another scanner version: scanned again


def test_the_cache_keeps_the_patterns_so_a_sync_never_imports_the_scanner(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "m.json").write_text(json.dumps({"k": f"x {AWS}"}))
    code = ("import sys; from memvault_hooks.memory.secret_cache import scan_blobs; "
            "d = open(sys.argv[1], 'rb').read(); "
            "f = scan_blobs([(sys.argv[3], 'memory.json')], lambda b: d, sys.argv[2]); "
            "print(len(f), 'detect_secrets' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def run(blob: str) -> str:
        return subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.json"), str(cache), blob],
                              check=True, capture_output=True, text=True, env=env).stdout.strip()

    assert run("b1") == "1 True"  # the first scan reads the plugins' patterns
    assert run("b2") == "1 False"  # later ones take them from the cache
    assert marshal.loads(cache.read_bytes())["patterns"]


def test_a_damaged_cache_or_entry_is_scanned_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    reads: list[str] = []

    def read(blob: str) -> bytes:
        reads.append(blob)
        return f"k {AWS}\n".encode()

    scan_blobs([("b1", "MEMORY.md"), ("b2", "notes.md")], read, str(cache))
    doc = marshal.loads(cache.read_bytes())
    doc["blobs"]["b1"] = [("aws-access-key", 7, "x")]   # a finding of the wrong shape
    cache.write_bytes(marshal.dumps(doc))
    again = scan_blobs([("b1", "MEMORY.md"), ("b2", "notes.md")], read, str(cache))
    assert reads == ["b1", "b2", "b1"] and kinds(again) == {"aws-access-key"}
    cache.write_bytes(b'{"version": "json, as before"}')   # the format of older releases
    assert kinds(scan_blobs([("b2", "notes.md")], read, str(cache))) == {"aws-access-key"}
    assert reads == ["b1", "b2", "b1", "b2"]
