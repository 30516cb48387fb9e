from __future__ import annotations

import pytest

from memvault_hooks.memory.patterns import matches

PATTERNS = ("memory.json", "MEMORY.md", "memory-bank/**/*.md", "notes/*.json", ".cursor/rules/**/*.mdc")


@pytest.mark.parametrize("rel", ["memory.json", "MEMORY.md", "memory-bank/a.md", "memory-bank/x/y/b.md",
                                 "notes/today.json", ".cursor/rules/a/b.mdc"])
def test_what_the_patterns_name(rel: str) -> None:
    assert matches(rel, PATTERNS)


@pytest.mark.parametrize("rel", [".envrc", "conftest.py", ".vscode/tasks.json", "notes/.hidden.json",
                                 "notes/deep/x.json", "../memory.json", "a/../memory.json", "memory-bank/.git/x.md",
                                 "memory.json/x"])
def test_what_they_do_not(rel: str) -> None:
    assert not matches(rel, PATTERNS)
