from __future__ import annotations

from memvault_hooks.history import filediff
from memvault_hooks.ui.term import Painter

PLAIN = Painter(enabled=False)
LABELS = ("a1b2c3", "live")


def test_json_key_by_key() -> None:
    lines = filediff.render("memory.json", b'{"user": {"likes": ["tea", "books"]}, "gone": 1}',
                            b'{"user": {"likes": ["tea", "films"]}, "new": [1]}', LABELS, PLAIN)
    assert lines == [
        "memory.json  (a1b2c3 -> live, changed)",
        '  ~ user.likes[1]: "books" -> "films"',
        "  - gone = 1",
        "  + new = [1]",
    ]


def test_missing_side_is_empty() -> None:
    lines = filediff.render("memory.json", None, b'{"a": 1, "b": {"c": 2}}', ("empty", "live"), PLAIN)
    assert lines[1:] == ["  + a = 1", '  + b = {"c": 2}']
    lines = filediff.render("memory.json", b'[1]', None, ("a1b2c3", "empty"), PLAIN)
    assert lines[1:] == ["  - [0] = 1"]


def test_same_data_other_formatting() -> None:
    lines = filediff.render("memory.json", b'{"a":1}', b'{\n  "a": 1\n}\n', LABELS, PLAIN)
    assert lines[1] == "  (same data, formatting differs)"


def test_invalid_json_falls_back_to_text() -> None:
    lines = filediff.render("memory.json", b'{"a": 1}\n', b'{"a": \n', LABELS, PLAIN)
    assert "text diff" in lines[1]
    assert '-{"a": 1}' in lines and '+{"a": ' in lines


def test_text_and_binary() -> None:
    lines = filediff.render("MEMORY.md", b"one\ntwo\n", b"one\nthree\n", LABELS, PLAIN)
    assert lines[1:] == ["--- a1b2c3/MEMORY.md", "+++ live/MEMORY.md", "@@ -1,2 +1,2 @@", " one", "-two", "+three"]
    assert filediff.render("x.bin", b"\xff\x00", b"\xfe", LABELS, PLAIN)[1] == "  binary content differs (2 -> 1 bytes)"
    assert filediff.render("x.bin", b"same", b"same", LABELS, PLAIN) == []


def test_colour_only_when_enabled() -> None:
    coloured = filediff.render("memory.json", b'{"a": 1}', b'{"a": 2}', LABELS, Painter(enabled=True))
    assert "\033[33m" in coloured[1]
    plain = filediff.render("memory.json", b'{"a": 1}', b'{"a": 2}', LABELS, PLAIN)
    assert not any("\033[" in line for line in plain)


def test_long_values_are_cut_on_a_terminal_only() -> None:
    big = b'{"a": "' + b"x" * 500 + b'"}'
    coloured = filediff.render("m.json", b"{}", big, LABELS, Painter(enabled=True))
    assert "(502 chars)" in coloured[1]
    plain = filediff.render("m.json", b"{}", big, LABELS, PLAIN)
    assert "x" * 500 in plain[1]
