"""mcp_memory and the mcp-memory preset: the memory server's file, read from a real `.mcp.json`
as the server resolves it, the npx cache and its warning, in a private HOME (conftest)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from memvault_hooks.memory import mcp_memory
from memvault_hooks.memory import presets
from memvault_hooks.memory import sources


def write(path: Path, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def mcp(project: Path, servers: dict[str, object]) -> None:
    write(project / ".mcp.json", json.dumps({"mcpServers": servers}))


def npx_dist(home: Path, hash_: str = "0123456789abcdef") -> Path:
    dist = home / ".npm" / "_npx" / hash_ / "node_modules" / "@modelcontextprotocol" / "server-memory" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.js").write_text("// the server\n")
    return dist


def found_files(place: presets.Place) -> list[str]:
    return sorted(place.stored(rel) for rel in sources.discover(place.dir, place.patterns))


MEMORY_SERVER = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}


@pytest.fixture(autouse=True)
def default_npm_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The npx cache in the private HOME, whatever the environment running the tests says."""
    for var in ("npm_config_cache", "NPM_CONFIG_CACHE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    p = tmp_path / "work space" / "my_proj.v2"
    p.mkdir(parents=True)
    return p


def test_mcp_memory_file_path_outside_the_project(proj: Path, tmp_path: Path) -> None:
    graph = write(tmp_path / "graphs" / "memory.jsonl", '{"type":"entity"}\n')
    mcp(proj, {"memory": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": str(graph)}},
               "other": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]}})
    assert presets.detect(str(proj)) == ["mcp-memory"]
    resolved = presets.resolve(str(proj), ["mcp-memory"])
    assert resolved.warnings == []
    [place] = resolved.places
    assert place.dir == str(graph.parent) and not place.inside_project
    assert found_files(place) == ["@mcp-memory/memory.jsonl"]
    assert "mcpServers.memory.env.MEMORY_FILE_PATH" in place.origin


def test_mcp_memory_file_path_forms(proj: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPH_HOME", str(isolated_home / "g"))
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    mcp(proj, {
        "tilde": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@latest"],
                  "env": {"MEMORY_FILE_PATH": "~/mem/a.jsonl"}},
        "var": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": "${GRAPH_HOME}/b.jsonl"}},
        "default": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": "${NOT_SET_HERE:-/opt/c.jsonl}"}},
        "missing": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": "${NOT_SET_HERE}/d.jsonl"}},
        "inside": {"command": "mcp-server-memory", "env": {"MEMORY_FILE_PATH": str(proj / "graph.jsonl")}},
    })
    resolved = presets.resolve(str(proj), ["mcp-memory"])
    paths = {p.dir + "/" + p.patterns[0]: p for p in resolved.places}
    assert sorted(paths) == sorted([str(isolated_home / "mem" / "a.jsonl"), str(isolated_home / "g" / "b.jsonl"),
                                    "/opt/c.jsonl", str(proj / "graph.jsonl")])
    assert paths[str(proj / "graph.jsonl")].inside_project
    [warning] = resolved.warnings
    assert "${NOT_SET_HERE}" in warning and "mcpServers.missing" in warning


def test_without_memory_file_path_the_file_in_the_npx_cache_and_a_warning(
        proj: Path, isolated_home: Path) -> None:
    mcp(proj, {"memory": MEMORY_SERVER})
    assert presets.detect(str(proj)) == ["mcp-memory"]      # named, even before any file exists
    resolved = presets.resolve(str(proj), ["mcp-memory"])
    assert resolved.places == []                            # no npx cache at all yet
    assert "not a safe home" in resolved.warnings[0]

    old = npx_dist(isolated_home, "aaaaaaaaaaaaaaaa")
    write(old / "memory.json", "{}")
    os.utime(old / "memory.json", (time.time() - 3600,) * 2)
    new = npx_dist(isolated_home, "bbbbbbbbbbbbbbbb")
    write(new / "memory.jsonl", '{"type":"entity"}\n')
    resolved = presets.resolve(str(proj), ["mcp-memory"])
    [place] = resolved.places
    assert found_files(place) == ["@mcp-memory/memory.jsonl"] and place.dir == str(new)
    [warning] = resolved.warnings
    assert str(new / "memory.jsonl") in warning and "not a safe home" in warning
    assert '"MEMORY_FILE_PATH": "~/mcp-memory/my_proj.v2.jsonl"' in warning   # the one-line fix
    assert str(old / "memory.json") in warning                                  # the other copy is named


def test_a_relative_memory_file_path_lives_in_the_package_folder(proj: Path, isolated_home: Path) -> None:
    dist = npx_dist(isolated_home)
    write(dist / "data" / "g.jsonl")
    mcp(proj, {"memory": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": "data/g.jsonl"}}})
    resolved = presets.resolve(str(proj), ["mcp-memory"])
    [place] = resolved.places
    assert place.dir == str(dist / "data") and found_files(place) == ["@mcp-memory/g.jsonl"]
    assert "not a safe home" in resolved.warnings[0]


def test_two_servers_with_one_file_name_are_kept_apart(proj: Path, tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "memory.jsonl")
    b = write(tmp_path / "b" / "memory.jsonl")
    mcp(proj, {"work": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": str(a)}},
               "Home Graph": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": str(b)}},
               "work-again": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": str(a)}}})
    places = presets.resolve(str(proj), ["mcp-memory"]).places
    assert [found_files(p) for p in places] == [["@mcp-memory/memory.jsonl"],
                                                ["@mcp-memory/home-graph/memory.jsonl"]]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\xff", "[" * 100000])
def test_a_bad_mcp_json_is_reported_and_skipped(proj: Path, content: str) -> None:
    (proj / ".mcp.json").write_bytes(content.encode("latin-1"))
    write(proj / "AGENTS.md")
    assert presets.detect(str(proj)) == ["codex"]
    resolved = presets.resolve(str(proj), ["mcp-memory", "codex"])
    assert resolved.places == [] and resolved.patterns == ("AGENTS.md",)
    [warning] = resolved.warnings
    assert str(proj / ".mcp.json") in warning and "skipped" in warning


def test_a_fifo_or_huge_mcp_json_never_hangs(proj: Path) -> None:
    os.mkfifo(proj / ".mcp.json")
    assert "not a regular file" in presets.resolve(str(proj), ["mcp-memory"]).warnings[0]
    os.unlink(proj / ".mcp.json")
    (proj / ".mcp.json").write_bytes(b" " * (mcp_memory.MCP_CONFIG_LIMIT + 1))
    assert "larger than" in presets.resolve(str(proj), ["mcp-memory"]).warnings[0]


def test_npm_config_cache_moves_the_npx_cache(proj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npmcache"))
    dist = npx_dist(tmp_path / "unused")
    assert mcp_memory.npx_package_dirs() == []
    moved = tmp_path / "npmcache" / "_npx" / "f" / "node_modules" / "@modelcontextprotocol" / "server-memory" / "dist"
    moved.mkdir(parents=True)
    assert mcp_memory.npx_package_dirs() == [str(moved)] and str(dist) not in mcp_memory.npx_package_dirs()


def test_memory_files_names_each_servers_file_and_where_it_came_from(proj: Path, tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    mcp(proj, {"m": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": str(a)}},
               "same": {**MEMORY_SERVER, "env": {"MEMORY_FILE_PATH": str(a)}},
               "web": {"command": "npx", "args": ["@modelcontextprotocol/server-memoryless"]}})
    found = mcp_memory.memory_files(str(proj))
    assert found.named and found.warnings == []
    assert found.files == [mcp_memory.ServerFile("m", str(a), ".mcp.json: mcpServers.m.env.MEMORY_FILE_PATH")]
    assert mcp_memory.memory_files(str(tmp_path)) == mcp_memory.Found()     # no .mcp.json: nothing, quietly
