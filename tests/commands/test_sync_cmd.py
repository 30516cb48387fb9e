from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from memvault_hooks.vault import state as vault_state
from remote_support import Joined
from remote_support import join
from remote_support import tip_content
from remote_support import versions
from support import DATA
from support import Project
from support import git
from support import memvault


def _trailers(message: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in message.splitlines() if line.startswith("Memvault-"))


def test_first_sync_stores_files_byte_for_byte(project: Project) -> None:
    proc = project.sync()
    assert proc.returncode == 0, proc.stderr
    for name in ("memory.json", "gpt4o_memories.json"):
        assert (project.stored / name).read_bytes() == (DATA / name).read_bytes()
    (commit,) = project.log()
    sha, body = commit.split("\x00")
    assert body.startswith("memvault: ")
    assert "added: memory.json" in body and "added: gpt4o_memories.json" in body
    trailers = _trailers(body)
    assert trailers["Memvault-Trigger"] == "manual"
    assert trailers["Memvault-Host"] == os.uname().nodename
    assert trailers["Memvault-Source-Commit"] == git(project.root, "rev-parse", "HEAD").strip()


def test_subject_holds_utc_iso_time(project: Project) -> None:
    project.sync()
    subject = git(project.vault, "log", "-1", "--format=%s")
    stamp = subject.split()[1]
    assert stamp.endswith("Z") and "T" in stamp
    commit_time = git(project.vault, "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
                      env={**os.environ, "TZ": "UTC"}).strip()
    assert stamp == commit_time


def test_nothing_changed_makes_no_commit(project: Project) -> None:
    project.sync()
    proc = project.sync()
    assert proc.returncode == 0
    assert "nothing to back up" in proc.stdout
    assert len(project.log()) == 1


def test_touched_but_unchanged_file_makes_no_commit(project: Project) -> None:
    project.sync()
    path = project.root / "memory.json"
    os.utime(path, ns=(1, 1))
    path.write_bytes(path.read_bytes())  # rewritten, same content, new inode times
    assert project.sync().returncode == 0
    assert len(project.log()) == 1


def test_one_changed_file_alone_in_the_commit(project: Project) -> None:
    project.sync()
    data = json.loads((project.root / "memory.json").read_text())
    data["new_fact"] = "the user prefers tabs"
    project.write("memory.json", json.dumps(data, indent=2))
    git(project.root, "commit", "--allow-empty", "-qm", "second")
    assert project.sync("--trigger", "cron").returncode == 0
    newest = project.log()[0].split("\x00")[1]
    assert "modified: memory.json" in newest
    assert "gpt4o_memories.json" not in newest
    changed = git(project.vault, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["rAgentShared/memory.json"]
    trailers = _trailers(newest)
    assert trailers["Memvault-Trigger"] == "cron"
    assert trailers["Memvault-Source-Commit"] == git(project.root, "rev-parse", "HEAD").strip()


def test_globs_and_nested_paths(project: Project) -> None:
    project.config(f"version: 1\nfiles: ['**/*.json', 'agents/*.jsonl', 'MEMORY.md']\nvault:\n  path: {project.vault}\n")
    project.write("agents/deep/notes.json", '{"a": 1}')
    project.write("agents/memory.jsonl", (DATA / "memory.jsonl").read_text())
    project.write("MEMORY.md", "# memory\n")
    project.write("agents/ignored.txt", "not a memory file")
    assert project.sync().returncode == 0
    stored = sorted(str(p.relative_to(project.stored)) for p in project.stored.rglob("*") if p.is_file())
    assert stored == ["MEMORY.md", "agents/deep/notes.json", "agents/memory.jsonl",
                      "gpt4o_memories.json", "memory.json"]


def test_source_dir_elsewhere(project: Project, tmp_path: Path) -> None:
    agents = tmp_path / "agents-home"
    agents.mkdir()
    (agents / "memory.json").write_text('{"x": 1}')
    project.config(f"version: 1\nsource_dir: {agents}\nvault:\n  path: {project.vault}\n")
    assert project.sync().returncode == 0
    assert (project.stored / "memory.json").read_text() == '{"x": 1}'


def test_invalid_json_is_not_committed_others_are(project: Project) -> None:
    project.sync()
    good = project.root / "memory.json"
    last_good = good.read_bytes()
    good.write_text('{"half": "writ')
    project.write("gpt4o_memories.json", '{"fresh": true}')
    proc = project.sync()
    assert proc.returncode == 1
    assert "memory.json" in proc.stderr and "invalid JSON" in proc.stderr
    assert (project.stored / "memory.json").read_bytes() == last_good
    assert (project.stored / "gpt4o_memories.json").read_text() == '{"fresh": true}'
    assert "Traceback" not in proc.stderr
    status = json.loads(project.run("status", "--json").stdout)
    assert status["ok"] is False
    assert "memory.json" in status["last_error"]["message"]
    errors = list(Path(os.environ["XDG_STATE_HOME"]).rglob("sync.err"))
    assert errors and "invalid JSON" in errors[0].read_text()
    good.write_bytes(last_good)
    assert project.sync().returncode == 0
    assert json.loads(project.run("status", "--json").stdout)["last_error"] is None


def test_invalid_jsonl_line_is_not_committed(project: Project) -> None:
    project.config(f"version: 1\nfiles: [memory.jsonl]\nvault:\n  path: {project.vault}\n")
    lines = (DATA / "memory.jsonl").read_text()
    project.write("memory.jsonl", lines)
    assert project.sync().returncode == 0
    project.write("memory.jsonl", lines + '\n{"type": "entity", "name": "tor')
    assert project.sync().returncode == 1
    assert (project.stored / "memory.jsonl").read_text() == lines
    project.write("memory.jsonl", lines + '\n\n{"type": "entity", "name": "ok"}\n')
    assert project.sync().returncode == 0


def test_missing_file_keeps_last_version(project: Project) -> None:
    project.sync()
    (project.root / "memory.json").unlink()
    proc = project.sync()
    assert proc.returncode == 0
    assert (project.stored / "memory.json").read_bytes() == (DATA / "memory.json").read_bytes()
    assert len(project.log()) == 1
    assert "memory.json" in git(project.vault, "ls-files")


def test_mirror_deletions_records_deleted(project: Project) -> None:
    project.config(f"version: 1\nmirror_deletions: true\nvault:\n  path: {project.vault}\n")
    project.sync()
    (project.root / "memory.json").unlink()
    assert project.sync().returncode == 0
    assert "deleted: memory.json" in project.log()[0]
    assert "memory.json" not in git(project.vault, "ls-files")


def test_deleted_or_corrupt_state_costs_no_commit(project: Project) -> None:
    project.sync()
    state = project.vault / ".last_sync"
    state.unlink()
    assert project.sync().returncode == 0
    assert len(project.log()) == 1
    state.write_text("{not a record")
    assert project.sync().returncode == 0
    assert len(project.log()) == 1
    assert vault_state.load(str(project.vault))["files"]["memory.json"]["blob"]
    project.write("memory.json", '{"after": "corruption"}')
    state.write_bytes(b"\x00\xff")
    assert project.sync().returncode == 0
    assert len(project.log()) == 2


def test_state_is_never_committed(project: Project) -> None:
    project.sync()
    tracked = git(project.vault, "ls-files").split()
    assert tracked == ["rAgentShared/gpt4o_memories.json", "rAgentShared/memory.json"]
    assert git(project.vault, "status", "--porcelain") == ""


def test_symlink_outside_source_dir_is_not_followed(project: Project, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "hunter2"}')
    (project.root / "memory.json").unlink()
    (project.root / "memory.json").symlink_to(secret)
    (project.root / "inside.json").write_text('{"ok": 1}')
    (project.root / "gpt4_memories.json").symlink_to(project.root / "inside.json")
    assert project.sync().returncode == 0
    assert not (project.stored / "memory.json").exists()
    assert (project.stored / "gpt4_memories.json").read_text() == '{"ok": 1}'
    assert "hunter2" not in git(project.vault, "log", "-p")


def test_symlinked_folder_outside_is_not_followed(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.json").write_text('{"leak": 1}')
    (project.root / "agents").symlink_to(outside)
    project.config(f"version: 1\nfiles: ['agents/*.json', memory.json]\nvault:\n  path: {project.vault}\n")
    assert project.sync().returncode == 0
    assert not (project.stored / "agents").exists()


def test_private_permissions(project: Project) -> None:
    project.sync()
    assert stat.S_IMODE(project.vault.stat().st_mode) == 0o700
    assert stat.S_IMODE((project.vault / ".last_sync").stat().st_mode) == 0o600
    assert stat.S_IMODE((project.stored / "memory.json").stat().st_mode) == 0o600
    for folder in (project.vault / ".git", project.stored):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    logs = list(Path(os.environ["XDG_STATE_HOME"]).rglob("sync.log"))
    assert logs, "the run log was not written"
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(logs[0].parent.stat().st_mode) == 0o700
    assert "sync trigger=manual ok" in logs[0].read_text()


def test_vault_has_no_hooks(project: Project) -> None:
    project.sync()
    hooks = project.vault / ".git" / "hooks"
    assert not hooks.exists() or not any(hooks.iterdir())


def test_sync_never_writes_memory_files(project: Project) -> None:
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in project.root.glob("*.json")}
    project.sync()
    project.write("memory.json", '{"v": 2}')
    before["memory.json"] = ((project.root / "memory.json").read_bytes(),
                             (project.root / "memory.json").stat().st_mtime_ns)
    project.sync()
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in project.root.glob("*.json")}
    assert after == before


def test_quiet_prints_nothing(project: Project) -> None:
    proc = project.sync("--quiet")
    assert proc.returncode == 0
    assert proc.stdout == ""


def test_vault_path_holding_something_else_is_refused(project: Project) -> None:
    project.vault.mkdir()
    (project.vault / "thesis.tex").write_text("precious")
    proc = project.sync()
    assert proc.returncode == 1
    assert "not a vault" in proc.stderr and "Traceback" not in proc.stderr
    assert not (project.vault / ".git").exists()
    assert (project.vault / "thesis.tex").read_text() == "precious"


def test_unwritable_vault_location_fails_cleanly(project: Project) -> None:
    blocker = project.vault.parent / "blocker"
    blocker.write_text("a file, not a folder")
    project.config(f"version: 1\nvault:\n  path: {blocker / 'vault'}\n")
    proc = project.sync()
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "memvault: error:" in proc.stderr
    assert (project.root / "memory.json").read_bytes() == (DATA / "memory.json").read_bytes()


def test_trigger_name_cannot_forge_trailers(project: Project) -> None:
    for bad in ("", "two words", "cron\nMemvault-Host: elsewhere"):
        proc = project.sync("--trigger", bad)
        assert proc.returncode == 2, bad
        assert "trigger name" in proc.stderr
    assert project.log() == []
    project.sync()
    for bad in ("", "cron\nMemvault-Host: elsewhere"):
        assert project.sync("--trigger", bad).returncode == 2  # the no-change path checks it too


def test_sync_outside_a_git_repository_without_config_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "memory.json").write_text('{"a": 1}')
    data_home = Path(os.environ["XDG_DATA_HOME"])
    before = sorted(data_home.rglob("*")) if data_home.exists() else []
    for args in (("sync",), ("sync", "--quiet"), ("-C", str(folder), "sync")):
        proc = memvault(*args, cwd=folder)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "memvault init" in proc.stderr and proc.stdout == "" and "Traceback" not in proc.stderr
    assert (sorted(data_home.rglob("*")) if data_home.exists() else []) == before
    # `memvault init` there (chosen: allowed outside git) makes the folder a project sync accepts
    assert memvault("init", "--vault", str(tmp_path / "v"), cwd=folder).returncode == 0
    proc = memvault("sync", cwd=folder)
    assert proc.returncode == 0 and "backed up added memory.json" in proc.stdout, proc.stderr


# --- joining a shared vault (issue 11 point 1) ----------------------------------------------

def test_second_machine_with_a_stale_copy_leaves_the_newest_at_the_tip(tmp_path: Path) -> None:
    """Machine A backed up v1, v2, v3; machine B clones the project (memory.json is v1 there)
    and runs the quick start's `init && sync`: the remote's tip still holds v3."""
    w = Joined(tmp_path)
    init = join(w.b, w.env_b)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "memory.json is behind the vault" in init.stdout, init.stdout  # init names it
    proc = w.b.sync(env=w.env_b)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "memory.json is behind the vault" in proc.stderr
    assert "memvault restore memory.json" in proc.stderr and "memvault sync --keep-local" in proc.stderr
    assert "added gpt4o_memories.json" in proc.stdout  # live content the vault never saw: backed up
    assert tip_content(w.remote, "memory.json") == Joined.version(3)
    assert tip_content(w.remote, "gpt4o_memories.json") == '{"only": "on machine B"}\n'
    assert tip_content(w.vault_b(), "memory.json") == Joined.version(3)
    assert versions(w.remote, "memory.json") == [Joined.version(n) for n in (1, 2, 3)]  # no v1 on top
    assert (w.b.root / "memory.json").read_text() == Joined.version(1)  # a sync never writes it
    # Again (the no-change path) and with a touched file: still left out, still v3 at the tip.
    assert w.b.sync(env=w.env_b).returncode == 0
    os.utime(w.b.root / "memory.json")
    again = w.b.sync(env=w.env_b)
    assert again.returncode == 0 and "memory.json is behind" in again.stderr, again.stderr
    assert tip_content(w.remote, "memory.json") == Joined.version(3)
    log = (Path(w.env_b["XDG_STATE_HOME"]) / "memvault").rglob("sync.log")
    assert any("left out (behind the vault): memory.json" in p.read_text() for p in log)


def test_keep_local_backs_up_a_behind_file_as_the_newest(tmp_path: Path) -> None:
    w = Joined(tmp_path)
    assert join(w.b, w.env_b).returncode == 0
    assert w.b.sync(env=w.env_b).returncode == 0
    proc = w.b.sync("--keep-local", env=w.env_b)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "modified memory.json" in proc.stdout
    assert tip_content(w.vault_b(), "memory.json") == Joined.version(1)
    assert tip_content(w.remote, "memory.json") == Joined.version(1)
    assert versions(w.remote, "memory.json")[-1] == Joined.version(1)
    assert w.status_b()["behind"] == []
    # It is now this machine's backup: later edits are backed up as usual.
    w.b.write("memory.json", Joined.version(7))
    assert w.b.sync(env=w.env_b).returncode == 0
    assert tip_content(w.remote, "memory.json") == Joined.version(7)


# --- messages that keep their cause (issue 11 point 4) --------------------------------------

def test_invalid_json_message_says_where_once(project: Project) -> None:
    project.sync()
    project.write("memory.json", '{\n\n\n\n  "note": "half writ')
    proc = project.sync()
    assert proc.returncode == 1
    assert "invalid JSON: Unterminated string starting at line 5 column 11" in proc.stderr, proc.stderr
    assert "at at" not in proc.stderr
    project.config(f"version: 1\nfiles: [memory.jsonl]\nvault:\n  path: {project.vault}\n")
    project.write("memory.jsonl", '{"ok": 1}\n{"bad": "\x01"}\n')
    proc = project.sync()
    assert proc.returncode == 1 and "at at" not in proc.stderr
    assert "line 2: Invalid control character at column" in proc.stderr, proc.stderr


def test_a_failing_sync_does_not_also_say_nothing_to_back_up(project: Project) -> None:
    project.sync()
    project.write("memory.json", "{not json")
    proc = project.sync()
    assert proc.returncode == 1 and "invalid JSON" in proc.stderr
    assert "nothing to back up" not in proc.stdout + proc.stderr


def test_a_push_to_a_path_that_is_no_repository_keeps_git_words(project: Project, tmp_path: Path) -> None:
    not_a_repo = tmp_path / "plain-folder"
    not_a_repo.mkdir()
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {json.dumps(str(not_a_repo))}\n")
    proc = project.sync()
    assert proc.returncode == 1
    said = proc.stderr
    assert f"'{not_a_repo}' does not appear to be a git repository" in said, said
    assert "Could not read from remote repository." in said
    assert "Please make sure you have the correct access rights and the repository exists." in said
    logged = next(Path(os.environ["XDG_STATE_HOME"]).rglob("sync.err")).read_text()
    assert "does not appear to be a git repository" in logged and "the repository exists." in logged


def test_a_stale_copy_backed_up_before_the_vault_was_reachable_stays_behind_after_the_replay(
        tmp_path: Path) -> None:
    """B's vault could not be cloned (the remote was away), so B backed up its stale v1
    locally; once the remote is back, the push integrates A's history: v3 stays the tip."""
    w = Joined(tmp_path)
    away = w.remote.with_name("away.git")
    w.remote.rename(away)
    assert join(w.b, w.env_b).returncode == 1  # cannot clone: a local vault, backups wait
    assert w.b.sync(env=w.env_b).returncode == 1  # backed up locally (v1 too: nothing to compare)
    away.rename(w.remote)
    proc = w.b.sync(env=w.env_b)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "memory.json is behind the vault" in proc.stderr
    assert tip_content(w.remote, "memory.json") == Joined.version(3)
    assert tip_content(w.remote, "gpt4o_memories.json") == '{"only": "on machine B"}\n'
    assert tip_content(w.vault_b(), "memory.json") == Joined.version(3)
    assert w.status_b()["behind"] == ["memory.json"]
    assert w.b.run("restore", "memory.json", env=w.env_b).returncode == 0
    assert (w.b.root / "memory.json").read_text() == Joined.version(3)
    assert w.status_b()["behind"] == []


def _counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each stat cache check made in this process, by its `stop_at_change`."""
    from memvault_hooks.vault import statcache

    calls: list[bool] = []
    real = statcache.check

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(bool(kw.get("stop_at_change")))
        return real(*args, **kw)

    monkeypatch.setattr(statcache, "check", counted)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() wraps them; put them back afterwards
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    return calls


@pytest.mark.parametrize("fresh", [True, False])
def test_a_sync_that_finds_changes_looks_at_the_files_once(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                             fresh: bool) -> None:
    """The no-change check's scan serves the sync that follows (issue 12), unless the lock
    was long in coming (SCAN_FRESH): then the files are looked at again."""
    from memvault_hooks.main import main
    from memvault_hooks.vault import backup

    project.write("memory.json", json.dumps({"v": 1}))
    project.write("gpt4o_memories.json", json.dumps({"w": 1}))
    assert project.sync().returncode == 0
    time.sleep(vault_state.RACY_NS / 1e9 + 0.1)   # folders written in git's racy window are not cached
    assert project.sync().returncode == 0   # leaves the stat cache
    project.write("memory.json", json.dumps({"v": 2}))
    calls = _counted_checks(monkeypatch)
    if not fresh:
        monkeypatch.setattr(backup, "SCAN_FRESH", -1.0)
    assert main(["-C", str(project.root), "sync", "--quiet"]) == 0
    assert calls == ([False] if fresh else [False, False])
    assert json.loads(git(project.vault, "show", "HEAD:rAgentShared/memory.json")) == {"v": 2}
    assert "modified: memory.json" in project.log()[0] and "gpt4o" not in project.log()[0]
