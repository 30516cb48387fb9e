from __future__ import annotations

import os

import pytest

from memvault_hooks.vault.message import build
from memvault_hooks.vault.message import parse
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.pathquote import unquote

NAMES = ["memory.json", "notes/été.md", "evil\nmodified: .bashrc", os.fsdecode(b"n\xe9\xff.json"),
         'q"b\\c\x7f\x01\t', '"x"']


@pytest.mark.parametrize("name", NAMES)
def test_quote_round_trips_and_keeps_one_line(name: str) -> None:
    quoted = quote(name)
    assert "\n" not in quoted and "\r" not in quoted
    quoted.encode("utf-8")  # no surrogates left
    assert unquote(quoted) == name


def test_quote_is_gits() -> None:
    assert quote("a.json") == "a.json"
    assert quote("été.json") == "été.json"
    assert quote("a\nb") == '"a\\nb"'
    assert quote(os.fsdecode(b"n\xe9.json")) == '"n\\351.json"'


def test_commit_message_lists_a_forged_line_as_one_file() -> None:
    msg = build("2026-01-01T00:00:00Z", "manual", "h", None, [("x\nmodified: .envrc", "added")])
    assert parse(msg).files == [("x\nmodified: .envrc", "added")]
