"""Redaction: held values become [REDACTED <kind>], JSON stays valid, other bytes stay."""
from __future__ import annotations

import json

from memvault_hooks.memory.secret_redact import redact
from memvault_hooks.memory.secret_scan import scan_blob
from secret_samples import AWS
from secret_samples import GITHUB
from secret_samples import KEYED
from secret_samples import PRIVATE_KEY


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


def test_redaction_of_unicode_escaped_values() -> None:
    raw = ('{"a": "\\u0041KIA' + AWS[4:] + '", "b": "https:\\/\\/bob:' + KEYED + '@example.com", "c": "\\/ kept"}').encode()
    out = redact(raw, "memory.json", scan_blob(raw, "memory.json"))
    assert scan_blob(out, "memory.json") == []
    assert json.loads(out) == {"a": "[REDACTED aws-access-key]",
                               "b": "https[REDACTED basic-auth-credentials]example.com", "c": "/ kept"}
    assert out.endswith(b'"c": "\\/ kept"}')  # a literal without a secret keeps its bytes
