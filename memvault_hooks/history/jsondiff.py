"""What changed between two JSON documents, key by key, with paths such as `user.likes[1]`;
and between two JSON Lines files, entity by entity.

Lists are aligned the way a text diff aligns lines (difflib on each item's canonical
JSON), so one inserted item reads as one addition, not as every later index changing.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import re
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
MISSING: Any = object()


@dataclasses.dataclass(frozen=True)
class Change:
    kind: str            # "added" | "removed" | "changed"
    path: str            # `user.likes[1]`; "" is the whole document (or entity)
    old: Any = MISSING
    new: Any = MISSING
    where: str = ""      # for JSON Lines: which entity (`entity "Alice"`)


def key_path(path: str, key: str) -> str:
    if _IDENT.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def diff(old: Any, new: Any, path: str = "", where: str = "") -> list[Change]:
    """Changes that turn `old` into `new`, depth first, in document order."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key, value in old.items():
            sub = key_path(path, key)
            if key not in new:
                changes.append(Change("removed", sub, old=value, where=where))
            else:
                changes += diff(value, new[key], sub, where)
        for key, value in new.items():
            if key not in old:
                changes.append(Change("added", key_path(path, key), new=value, where=where))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path, where)
    if type(old) is type(new) and old == new:
        return []
    return [Change("changed", path, old=old, new=new, where=where)]


def _diff_lists(old: list[Any], new: list[Any], path: str, where: str) -> list[Change]:
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(None, [canonical(v) for v in old], [canonical(v) for v in new],
                                      autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(paired):
            changes += diff(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]", where)
        for i in range(i1 + paired, i2):
            changes.append(Change("removed", f"{path}[{i}]", old=old[i], where=where))
        for j in range(j1 + paired, j2):
            changes.append(Change("added", f"{path}[{j}]", new=new[j], where=where))
    return changes


# -- JSON Lines -----------------------------------------------------------------------------
def entity_key(record: Any, number: int) -> str:
    """A stable name for one line: MCP memory entities and relations, else `id`/`name`, else its line."""
    if isinstance(record, dict):
        kind = record.get("type")
        if kind == "entity" and isinstance(record.get("name"), str):
            return f"entity {json.dumps(record['name'], ensure_ascii=False)}"
        if kind == "relation" and all(isinstance(record.get(k), str) for k in ("from", "relationType", "to")):
            return f"relation {record['from']} -{record['relationType']}-> {record['to']}"
        for field in ("id", "name", "key", "uuid"):
            value = record.get(field)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return f"{field} {json.dumps(value, ensure_ascii=False)}"
    return f"line {number}"


def parse_lines(data: bytes) -> dict[str, Any]:
    """Each line's record under its entity key (ValueError when a line is not JSON)."""
    records: dict[str, Any] = {}
    text = data.decode("utf-8-sig")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        key = entity_key(record, number)
        if key in records:
            n = 2
            while f"{key} #{n}" in records:
                n += 1
            key = f"{key} #{n}"
        records[key] = record
    return records


def diff_lines(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Entities with a name are compared key by key; lines without one are matched by
    content (an inserted line is one addition, whatever its position)."""
    changes: list[Change] = []
    for key, record in old.items():
        if key.startswith("line "):
            continue
        if key not in new:
            changes.append(Change("removed", "", old=record, where=key))
        else:
            changes += diff(record, new[key], "", key)
    for key, record in new.items():
        if key not in old and not key.startswith("line "):
            changes.append(Change("added", "", new=record, where=key))
    old_lines = [(key, record) for key, record in old.items() if key.startswith("line ")]
    new_lines = [(key, record) for key, record in new.items() if key.startswith("line ")]
    changes += [Change("removed", "", old=record, where=key) for key, record in _unmatched(old_lines, new_lines)]
    changes += [Change("added", "", new=record, where=key) for key, record in _unmatched(new_lines, old_lines)]
    return changes


def _unmatched(lines: list[tuple[str, Any]], others: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The entries of `lines` with no equal entry left in `others` (each matches once)."""
    pool = [canonical(record) for _, record in others]
    left = []
    for key, record in lines:
        text = canonical(record)
        if text in pool:
            pool.remove(text)
        else:
            left.append((key, record))
    return left
