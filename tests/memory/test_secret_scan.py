"""The secret scanner: every pattern, JSON paths, no value in any output, crash -> unscanned."""
from __future__ import annotations

import json
import marshal
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from memvault_hooks.memory import secret_scan
from memvault_hooks.memory.secret_cache import scan_blobs
from memvault_hooks.memory.secret_scan import scan_blob
from secret_samples import AWS
from secret_samples import GITHUB
from secret_samples import KEYED
from secret_samples import PRIVATE_KEY
from secret_samples import SAMPLES
from secret_samples import kinds


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_pattern_in_text_and_json(kind: str) -> None:
    value = SAMPLES[kind]
    text = scan_blob(f"# notes\nthe key is {value} for now\n".encode(), "MEMORY.md")
    assert [(f.kind, f.where) for f in text] == [(kind, "line 2")]
    doc = scan_blob(json.dumps({"notes": ["fine", f"use {value}"]}).encode(), "memory.json")
    assert [(f.kind, f.where) for f in doc] == [(kind, "$.notes[1]")]


def test_private_key_block_and_keyed_entropy() -> None:
    text = f"a\nssh key:\n{PRIVATE_KEY}\ndb_password = {KEYED}\npassword: see the wiki\n"
    found = scan_blob(text.encode(), "MEMORY.md")
    assert {(f.kind, f.where) for f in found} == {("private-key", "line 3"), ("secret-under-key", "line 7")}
    doc = {"creds": {"apiKey": KEYED, "author": KEYED, "token": "short", "name": "ssh", "key": PRIVATE_KEY}}
    found = scan_blob(json.dumps(doc).encode(), "memory.json")
    assert {(f.kind, f.where) for f in found} == {("secret-under-key", "$.creds.apiKey"),
                                                  ("private-key", "$.creds.key")}


def test_detect_secrets_plugins_are_used() -> None:
    jwt = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
           "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
    found = scan_blob(f"token {jwt}\nhttps://bob:{KEYED}@example.com/x\n".encode(), "notes.txt")
    assert kinds(found) == {"json-web-token", "basic-auth-credentials"}


def test_clean_memory_has_no_findings() -> None:
    doc = {"entities": [{"name": "build", "observations": [
        "commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39 fixed the tests",
        "uuid 123e4567-e89b-12d3-a456-426614174000", "the password is in the team vault"]}]}
    assert scan_blob(json.dumps(doc).encode(), "memory.json") == []
    assert scan_blob(b"# Memory\n- use pytest -x\n- token budget: 2000\n", "MEMORY.md") == []


def test_json_paths_name_the_value() -> None:
    doc = {"entities": [{"name": f"e{i}", "observations": ["x", "y"]} for i in range(4)],
           "weird key": {"a.b": [None, 1, True, {"deep": [f"x {AWS}"]}]}}
    doc["entities"][3]["observations"].insert(0, f"key {GITHUB}")
    found = scan_blob(json.dumps(doc, indent=2).encode(), "memory.json")
    assert sorted(f.where for f in found) == ['$.entities[3].observations[0]',
                                              '$["weird key"]["a.b"][3].deep[0]']


def test_jsonl_lines_and_broken_json_fall_back_to_text() -> None:
    lines = [json.dumps({"role": "user", "content": "hi"}), json.dumps({"content": [f"key {AWS}"]}),
             "{not json " + GITHUB]
    found = scan_blob("\n".join(lines).encode(), "history.jsonl")
    assert sorted(f.where for f in found) == ["line 2: $.content[0]", "line 3"]
    found = scan_blob(b'{"a": "' + AWS.encode() + b'", ', "memory.json")  # truncated JSON
    assert [(f.kind, f.where) for f in found] == [("aws-access-key", "line 1")]


def test_a_secret_key_is_never_shown_in_a_path() -> None:
    doc = {SAMPLES["anthropic-key"]: {"note": f"and {AWS}"}}
    found = scan_blob(json.dumps(doc).encode(), "memory.json")
    assert sorted(f.where for f in found) == ["$[<secret key>]", "$[<secret key>].note"]


def test_deep_json_is_scanned_without_recursion() -> None:
    depth = 400
    data = b"[" * depth + json.dumps(f"k {AWS}").encode() + b"]" * depth
    (found,) = scan_blob(data, "memory.json")
    assert found.kind == "aws-access-key"
    assert found.where.startswith("$[0][0]") and "..." in found.where and len(found.where) < 200


_LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))
from memvault_hooks.memory.secret_scan import scan_blob
data = open(sys.argv[1], "rb").read()
print([(f.kind, f.where) for f in scan_blob(data, sys.argv[2])])
"""


@pytest.mark.parametrize("name", ["memory.json", "memory.jsonl"])
def test_json_nested_past_the_limit_is_scanned_as_text_in_bounded_memory(tmp_path: Path, name: str) -> None:
    """Parsed as JSON, 1.5 million levels took more than 128 MB (MemoryError)."""
    depth = 1_500_000
    path = tmp_path / name
    path.write_bytes(b"[" * depth + json.dumps(f"k {AWS}").encode() + b"]" * depth)
    proc = subprocess.run([sys.executable, "-c", _LIMITED, str(path), name], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[('aws-access-key', 'line 1')]"


def test_a_file_too_large_to_scan_is_held_never_clean(tmp_path: Path) -> None:
    data = json.dumps({"notes": "x" * (secret_scan.SCAN_MAX + 10), "k": f"k {AWS}"}).encode()
    (found,) = scan_blob(data, "memory.json")
    assert (found.kind, found.where) == ("unscanned", "whole file")
    reads: list[str] = []

    def read(blob: str) -> bytes:
        reads.append(blob)
        return data

    sizes = {"big": len(data), "small": 5}
    by_size = scan_blobs([("big", "memory.json")], read, str(tmp_path / "cache"), size=sizes.__getitem__)
    assert kinds(by_size) == {"unscanned"} and reads == []   # never read
    assert kinds(scan_blobs([("big", "memory.json")], read, str(tmp_path / "cache"))) == {"unscanned"}


def test_ids_are_stable_and_depend_on_kind_value_and_path() -> None:
    one = scan_blob(json.dumps({"a": ["x", f"k {AWS}"]}).encode(), "memory.json")
    moved = scan_blob(json.dumps({"b": {"c": f"now {AWS} here"}}).encode(), "memory.json")
    other_file = scan_blob(json.dumps({"a": ["x", f"k {AWS}"]}).encode(), "other.json")
    other_value = scan_blob(json.dumps({"a": ["x", f"k {AWS[:-1]}Q"]}).encode(), "memory.json")
    assert one[0].id == moved[0].id  # the same secret in the same file: allowed once
    assert one[0].id != other_file[0].id and one[0].id != other_value[0].id


def test_no_value_in_any_output(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    values = [*SAMPLES.values(), KEYED, PRIVATE_KEY.splitlines()[1]]
    doc = {"notes": [f"v {v}" for v in values[:-2]], "password": KEYED, "k": PRIVATE_KEY}
    data = json.dumps(doc).encode()
    found = scan_blob(data, "memory.json")
    assert len(found) == len(values)
    cache = tmp_path / "cache"
    found = scan_blobs([("b1", "memory.json")], lambda _: data, str(cache))
    shown = " ".join([repr(found), str(found), *map(str, found), json.dumps([f.to_json() for f in found]),
                      caplog.text, cache.read_bytes().decode("latin-1")])
    for value in values:
        assert value not in shown


def test_a_scanner_crash_is_unscanned_never_clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def boom(*args: object) -> None:
        raise ValueError(f"crashed on {AWS}")  # an error that quotes the value

    monkeypatch.setattr(secret_scan, "_hits_in_json", boom)
    (found,) = scan_blob(json.dumps({"a": AWS}).encode(), "memory.json")
    assert (found.kind, found.where, found.path) == ("unscanned", "whole file", "memory.json")
    assert AWS not in repr(found)
    cache = tmp_path / "cache"
    data = json.dumps({"a": AWS}).encode()
    assert kinds(scan_blobs([("b1", "memory.json")], lambda _: data, str(cache))) == {"unscanned"}
    assert not cache.exists() or "b1" not in marshal.loads(cache.read_bytes())["blobs"]  # retried next time
    with pytest.raises(secret_scan.ScanError) as exc:
        secret_scan.scan_raw(data, "memory.json")
    assert AWS not in str(exc.value)


def test_escaped_json_still_opens_the_gates() -> None:
    raw = ('{"a": "\\u0041KIA' + AWS[4:] + '", "b": "https:\\/\\/bob:' + KEYED + '@example.com"}').encode()
    found = scan_blob(raw, "memory.json")
    assert {(f.kind, f.where) for f in found} == {("aws-access-key", "$.a"), ("basic-auth-credentials", "$.b")}
