"""The secret scanner: every pattern, JSON paths, no value in any output, crash -> unscanned,
the cache by blob id, redaction that keeps JSON valid."""
from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from memvault_hooks import secret_scan
from memvault_hooks.secret_scan import Finding
from memvault_hooks.secret_scan import redact
from memvault_hooks.secret_scan import scan_blob
from memvault_hooks.secret_scan import scan_blobs

# Built from parts so this file itself holds no scannable secret in one piece.
AWS = "AKIA" + "Q3EGTR7WZ5XJ2KLM"
GITHUB = "ghp_" + "x7Gk2LmP9qRs4TvW8yZa1BcD3eFh5JnQ6uVo"
SAMPLES = {
    "anthropic-key": "sk-ant-" + "api03-Xq8Lm2Zp9Rt4Vw7Yb1Nc5Df3Gh6Jk0Ms",
    "openai-key": "sk-proj-" + "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv",
    "github-token": GITHUB,
    "gitlab-token": "glpat-" + "Xy7Zw3Vu9Ts1Rq5Po2Nm",
    "slack-token": "xoxb-" + "123456789012-abcdefABCDEF1234",
    "aws-access-key": AWS,
    "age-secret-key": "AGE-SECRET-KEY-1" + "QYZ8XJ3RNU8Z4HW3A7PC4T0J5D6XQ2HJ0PJ6ZJ6RUZ8W9N6S5LQQDH7Q2K",
}
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "AAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACB\n-----END OPENSSH PRIVATE KEY-----")
KEYED = "Zr8Kq2Lm9Xv4Tn7P"  # high entropy, under a key named like a secret


def kinds(findings: list[Finding]) -> set[str]:
    return {f.kind for f in findings}


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
    depth = 200_000
    data = b"[" * depth + json.dumps(f"k {AWS}").encode() + b"]" * depth
    (found,) = scan_blob(data, "memory.json")
    assert found.kind == "aws-access-key"
    assert found.where.startswith("$[0][0]") and "..." in found.where and len(found.where) < 200


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
    cache = tmp_path / "cache.json"
    found = scan_blobs([("b1", "memory.json")], lambda _: data, str(cache))
    shown = " ".join([repr(found), str(found), *map(str, found), json.dumps([f.to_json() for f in found]),
                      caplog.text, cache.read_text()])
    for value in values:
        assert value not in shown


def test_a_scanner_crash_is_unscanned_never_clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def boom(*args: object) -> None:
        raise ValueError(f"crashed on {AWS}")  # an error that quotes the value

    monkeypatch.setattr(secret_scan, "_hits_in_json", boom)
    (found,) = scan_blob(json.dumps({"a": AWS}).encode(), "memory.json")
    assert (found.kind, found.where, found.path) == ("unscanned", "whole file", "memory.json")
    assert AWS not in repr(found)
    cache = tmp_path / "cache.json"
    data = json.dumps({"a": AWS}).encode()
    assert kinds(scan_blobs([("b1", "memory.json")], lambda _: data, str(cache))) == {"unscanned"}
    assert not cache.exists() or "b1" not in json.loads(cache.read_text())["blobs"]  # retried next time
    with pytest.raises(secret_scan.ScanError) as exc:
        secret_scan.scan_raw(data, "memory.json")
    assert AWS not in str(exc.value)


def test_cache_by_blob_id(tmp_path: Path) -> None:
    cache = tmp_path / "git" / "cache.json"
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
    doc = json.loads(cache.read_text())
    doc["version"] = "an older scanner"
    cache.write_text(json.dumps(doc))
    scan_blobs([("b1", "MEMORY.md")], read, str(cache))
    assert reads == ["b1", "b2", "b1"]  # another scanner version: scanned again


def test_redaction_keeps_json_valid_and_other_bytes() -> None:
    doc = {"entities": [{"observations": [f"aws {AWS} and gh {GITHUB}", "keep me \u00e9"]}],
           "api_token": KEYED, "pem": PRIVATE_KEY, "q": 'quote " and \\ backslash'}
    data = json.dumps(doc, indent=2, ensure_ascii=False).encode()
    found = scan_blob(data, "memory.json")
    assert len(found) == 4
    out = redact(data, "memory.json", found)
    back = json.loads(out)
    assert back["entities"][0]["observations"] == [
        "aws [REDACTED aws-access-key] and gh [REDACTED github-token]", "keep me \u00e9"]
    assert back["api_token"] == "[REDACTED secret-under-key]"
    assert back["pem"] == "[REDACTED private-key]" and back["q"] == doc["q"]
    assert scan_blob(out, "memory.json") == []
    assert out.count(b"\n") == data.count(b"\n") - 0  # formatting kept: only the values changed


def test_redaction_of_escaped_json_jsonl_and_text_and_only_chosen_ids() -> None:
    data = json.dumps({"a": f"{AWS}/x", "b": f"gh {GITHUB}"}).replace("/", "\\/").encode()
    found = scan_blob(data, "memory.json")
    aws = [f for f in found if f.kind == "aws-access-key"]
    out = redact(data, "memory.json", aws)  # only the AWS key is purged
    assert json.loads(out) == {"a": "[REDACTED aws-access-key]/x", "b": f"gh {GITHUB}"}
    lines = f'{{"m": "{AWS}"}}\n{{"m": "ok"}}\n'.encode()
    out = redact(lines, "h.jsonl", scan_blob(lines, "h.jsonl"))
    assert [json.loads(line) for line in out.splitlines()] == [{"m": "[REDACTED aws-access-key]"}, {"m": "ok"}]
    text = f"x\n{PRIVATE_KEY}\ny {GITHUB}\n".encode()
    out = redact(text, "MEMORY.md", scan_blob(text, "MEMORY.md"))
    assert out == b"x\n[REDACTED private-key]\ny [REDACTED github-token]\n"
    assert redact(text, "MEMORY.md", scan_blob(text, "OTHER.md")) == text  # findings of another path


def test_the_scanner_is_imported_lazily() -> None:
    code = ("import sys, memvault_hooks.secret_scan as s; "
            "assert 'detect_secrets' not in sys.modules and 'ijson' not in sys.modules; "
            "s.scan_blob(b'x', 'a.md'); assert 'detect_secrets' in sys.modules")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_escaped_json_still_opens_the_gates() -> None:
    raw = ('{"a": "\\u0041KIA' + AWS[4:] + '", "b": "https:\\/\\/bob:' + KEYED + '@example.com"}').encode()
    found = scan_blob(raw, "memory.json")
    assert {(f.kind, f.where) for f in found} == {("aws-access-key", "$.a"), ("basic-auth-credentials", "$.b")}
    out = redact(raw, "memory.json", found)
    assert scan_blob(out, "memory.json") == [] and json.loads(out)["a"] == "[REDACTED aws-access-key]"


def test_a_clean_file_is_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def parsed(*args: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(secret_scan, "_hits_in_json", parsed)
    doc = {"entries": [{"id": i, "text": "a token of thanks, the key point", "score": 0.25} for i in range(500)]}
    assert scan_blob(json.dumps(doc).encode(), "memory.json") == []


def test_the_cache_keeps_the_patterns_so_a_sync_never_imports_the_scanner(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    (tmp_path / "m.json").write_text(json.dumps({"k": f"x {AWS}"}))
    code = ("import sys; from memvault_hooks.secret_scan import scan_blobs; "
            "d = open(sys.argv[1], 'rb').read(); "
            "f = scan_blobs([(sys.argv[3], 'memory.json')], lambda b: d, sys.argv[2]); "
            "print(len(f), 'detect_secrets' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def run(blob: str) -> str:
        return subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.json"), str(cache), blob],
                              check=True, capture_output=True, text=True, env=env).stdout.strip()

    assert run("b1") == "1 True"  # the first scan reads the plugins' patterns
    assert run("b2") == "1 False"  # later ones take them from the cache
    assert json.loads(cache.read_text())["patterns"]
