"""presets: the SPEC's table, detection, Claude Code's folder by its slug rule, in a private
HOME (conftest). The mcp-memory preset is tested with mcp_memory (test_mcp_memory.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from memvault_hooks.memory import presets
from memvault_hooks.memory import sources


def write(path: Path, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def found_files(place: presets.Place) -> list[str]:
    return sorted(place.stored(rel) for rel in sources.discover(place.dir, place.patterns))


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    p = tmp_path / "work space" / "my_proj.v2"
    p.mkdir(parents=True)
    return p


def test_table_holds_every_preset_of_the_spec() -> None:
    assert presets.NAMES == ("claude-code", "mcp-memory", "cline", "cursor", "copilot",
                             "gemini", "codex", "windsurf")
    assert presets.PRESETS["codex"].patterns == ("AGENTS.md",)
    assert presets.unknown(["cline", "clien", "codex"]) == ["clien"]


def test_detect_finds_the_presets_whose_files_exist(proj: Path) -> None:
    assert presets.detect(str(proj)) == []
    write(proj / "CLAUDE.md")
    write(proj / "memory-bank" / "deep" / "activeContext.md")
    write(proj / ".cursor" / "rules" / "style.mdc")
    write(proj / ".windsurf" / "rules" / "a.md")
    write(proj / "README.md")
    assert presets.detect(str(proj)) == ["claude-code", "cline", "cursor", "windsurf"]


def test_resolve_joins_patterns_in_order_without_repeats(proj: Path) -> None:
    resolved = presets.resolve(str(proj), ["gemini", "codex", "gemini"])
    assert resolved.patterns == ("GEMINI.md", "AGENTS.md")
    assert resolved.places == [] and resolved.warnings == []


def test_claude_slug_replaces_every_character_but_letters_and_digits() -> None:
    assert presets.claude_slug("/home/ann/my_proj.v2") == "-home-ann-my-proj-v2"
    assert presets.claude_slug("C:\\git\\cc-plus") == "C--git-cc-plus"
    assert presets.claude_slug("/srv/文档 x") == "-srv----x"


def test_claude_code_auto_memory_folder_by_the_slug_rule(proj: Path, isolated_home: Path) -> None:
    slug = str(proj).replace("/", "-").replace(" ", "-").replace("_", "-").replace(".", "-")
    memory = isolated_home / ".claude" / "projects" / slug / "memory"
    place = presets.resolve(str(proj), ["claude-code"]).places[0]
    assert place.dir == str(memory) and not place.inside_project
    assert found_files(place) == []                      # no folder yet: simply empty
    assert presets.detect(str(proj)) == []
    write(memory / "MEMORY.md")
    write(memory / "topics" / "debugging.md")
    write(memory / "notes.txt")
    assert found_files(place) == ["@claude-code/MEMORY.md", "@claude-code/topics/debugging.md"]
    assert presets.detect(str(proj)) == ["claude-code"]
    assert "@claude-code/" in place.describe() and str(memory) in place.describe()


def test_a_long_project_path_finds_claude_codes_hashed_folder(tmp_path: Path, isolated_home: Path) -> None:
    project = tmp_path / ("p" * 120) / ("q" * 120)
    project.mkdir(parents=True)
    slug = presets.claude_slug(str(project))
    assert len(slug) > presets.SLUG_LIMIT
    # Node's hash of the real path:
    node = presets.claude_memory_dir(str(project))
    assert os.path.basename(os.path.dirname(node)) == f"{slug[:200]}-{presets._js_string_hash(str(project))}"
    # A Bun build names it with another hash: found by its prefix.
    other = isolated_home / ".claude" / "projects" / f"{slug[:200]}-zz9bun" / "memory"
    write(other / "MEMORY.md")
    assert presets.claude_memory_dir(str(project)) == str(other)


def test_js_string_hash_matches_javas_string_hash() -> None:
    # "hello".hashCode() == 99162322 (the same 31-multiplier int32 hash), in base 36:
    assert int(presets._js_string_hash("hello"), 36) == 99162322
    assert int(presets._js_string_hash("polygenelubricants"), 36) == 2 ** 31  # Integer.MIN_VALUE
