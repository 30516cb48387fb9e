from __future__ import annotations

import json
import re

from support import Project
from support import git
from vault_support import make_versions
from vault_support import ok
from vault_support import revs

ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def test_log_json_shape_exactly_as_spec(project: Project) -> None:
    ok(project.sync("--trigger", "post-commit"))
    project.write("memory.json", json.dumps({**json.loads((project.root / "memory.json").read_text()), "changed": True}))
    ok(project.sync("--trigger", "cron"))  # (grown, not shrunk: no memory-loss alert, whose commits say more)
    entries = json.loads(ok(project.run("log", "--json")).stdout)
    assert isinstance(entries, list) and len(entries) == 2
    head = git(project.root, "rev-parse", "HEAD").strip()
    assert [e["rev"] for e in entries] == revs(project)  # newest first
    for entry in entries:
        assert set(entry) == {"rev", "time", "trigger", "host", "source_commit", "files"}
        assert re.fullmatch(r"[0-9a-f]{40}", entry["rev"])
        assert ISO_UTC.fullmatch(entry["time"])
        assert entry["host"] and isinstance(entry["host"], str)
        assert entry["source_commit"] == head
        for f in entry["files"]:
            assert set(f) == {"path", "change"}
    assert entries[0]["trigger"] == "cron"
    assert entries[0]["files"] == [{"path": "memory.json", "change": "modified"}]
    assert entries[1]["trigger"] == "post-commit"
    assert sorted(entries[1]["files"], key=lambda f: f["path"]) == [
        {"path": "gpt4o_memories.json", "change": "added"}, {"path": "memory.json", "change": "added"}]
    subject_time = git(project.vault, "log", "-1", "--format=%s").split()[1]
    assert entries[0]["time"] == subject_time


def test_log_paths_are_relative_to_source_dir(project: Project) -> None:
    project.write("agents/memory.json", '{"a": 1}')
    project.config(f"version: 1\nsource_dir: agents\nfiles: [memory.json]\nvault:\n  path: {project.vault}\n")
    ok(project.sync())
    entries = json.loads(ok(project.run("log", "--json")).stdout)
    assert entries[0]["files"] == [{"path": "memory.json", "change": "added"}]
    # FILE may be given as a path from the current folder too
    assert json.loads(ok(project.run("log", "--json", "agents/memory.json")).stdout)[0]["rev"] == entries[0]["rev"]


def test_log_file_filter_and_limit(project: Project) -> None:
    made = make_versions(project, 4)
    only = json.loads(ok(project.run("log", "--json", "gpt4o_memories.json")).stdout)
    assert [e["rev"] for e in only] == [made[0]]
    assert only[0]["files"] == [{"path": "gpt4o_memories.json", "change": "added"}]
    assert [e["rev"] for e in json.loads(ok(project.run("log", "--json", "memory.json")).stdout)] == made[::-1]
    assert [e["rev"] for e in json.loads(ok(project.run("log", "--json", "-n", "2")).stdout)] == made[:1:-1]
    assert json.loads(ok(project.run("log", "--json", "-n", "0")).stdout) == []



def test_log_of_a_file_the_vault_never_held_exits_1_with_a_suggestion(project: Project) -> None:
    make_versions(project, 2)
    for args in (("never.json",), ("--json", "never.json"), ("memroy.json",)):
        proc = project.run("log", *args)
        assert proc.returncode == 1 and proc.stdout == "" and "has never held" in proc.stderr, (args, proc.stderr)
    assert "did you mean memory.json?" in project.run("log", "memroy.json").stderr
    unknown = project.run("log", "never.json").stderr
    assert "did you mean" not in unknown and "the memory files it knows: " in unknown and "memory.json" in unknown


def test_log_text_is_readable_and_plain_in_a_pipe(project: Project) -> None:
    made = make_versions(project, 2)
    out = ok(project.run("log")).stdout
    assert made[1][:12] in out and made[0][:12] in out
    assert out.index(made[1][:12]) < out.index(made[0][:12])
    assert "modified  memory.json" in out and "manual" in out
    assert "\033[" not in out


def test_log_before_any_backup(project: Project) -> None:
    assert json.loads(ok(project.run("log", "--json")).stdout) == []
    assert "no backups" in ok(project.run("log")).stdout


def test_log_bad_arguments_exit_2(project: Project) -> None:
    for args in (("-n", "-1"), ("-n", "x"), ("../outside.json",), ("--bogus",)):
        proc = project.run("log", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_log_is_coloured_on_a_terminal(project: Project) -> None:
    import os
    import pty
    import subprocess

    from support import MEMVAULT

    make_versions(project, 1)
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    proc = subprocess.run([*MEMVAULT, "log"], cwd=project.root, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"\033[33m" in out and b"memory.json" in out


def test_log_n_zero_prints_nothing(project: Project) -> None:
    project.sync()
    proc = project.run("log", "-n", "0")
    assert proc.returncode == 0
    assert proc.stdout == ""
