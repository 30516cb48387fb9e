from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import yaml

from remote_support import Joined
from remote_support import bare_remote
from remote_support import git_daemon  # noqa: F401  (fixture)
from remote_support import join
from remote_support import machine
from remote_support import status
from remote_support import tip_content
from support import Project
from support import git
from support import make_project
from support import memvault


def test_init_writes_config_and_creates_private_vault(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    git(project, "init", "-q")
    vault = tmp_path / "my-vault"
    proc = memvault("init", "--vault", str(vault), cwd=project)
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((project / ".memvault.yaml").read_text())
    assert data["version"] == 1
    assert data["vault"]["path"] == str(vault)
    assert data["vault"]["subdir"] == "rAgentShared"
    assert "memory.json" in data["files"]
    assert (vault / ".git").is_dir()
    assert stat.S_IMODE(vault.stat().st_mode) == 0o700
    hooks = vault / ".git" / "hooks"
    assert not hooks.exists() or not any(hooks.iterdir())
    assert git(vault, "symbolic-ref", "HEAD").strip() == "refs/heads/main"


def test_init_keeps_an_existing_config(project: Project) -> None:
    before = (project.root / ".memvault.yaml").read_text()
    proc = project.run("init", "--vault", "/elsewhere")
    assert proc.returncode == 0
    assert "keeping" in proc.stdout
    assert (project.root / ".memvault.yaml").read_text() == before
    assert (project.vault / ".git").is_dir()


def test_init_says_how_to_add_a_remote_to_an_existing_config(project: Project, tmp_path: Path) -> None:
    """After the quick start the file exists: `init --remote` names the key to set and `allow`."""
    before = (project.root / ".memvault.yaml").read_text()
    remote = tmp_path / "remote.git"
    proc = project.run("init", "--remote", str(remote))
    assert proc.returncode == 0, proc.stderr
    assert f"--remote is ignored because {project.root / '.memvault.yaml'} exists" in proc.stdout
    assert f"set `vault.remote: {remote}` in it, then run `memvault allow`" in proc.stdout
    assert (project.root / ".memvault.yaml").read_text() == before


def test_init_warns_when_the_remote_url_holds_a_credential(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    proc = memvault("init", "--vault", str(tmp_path / "v"), "--remote", "https://alice:s3cret@127.0.0.1:9/x.git",
                    cwd=project)
    assert "holds a credential" in proc.stderr and "ssh key or a git credential helper" in proc.stderr
    assert "s3cret" not in proc.stdout + proc.stderr
    other = tmp_path / "other"
    other.mkdir()
    proc = memvault("init", "--vault", str(tmp_path / "w"), "--remote", "https://127.0.0.1:9/y.git", cwd=other)
    assert "credential" not in proc.stderr


def test_init_records_remote(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    proc = memvault("init", "--vault", str(tmp_path / "v"), "--remote", str(remote), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((project / ".memvault.yaml").read_text())["vault"]["remote"] == str(remote)
    assert git(tmp_path / "v", "remote", "get-url", "origin").strip() == str(remote)


def test_default_template_is_valid_and_vault_outside_project(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    proc = memvault("init", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert memvault("sync", cwd=project).returncode == 0
    vault_line = [line for line in proc.stdout.splitlines() if "vault ready at" in line][0]
    vault = Path(vault_line.split("vault ready at ")[1])
    assert not str(vault).startswith(str(project))


def _shared_vault(tmp_path: Path) -> tuple[Path, Project]:
    """A bare remote holding machine a's vault (one backup)."""
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    a.write("memory.json", '{"from": "a"}')
    assert a.sync().returncode == 0
    return origin, a


def test_init_remote_clones_an_existing_vault(tmp_path: Path) -> None:
    origin, a = _shared_vault(tmp_path)
    base = tmp_path / "b"
    base.mkdir()
    b = make_project(base, ("gpt4o_memories.json",))
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", str(origin))
    assert proc.returncode == 0, proc.stderr
    assert "cloned the vault" in proc.stdout
    assert git(b.vault, "rev-parse", "HEAD") == git(a.vault, "rev-parse", "HEAD")
    assert (b.stored / "memory.json").read_text() == '{"from": "a"}'
    b.write("gpt4o_memories.json", '{"from": "b"}')
    assert b.sync().returncode == 0  # a fast-forward push on top of a's backups
    assert tip_content(origin, "memory.json") == '{"from": "a"}'
    assert tip_content(origin, "gpt4o_memories.json") == '{"from": "b"}'
    assert git(origin, "rev-list", "--count", "main").strip() == "2"


def test_init_remote_with_empty_remote_creates_local_vault(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    b = make_project(tmp_path)
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", str(origin))
    assert proc.returncode == 0, proc.stderr
    assert "holds no vault yet" in proc.stdout
    assert git(b.vault, "remote", "get-url", "origin").strip() == str(origin)
    assert b.sync().returncode == 0
    assert git(origin, "rev-parse", "main") == git(b.vault, "rev-parse", "HEAD")


def test_init_remote_unreachable_keeps_a_local_vault_and_exits_1(tmp_path: Path) -> None:
    url = str(tmp_path / "not-yet.git")
    b = make_project(tmp_path)
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cannot clone the vault" in proc.stderr and "created a local vault" in proc.stderr
    assert git(b.vault, "remote", "get-url", "origin").strip() == url
    assert b.sync().returncode == 1  # backed up locally; the push waits
    assert status(b)["push_pending"] == 1
    bare_remote(tmp_path, "not-yet.git")
    assert b.sync().returncode == 0
    assert status(b)["push_pending"] == 0


def test_init_remote_over_git_daemon(tmp_path: Path, git_daemon: tuple[Path, str]) -> None:  # noqa: F811
    served, base_url = git_daemon
    bare_remote(served, "vault.git")
    url = f"{base_url}/vault.git"
    a = machine(tmp_path, "a", url)
    assert a.sync().returncode == 0
    base = tmp_path / "b"
    base.mkdir()
    b = make_project(base, ("gpt4o_memories.json",))
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", url)
    assert proc.returncode == 0, proc.stderr
    assert "cloned the vault" in proc.stdout
    assert (b.stored / "memory.json").read_bytes() == (a.root / "memory.json").read_bytes()


def test_fresh_project_with_jsonl_and_md_only_is_listed_backed_up_and_ok(tmp_path: Path) -> None:
    """Only memory.jsonl and MEMORY.md: init names both, sync backs them up, status is ok."""
    project = tmp_path / "proj"
    project.mkdir()
    git(project, "init", "-q")
    (project / "memory.jsonl").write_text('{"type": "entity", "name": "tea"}\n')
    (project / "MEMORY.md").write_text("# Memory\n- likes tea\n")
    proc = memvault("init", "--vault", str(tmp_path / "v"), cwd=project)
    assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split("will back up 2 files", 1)[1].split("next steps:", 1)[0]
    assert "  memory.jsonl" in listed and "  MEMORY.md" in listed
    for trigger in ("memvault install-hooks", "memvault cron install", "pre-commit"):
        assert trigger in proc.stdout.split("next steps:", 1)[1]
    proc = memvault("sync", cwd=project)
    assert proc.returncode == 0, proc.stderr
    stored = tmp_path / "v" / "rAgentShared"
    assert (stored / "memory.jsonl").read_text() == (project / "memory.jsonl").read_text()
    assert (stored / "MEMORY.md").read_text() == (project / "MEMORY.md").read_text()
    proc = memvault("status", "--json", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["ok"] is True


def test_init_and_sync_with_no_memory_file_say_what_was_looked_for(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    git(project, "init", "-q")
    proc = memvault("init", "--vault", str(tmp_path / "v"), cwd=project)
    assert proc.returncode == 0, proc.stderr
    config_file = str(project / ".memvault.yaml")
    for out in (proc.stdout, memvault("sync", cwd=project).stdout, memvault("sync", cwd=project).stdout):
        assert "no memory file found in " + str(project) in out
        assert "memory.json, " in out and "MEMORY.md" in out
        assert f"under `files` in {config_file}" in out


def test_init_that_clones_names_the_files_behind_the_vault(tmp_path: Path) -> None:
    w = Joined(tmp_path)
    w.b.write("gpt4o_memories.json", '{"new": "content the vault never saw"}\n')
    proc = join(w.b, w.env_b)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cloned the vault" in proc.stdout
    behind_lines = [line for line in proc.stdout.splitlines() if "behind the vault" in line]
    assert len(behind_lines) == 1 and behind_lines[0].startswith("memvault: memory.json is behind"), proc.stdout
    assert "gpt4o_memories.json" not in behind_lines[0]  # never seen: backed up as usual, not behind
    assert "memvault restore memory.json" in behind_lines[0]


def test_init_writes_a_failed_clone_with_git_words_to_the_error_log(tmp_path: Path) -> None:
    from memvault_hooks import config

    url = str(tmp_path / "not-a-repo.git")
    b = make_project(tmp_path)
    (b.root / ".memvault.yaml").unlink()
    proc = b.run("init", "--vault", str(b.vault), "--remote", url)
    assert proc.returncode == 1
    assert f"repository '{url}' does not exist" in proc.stderr, proc.stderr
    logged = Path(config.from_args(str(b.root), None).error_log).read_text()
    assert "init: cannot clone the vault" in logged and "does not exist" in logged


def _agent_project(tmp_path: Path) -> Path:
    """A project where Claude Code, Cursor and Cline keep their memory."""
    root = tmp_path / "agents"
    root.mkdir()
    git(root, "init", "-q")
    (root / "CLAUDE.md").write_text("# project rules\n")
    (root / ".cursor" / "rules").mkdir(parents=True)
    (root / ".cursor" / "rules" / "a.mdc").write_text("---\ndescription: a\n---\nuse tabs\n")
    (root / "memory-bank").mkdir()
    (root / "memory-bank" / "x.md").write_text("# progress\n")
    (root / "notes.md").write_text("not a memory file\n")
    return root


def test_init_detects_presets_writes_them_and_prints_every_file(tmp_path: Path, isolated_home: Path) -> None:
    root = _agent_project(tmp_path)
    outside = isolated_home / ".claude" / "projects" / re.sub(r"[^A-Za-z0-9]", "-", str(root)) / "memory"
    outside.mkdir(parents=True)
    (outside / "MEMORY.md").write_text("# auto memory\n")
    vault = tmp_path / "vault"
    proc = memvault("init", "--vault", str(vault), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((root / ".memvault.yaml").read_text())["presets"] == ["claude-code", "cline", "cursor"]
    listed = proc.stdout.split("will back up 4 files")[1].split("\nmemvault:")[0].splitlines()
    assert [line.split()[0] for line in listed[1:5]] == [".cursor/rules/a.mdc", "CLAUDE.md", "memory-bank/x.md",
                                                        "@claude-code/MEMORY.md"]
    # Claude Code's folder outside the project (named by the slug rule) is named with its path,
    # and init allowed what it wrote.
    assert f"@claude-code/MEMORY.md  ({outside / 'MEMORY.md'})" in proc.stdout
    assert "presets.claude-code" in proc.stdout and "NOT backed up" not in proc.stdout

    sync = memvault("sync", cwd=root)
    assert sync.returncode == 0, sync.stderr
    stored = vault / "rAgentShared"
    assert (stored / "CLAUDE.md").read_text() == "# project rules\n"
    assert (stored / ".cursor" / "rules" / "a.mdc").read_text().endswith("use tabs\n")
    assert (stored / "memory-bank" / "x.md").read_text() == "# progress\n"
    assert (stored / "@claude-code" / "MEMORY.md").read_text() == "# auto memory\n"
    assert not (stored / "notes.md").exists()
    log = json.loads(memvault("log", "--json", cwd=root).stdout)
    assert [f["path"] for f in log[0]["files"]] == [".cursor/rules/a.mdc", "@claude-code/MEMORY.md", "CLAUDE.md",
                                                    "memory-bank/x.md"]
    assert len(json.loads(memvault("log", ".cursor/rules/a.mdc", "--json", cwd=root).stdout)) == 1

    (root / "memory-bank" / "x.md").write_text("")  # an agent wiped it
    (outside / "MEMORY.md").write_text("# auto memory\n- edited\n")
    status = json.loads(memvault("status", "--json", cwd=root).stdout)
    assert sorted(status["changed"]) == ["@claude-code/MEMORY.md", "memory-bank/x.md"]
    restored = memvault("restore", "memory-bank/x.md", "@claude-code/MEMORY.md", cwd=root)
    assert restored.returncode == 0, restored.stderr
    assert (root / "memory-bank" / "x.md").read_text() == "# progress\n"
    assert (outside / "MEMORY.md").read_text() == "# auto memory\n"  # restored by its stored name
    shown = memvault("show", "@claude-code/MEMORY.md", "--rev", log[0]["rev"], cwd=root)
    assert shown.returncode == 0 and shown.stdout == "# auto memory\n", shown.stderr

    allow = memvault("allow", cwd=root)
    assert allow.returncode == 0 and "already allowed" in allow.stdout, allow.stdout
    assert f"read **/*.md from {outside}" in allow.stdout


def test_init_without_agent_files_writes_no_presets(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    proc = memvault("init", "--vault", str(tmp_path / "v"), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((root / ".memvault.yaml").read_text())["presets"] == []
    assert "NOT backed up" not in proc.stdout
