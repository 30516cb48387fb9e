from __future__ import annotations

import json
from pathlib import Path

from remote_support import Joined
from remote_support import join
from remote_support import tip_content
from support import Project
from support import git
from vault_support import commit_time
from vault_support import make_versions
from vault_support import memory
from vault_support import ok
from vault_support import revs


def _bare_remote(project: Project, tmp_path: Path) -> Path:
    """A local bare repository, filled by pushing the project's vault to it."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project.vault, "push", "-q", str(remote), "main")
    return remote


def _fresh(tmp_path: Path, name: str = "fresh") -> Project:
    """An empty project on a 'fresh machine': a git repo, a config, no memory files, no vault."""
    root = tmp_path / name
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    fresh = Project(root, tmp_path / f"{name}-vault")
    fresh.config(f"version: 1\nvault:\n  path: {fresh.vault}\n")
    return fresh


def test_recover_into_an_empty_project_from_a_bare_remote(project: Project, tmp_path: Path) -> None:
    make_versions(project, 3)
    remote = _bare_remote(project, tmp_path)
    fresh = _fresh(tmp_path)
    out = ok(fresh.run("recover", "--from", str(remote))).stdout
    assert "cloned the vault" in out
    for name in ("memory.json", "gpt4o_memories.json"):
        assert (fresh.root / name).read_bytes() == (project.stored / name).read_bytes()
    assert revs(fresh)[-3:] == revs(project)[-3:]  # the whole history came along
    assert git(fresh.vault, "config", "remote.origin.url").strip() == str(remote)
    assert (fresh.vault.stat().st_mode & 0o777) == 0o700
    assert git(fresh.vault, "status", "--porcelain") == ""
    # the recovered project is a working memvault project
    report = json.loads(fresh.run("status", "--json").stdout)
    assert report["ok"] is True and report["changed"] == []
    assert json.loads(ok(fresh.run("verify", "--json")).stdout)["ok"] is True


def test_recover_at_a_time_with_a_relative_url(project: Project, tmp_path: Path) -> None:
    made = make_versions(project, 2, spaced=True)
    _bare_remote(project, tmp_path)
    fresh = _fresh(tmp_path)
    ok(fresh.run("recover", "--from", "../remote.git", "--at", f"@{commit_time(project, made[0])}"))
    assert (fresh.root / "memory.json").read_text() == memory(0)


def test_recover_backs_up_live_files_first(project: Project, tmp_path: Path) -> None:
    make_versions(project, 1)
    remote = _bare_remote(project, tmp_path)
    fresh = _fresh(tmp_path)
    fresh.write("memory.json", '{"written on the new machine": 1}')
    ok(fresh.run("recover", "--from", str(remote)))
    assert (fresh.root / "memory.json").read_text() == memory(0)
    log = json.loads(ok(fresh.run("log", "--json")).stdout)
    assert [e["trigger"] for e in log[:2]] == ["recover", "pre-restore"]
    shown = ok(fresh.run("show", "memory.json", "--rev", log[1]["rev"])).stdout
    assert shown == '{"written on the new machine": 1}'


def test_recover_again_reuses_the_clone_and_replaces_an_empty_vault(project: Project, tmp_path: Path) -> None:
    make_versions(project, 1)
    remote = _bare_remote(project, tmp_path)
    fresh = _fresh(tmp_path)
    ok(fresh.run("init"))  # an empty vault made first: nothing to lose, so it is replaced
    assert (fresh.vault / ".git").is_dir() and not git(fresh.vault, "for-each-ref")
    ok(fresh.run("recover", "--from", str(remote)))
    assert (fresh.root / "memory.json").read_text() == memory(0)
    out = ok(fresh.run("recover", "--from", str(remote))).stdout
    assert "already cloned" in out


def test_recover_refuses_a_place_that_is_something_else(project: Project, tmp_path: Path) -> None:
    make_versions(project, 1)
    remote = _bare_remote(project, tmp_path)
    fresh = _fresh(tmp_path)
    # another repository with history
    other = _fresh(tmp_path, "other")
    other.write("memory.json", "{}")
    ok(other.sync())
    fresh.config(f"version: 1\nvault:\n  path: {other.vault}\n")
    before = revs(other)
    proc = fresh.run("recover", "--from", str(remote))
    assert proc.returncode == 1 and "already a git repository" in proc.stderr and "Traceback" not in proc.stderr
    assert revs(other) == before and not (fresh.root / "memory.json").exists()
    # a folder with other files
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"meow")
    fresh.config(f"version: 1\nvault:\n  path: {folder}\n")
    proc = fresh.run("recover", "--from", str(remote))
    assert proc.returncode == 1 and "not a vault" in proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["cat.jpg"]


def test_recover_failures(project: Project, tmp_path: Path) -> None:
    fresh = _fresh(tmp_path)
    proc = fresh.run("recover", "--from", str(tmp_path / "no-such-remote"))
    assert proc.returncode == 1 and "cannot clone" in proc.stderr and "Traceback" not in proc.stderr
    assert not fresh.vault.exists()
    assert [p.name for p in tmp_path.iterdir() if "clone" in p.name] == []
    for args in (("--from", ""), ("--from", "-x"), ("--from", "x", "--at", "eventually"), ()):
        proc = fresh.run("recover", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not fresh.vault.exists() and not (fresh.root / "memory.json").exists()


def test_recover_from_an_empty_remote_has_nothing(tmp_path: Path) -> None:
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    fresh = _fresh(tmp_path)
    proc = fresh.run("recover", "--from", str(remote))
    assert proc.returncode == 1 and "no backup yet" in proc.stderr


def test_recover_from_an_empty_remote_leaves_no_vault_and_says_what_to_do(tmp_path: Path) -> None:
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    fresh = _fresh(tmp_path)
    proc = fresh.run("recover", "--from", str(remote))
    assert proc.returncode == 1
    assert "holds no backup yet" in proc.stderr and "nothing to recover" in proc.stderr
    assert (f"set vault.remote: {remote} in {fresh.root / '.memvault.yaml'}, run `memvault allow`, "
            "then run `memvault sync`") in proc.stderr
    assert not fresh.vault.exists()  # no vault whose origin differs from the configuration
    # With vault.remote already naming it, the advice is the sync alone.
    fresh.config(f"version: 1\nvault:\n  path: {fresh.vault}\n  remote: {json.dumps(str(remote))}\n")
    proc = fresh.run("recover", "--from", str(remote))
    assert proc.returncode == 1 and "set vault.remote" not in proc.stderr
    assert "run `memvault sync`" in proc.stderr


def test_recover_names_the_origin_of_a_vault_it_did_not_clone(project: Project, tmp_path: Path) -> None:
    make_versions(project, 1)
    git(project.vault, "remote", "add", "origin", str(tmp_path / "elsewhere.git"))
    proc = project.run("recover", "--from", str(tmp_path / "other.git"))
    assert proc.returncode == 1
    assert f"its origin is {tmp_path / 'elsewhere.git'}" in proc.stderr and "cloned from" not in proc.stderr


def test_a_failed_clone_keeps_git_and_ssh_words_and_is_logged(tmp_path: Path) -> None:
    fresh = _fresh(tmp_path)
    proc = fresh.run("recover", "--from", "ssh://nohost.invalid/x.git")
    assert proc.returncode == 1
    said = proc.stderr
    assert "ssh: Could not resolve hostname nohost.invalid" in said, said
    assert "fatal: Could not read from remote repository." in said
    assert "Please make sure you have the correct access rights and the repository exists." in said
    logged = _error_log(fresh)
    assert "recover --from ssh://nohost.invalid/x.git" in logged and "Could not resolve hostname" in logged
    proc = fresh.run("recover", "--from", str(tmp_path / "no-such.git"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    assert "no-such.git" in _error_log(fresh)


def test_recover_on_a_machine_with_a_behind_file_brings_the_newest(tmp_path: Path) -> None:
    w = Joined(tmp_path)
    assert join(w.b, w.env_b).returncode == 0
    assert w.b.sync(env=w.env_b).returncode == 0
    proc = w.b.run("recover", "--from", str(w.remote), env=w.env_b)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "using the vault already cloned" in proc.stdout
    assert "already as in that backup" not in proc.stdout
    assert (w.b.root / "memory.json").read_text() == Joined.version(3)
    assert tip_content(w.remote, "memory.json") == Joined.version(3)
    assert w.status_b()["behind"] == []


def _error_log(project: Project) -> str:
    from memvault_hooks import config

    path = Path(config.from_args(str(project.root), None).error_log)
    return path.read_text() if path.exists() else ""


def test_recover_from_an_empty_remote_without_a_config_says_init_remote(tmp_path: Path) -> None:
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    fresh = _fresh(tmp_path)
    (fresh.root / ".memvault.yaml").unlink()
    proc = fresh.run("recover", "--from", str(remote))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"run `memvault init --remote {remote}`, then run `memvault sync`" in proc.stderr


def test_recover_from_an_unreachable_remote_names_the_next_command(tmp_path: Path) -> None:
    fresh = _fresh(tmp_path)
    url = "https://127.0.0.1:9/x.git"
    proc = fresh.run("recover", "--from", url)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot clone the vault from" in proc.stderr and "Failed to connect" in proc.stderr
    assert f"`git ls-remote -- {url}`), then run `memvault recover --from {url}` again" in proc.stderr
    assert not fresh.vault.exists()
