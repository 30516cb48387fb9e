"""Sources outside the project end to end, through the real command line in a private HOME:
a `sources` folder, the MCP memory server's file from `.mcp.json`, stored and named as
`@name/rel` by every command, the trust rule, the hook's no-change path, symlinks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from memvault_hooks import config
from memvault_hooks.memory import places
from support import Project
from support import git
from support import wait_idle

MEMORY_SERVER = ["-y", "@modelcontextprotocol/server-memory"]


def _notes(tmp_path: Path) -> Path:
    notes = tmp_path / "agent-notes"
    (notes / "daily").mkdir(parents=True)
    (notes / "daily" / "today.md").write_text("# today\n- first\n")
    (notes / "top.md").write_text("# top\n")
    (notes / "ignored.txt").write_text("not a pattern's\n")
    return notes


def _with_notes(project: Project, notes: Path, allow: bool = True) -> None:
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n"
                   f"sources:\n  - {{name: notes, dir: {json.dumps(str(notes))}, files: ['**/*.md']}}\n",
                   allow=allow)


def _backdate(*paths: Path) -> None:
    past = time.time() - 60  # out of git's racy window: the stat cache may vouch for them
    for path in paths:
        os.utime(path, (past, past), follow_symlinks=False)


def _log(project: Project, *args: str) -> list[dict[str, object]]:
    proc = project.run("log", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_a_source_folder_waits_for_allow_then_every_command_names_its_files(project: Project,
                                                                            tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    _with_notes(project, notes, allow=False)
    refused = project.sync()
    assert refused.returncode == 2 and "sources.notes" in refused.stderr and "memvault allow" in refused.stderr
    hook = project.run("hook", "post-commit")
    assert hook.returncode == 0 and "sources.notes" in hook.stderr and "memvault allow" in hook.stderr
    assert not (project.vault / ".git").exists()  # nothing read, nothing written

    allowed = project.run("allow")
    assert allowed.returncode == 0 and f"read **/*.md from {notes}" in allowed.stdout
    assert project.sync().returncode == 0
    stored = project.stored / "@notes"
    assert (stored / "daily" / "today.md").read_text() == "# today\n- first\n"
    assert (stored / "top.md").read_text() == "# top\n" and not (stored / "ignored.txt").exists()
    assert (project.stored / "memory.json").exists()  # source_dir's files as before
    first = _log(project)[0]
    assert {f["path"] for f in first["files"]} >= {"@notes/daily/today.md", "@notes/top.md"}  # type: ignore[index]

    (notes / "daily" / "today.md").write_text("# today\n- first\n- second\n")
    status = json.loads(project.run("status", "--json").stdout)
    assert status["changed"] == ["@notes/daily/today.md"]
    assert project.sync().returncode == 0
    history = _log(project, "@notes/daily/today.md")
    assert len(history) == 2
    assert _log(project, str(notes / "daily" / "today.md")) == history  # its path on disk names it too

    shown = project.run("show", "@notes/daily/today.md", "--rev", str(first["rev"]))
    assert shown.returncode == 0 and shown.stdout == "# today\n- first\n", shown.stderr
    diff = project.run("diff", "@notes/daily/today.md", "--from", str(first["rev"]))
    assert diff.returncode == 0 and "+- second" in diff.stdout, diff.stdout + diff.stderr

    (notes / "daily" / "today.md").write_text("wiped\n")
    restored = project.run("restore", "@notes/daily/today.md", "--rev", str(first["rev"]))
    assert restored.returncode == 0, restored.stderr
    assert (notes / "daily" / "today.md").read_text() == "# today\n- first\n"
    assert "wiped\n" in [project.run("show", "@notes/daily/today.md", "--rev", str(e["rev"])).stdout
                         for e in _log(project, "@notes/daily/today.md")]  # the live content was kept first

    unknown = project.run("show", "@notes/nope.md")
    assert unknown.returncode != 0 and "did you mean @notes/top.md?" in unknown.stderr


def test_restore_writes_only_what_a_source_names(project: Project, tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    _with_notes(project, notes)
    cfg = config.load(str(project.root))
    assert places.allowed(cfg, "@notes/daily/today.md") and places.allowed(cfg, "memory.json")
    assert not places.allowed(cfg, "@notes/ignored.txt")          # no pattern of the source names it
    assert not places.allowed(cfg, "@notes/../../.bashrc")         # nothing escapes the source's dir
    assert not places.allowed(cfg, "@other/x.md")                  # no such source, no such `files` pattern
    assert places.locate(cfg, "@notes/daily/today.md")[:2] == (str(notes), "daily/today.md")

    # A vault commit from elsewhere holding a file no pattern names: restore never writes it.
    assert project.sync().returncode == 0
    (project.stored / "@notes" / "evil.sh").write_text("rm -rf ~\n")
    git(project.vault, "add", "-A")
    git(project.vault, "commit", "-q", "-m", "memvault: 2026-12-06T00:00:00Z from elsewhere")
    proc = project.run("restore", "--dry-run")
    assert proc.returncode == 0 and "@notes/evil.sh" in proc.stdout and "never written" in proc.stdout
    assert project.run("restore").returncode == 0
    assert not (notes / "evil.sh").exists()


def test_a_symlink_out_of_a_source_dir_is_not_followed(project: Project, tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.md").write_text("private key\n")
    (notes / "leak.md").symlink_to(secret / "key.md")
    (notes / "linked").symlink_to(secret, target_is_directory=True)
    (notes / "inside.md").symlink_to(notes / "top.md")  # stays inside: followed
    _with_notes(project, notes)
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    stored = project.stored / "@notes"
    assert not (stored / "leak.md").exists() and not (stored / "linked").exists()
    assert (stored / "inside.md").read_text() == "# top\n"
    assert "private key" not in git(project.vault, "log", "-p", "--all")


def test_the_hooks_no_change_path_notices_a_change_in_a_source(project: Project, tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    _with_notes(project, notes)
    today = notes / "daily" / "today.md"
    _backdate(*notes.rglob("*"), notes, *project.root.glob("*.json"), project.root)
    assert project.sync().returncode == 0
    assert project.sync().returncode == 0
    assert (project.vault / ".memvault-stat").exists()  # the stat cache vouches for every file
    count = len(project.log())

    # Nothing changed: the no-change path answers (no backup module imported), no commit.
    quiet = subprocess.run([sys.executable, "-X", "importtime", "-m", "memvault_hooks", "sync"],
                           cwd=project.root, capture_output=True, text=True)
    assert quiet.returncode == 0 and "memvault_hooks.vault.backup" not in quiet.stderr
    assert project.run("hook", "post-commit").returncode == 0
    wait_idle(project.vault)
    assert len(project.log()) == count

    # Only the outside file is edited in place (its folder's mtime stays): the hook sees it.
    with open(today, "a") as f:
        f.write("- edited outside the project\n")
    assert project.run("hook", "post-commit").returncode == 0
    wait_idle(project.vault)
    assert len(project.log()) == count + 1
    assert (project.stored / "@notes" / "daily" / "today.md").read_text().endswith("outside the project\n")

    # A new file in a source folder is picked up too.
    (notes / "daily" / "tomorrow.md").write_text("# tomorrow\n")
    assert project.run("hook", "post-commit").returncode == 0
    wait_idle(project.vault)
    assert (project.stored / "@notes" / "daily" / "tomorrow.md").read_text() == "# tomorrow\n"


def _mcp_json(project: Project, servers: dict[str, object]) -> None:
    (project.root / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))


def test_an_mcp_memory_file_outside_the_project_waits_for_allow(project: Project, tmp_path: Path) -> None:
    graph = tmp_path / "graphs" / "kg.jsonl"
    graph.parent.mkdir()
    graph.write_text('{"type": "entity", "name": "Ada", "entityType": "person", "observations": []}\n')
    _mcp_json(project, {"memory": {"command": "npx", "args": MEMORY_SERVER,
                                   "env": {"MEMORY_FILE_PATH": str(graph)}}})
    project.config(f"version: 1\nvault:\n  path: {project.vault}\npresets: [mcp-memory]\n", allow=False)
    refused = project.sync()
    assert refused.returncode == 2, refused.stderr
    assert "presets.mcp-memory[kg.jsonl]" in refused.stderr and "memvault allow" in refused.stderr
    hook = project.run("hook", "post-commit")
    assert hook.returncode == 0 and "presets.mcp-memory[kg.jsonl]" in hook.stderr
    assert not (project.vault / ".git").exists()

    allowed = project.run("allow")
    assert allowed.returncode == 0 and str(graph.parent) in allowed.stdout and "MEMORY_FILE_PATH" in allowed.stdout
    assert project.sync().returncode == 0
    assert (project.stored / "@mcp-memory" / "kg.jsonl").read_text() == graph.read_text()
    assert [f["path"] for f in _log(project, "@mcp-memory/kg.jsonl")[0]["files"]  # type: ignore[union-attr]
            if str(f["path"]).startswith("@")] == ["@mcp-memory/kg.jsonl"]  # type: ignore[index]

    # .mcp.json now names another file: that one is new, and waits for allow again.
    other = tmp_path / "graphs" / "other.jsonl"
    other.write_text("")
    _mcp_json(project, {"memory": {"command": "npx", "args": MEMORY_SERVER,
                                   "env": {"MEMORY_FILE_PATH": str(other)}}})
    again = project.sync()
    assert again.returncode == 2 and "presets.mcp-memory[other.jsonl]" in again.stderr


def test_an_mcp_json_that_is_not_json_is_reported_and_the_rest_backed_up(project: Project,
                                                                          tmp_path: Path) -> None:
    (project.root / ".mcp.json").write_text('{"mcpServers": {"memory": ')  # cut short
    project.config(f"version: 1\nvault:\n  path: {project.vault}\npresets: [mcp-memory]\n")
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    assert ".mcp.json: not valid JSON" in proc.stderr and "skipped" in proc.stderr
    assert (project.stored / "memory.json").exists()  # the other memory files still backed up
    status = json.loads(project.run("status", "--json").stdout)
    assert any("not valid JSON" in text for text in status["warnings"])
