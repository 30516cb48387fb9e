"""What a memory file must look like to be committed: JSON parses, JSON Lines parse line by line."""
from __future__ import annotations

import json


def kind_of(rel: str) -> str:
    """'json', 'jsonl' or 'text', by the file's ending."""
    lower = rel.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "text"


def problem(path: str, kind: str) -> str | None:
    """Why the file at `path` is not valid for its kind, or None when it is."""
    if kind == "json":
        return _json_problem(path)
    if kind == "jsonl":
        return _jsonl_problem(path)
    return None


def _json_problem(path: str) -> str | None:
    with open(path, "rb") as f:
        data = f.read()
    try:
        json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return None


def _jsonl_problem(path: str) -> str | None:
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
            except UnicodeDecodeError as exc:
                return f"line {number}: not UTF-8 ({exc.reason})"
            except json.JSONDecodeError as exc:
                return f"invalid JSON Lines: line {number}: {exc.msg} at column {exc.colno}"
    return None
