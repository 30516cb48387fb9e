from __future__ import annotations

import json

from support import DATA

from memvault_hooks.history import jsondiff
from memvault_hooks.history.jsondiff import Change


def test_paths_key_by_key() -> None:
    old = {"user": {"name": "Ann", "likes": ["tea", "books"], "age": 41}, "v": 1}
    new = {"user": {"likes": ["tea", "films"], "age": 42, "city": "Oslo"}, "v": 1}
    assert jsondiff.diff(old, new) == [
        Change("removed", "user.name", old="Ann"),
        Change("changed", "user.likes[1]", old="books", new="films"),
        Change("changed", "user.age", old=41, new=42),
        Change("added", "user.city", new="Oslo"),
    ]


def test_odd_keys_are_quoted() -> None:
    changes = jsondiff.diff({"pricing API": {"x.y": 1}}, {"pricing API": {"x.y": 2}})
    assert [c.path for c in changes] == ['["pricing API"]["x.y"]']


def test_an_inserted_item_is_one_addition() -> None:
    old = {"likes": ["a", "b", "c", "d"]}
    new = {"likes": ["a", "new", "b", "c", "d"]}
    assert jsondiff.diff(old, new) == [Change("added", "likes[1]", new="new")]
    assert jsondiff.diff(new, old) == [Change("removed", "likes[1]", old="new")]


def test_type_change_and_equal_values() -> None:
    assert jsondiff.diff({"a": 1}, {"a": 1}) == []
    assert jsondiff.diff({"a": 1}, {"a": True}) == [Change("changed", "a", old=1, new=True)]
    assert jsondiff.diff({"a": 1}, {"a": 1.0}) == [Change("changed", "a", old=1, new=1.0)]
    assert jsondiff.diff([1], {"a": 1}) == [Change("changed", "", old=[1], new={"a": 1})]


def test_jsonl_entity_by_entity() -> None:
    text = (DATA / "memory.jsonl").read_bytes()
    old = jsondiff.parse_lines(text)
    assert 'entity "entity_0"' in old
    assert any(key.startswith("relation ") for key in old)
    lines = [json.loads(line) for line in text.decode().splitlines() if line.strip()]
    lines[0]["observations"].append("likes green tea")
    removed = lines.pop(2)
    lines.insert(0, {"type": "entity", "name": "Zed", "entityType": "person", "observations": []})
    new = jsondiff.parse_lines("\n".join(json.dumps(r) for r in lines).encode())
    changes = jsondiff.diff_lines(old, new)
    n = len(removed["observations"])
    assert changes == [
        Change("added", f"observations[{len(lines[1]['observations']) - 1}]", new="likes green tea",
               where='entity "entity_0"'),
        Change("removed", "", old=removed, where=f'entity "{removed["name"]}"'),
        Change("added", "", new=lines[0], where='entity "Zed"'),
    ]
    assert n >= 1


def test_jsonl_records_without_identity_and_duplicates() -> None:
    records = jsondiff.parse_lines(b'{"a": 1}\n\n{"id": 7}\n{"id": 7}\n')
    assert list(records) == ["line 1", "id 7", "id 7 #2"]


def test_jsonl_lines_without_identity_match_by_content() -> None:
    old = jsondiff.parse_lines(b'{"a": 1}\n{"a": 2}\n{"a": 3}\n')
    new = jsondiff.parse_lines(b'{"a": 0}\n{"a": 1}\n{"a": 3}\n')
    assert jsondiff.diff_lines(old, new) == [
        Change("removed", "", old={"a": 2}, where="line 2"),
        Change("added", "", new={"a": 0}, where="line 1"),
    ]
