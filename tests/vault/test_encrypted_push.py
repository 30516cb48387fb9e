"""`vault.encrypt: true` through the command line, over real bare remotes and a real `git
daemon`: nothing readable on the remote, recover with the right and a wrong passphrase, two
machines (two host names) sharing one encrypted remote, hooks and cron that never prompt, a
damaged bundle reported by verify and skipped by another machine's fetch."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from remote_support import bare_remote
from remote_support import git_daemon  # noqa: F401 -- a fixture
from remote_support import home_env
from remote_support import status
from remote_support import sync_side_by_side
from support import DATA
from support import MEMVAULT
from support import Project
from support import git
from support import make_project
from support import run_in_pty

PHRASE = "correct horse battery staple"
SECRET = "the user's dog is called Quetzalcoatl"


def encrypted_config(project: Project, remote: str | Path, vault: Path | None = None) -> str:
    return (f"version: 1\nvault:\n  path: {json.dumps(str(vault or project.vault))}\n"
            f"  remote: {json.dumps(str(remote))}\n  encrypt: true\n  timeout: 20\n")


def with_phrase(env: dict[str, str] | None = None, phrase: str = PHRASE) -> dict[str, str]:
    return dict(env or os.environ, MEMVAULT_PASSPHRASE=phrase)


def no_phrase(env: dict[str, str] | None = None) -> dict[str, str]:
    out = dict(env or os.environ)
    out.pop("MEMVAULT_PASSPHRASE", None)
    return out


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def remote_objects(remote: Path) -> bytes:
    return subprocess.run(["git", "-C", str(remote), "cat-file", "--batch-all-objects", "--batch"],
                          check=True, capture_output=True).stdout


def encrypted_project(base: Path, remote: str | Path, name: str = "a") -> Project:
    root = base / name
    root.mkdir()
    project = make_project(root)
    project.write("memory.json", json.dumps({"facts": [SECRET]}) + "\n")
    project.config(encrypted_config(project, remote))
    return project


@pytest.mark.parametrize("served", [False, True], ids=["bare", "git-daemon"])
def test_encrypted_remote_holds_no_content_name_or_subject(tmp_path: Path, served: bool,
                                                          request: pytest.FixtureRequest) -> None:
    if served:
        folder, base_url = request.getfixturevalue("git_daemon")
        remote = bare_remote(folder)
        url: str | Path = f"{base_url}/remote.git"
    else:
        remote = url = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, url)
    init = ok(project.run("init", env=with_phrase()))
    assert "set up the encrypted remote" in init.stdout
    ok(project.sync(env=no_phrase()))  # pushes need no passphrase once the key is here
    grown = json.loads((project.root / "gpt4o_memories.json").read_text())
    grown["second"] = SECRET + " twice"   # (not a shrunken file: no memory-loss alert)
    project.write("gpt4o_memories.json", json.dumps(grown) + "\n")
    ok(project.sync(env=no_phrase()))
    report = status(project)
    assert report["push_pending"] == 0 and report["ok"] is True, report
    blob = remote_objects(remote)
    assert b"bundle.age" in git(remote, "ls-tree", "-r", "--name-only", "main").encode()
    for visible in (SECRET, "Quetzalcoatl", "memory.json", "gpt4o_memories", "rAgentShared", "memvault: 20",
                    "Memvault-Host", "StackTrackr"):
        assert visible.encode() not in blob, visible
    # The host name may be short enough to occur by chance in encrypted bytes: look where it could be written.
    said = git(remote, "log", "--format=%an %ae %cn %ce %B", "main") + git(remote, "ls-tree", "-r", "--name-only", "main")
    assert os.uname().nodename not in said and "Tester" not in said
    # The local vault stays a plain git repository holding both backups.
    assert SECRET in (project.stored / "memory.json").read_text()
    assert len(project.log()) == 2
    # The key is kept locally, owner-only; the remote has no `origin` to push in clear to.
    key = project.vault / ".git" / "memvault-key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert git(project.vault, "remote").strip() == ""


def test_wrong_type_names_the_key(project: Project, tmp_path: Path) -> None:
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  encrypt: \"yes\"\n", allow=False)
    proc = project.sync()
    assert proc.returncode == 2 and "vault.encrypt" in proc.stderr and "true or false" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_encrypt_is_an_outside_setting_for_the_trust_rule(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    (project.root / ".memvault.yaml").write_text(
        encrypted_config(project, remote).replace("encrypt: true", "encrypt: false"))
    ok(project.run("allow"))
    (project.root / ".memvault.yaml").write_text(encrypted_config(project, remote))  # a pull turns it on
    proc = project.sync(env=with_phrase())
    assert proc.returncode == 2 and "vault.encrypt" in proc.stderr and "memvault allow" in proc.stderr
    assert not (project.vault / ".git").exists()


def test_encrypt_without_remote_backs_up_locally(project: Project) -> None:
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  encrypt: true\n")
    ok(project.sync(env=no_phrase()))
    report = status(project)
    assert report["ok"] is True and report["push_pending"] == 0, report
    assert len(project.log()) == 1


def test_recover_on_a_fresh_home_right_and_wrong_passphrase(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    first = encrypted_project(tmp_path, remote)
    ok(first.run("init", env=with_phrase()))
    ok(first.sync(env=no_phrase()))
    live = (first.root / "memory.json").read_text()

    env = home_env(tmp_path, "fresh")
    root = tmp_path / "fresh-project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main", env=env)
    fresh = Project(root, tmp_path / "fresh-vault")
    fresh.config(encrypted_config(fresh, remote), env=env)

    wrong = fresh.run("recover", "--from", str(remote), env=with_phrase(env, "not the passphrase"), input="")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "wrong passphrase" in wrong.stderr and "Traceback" not in wrong.stderr
    assert not fresh.vault.exists()
    assert not (root / "memory.json").exists()

    # Not a terminal, no $MEMVAULT_PASSPHRASE: it says how to give it, and writes nothing either.
    none = fresh.run("recover", "--from", str(remote), env=no_phrase(env), input="")
    assert none.returncode == 1 and "MEMVAULT_PASSPHRASE" in none.stderr, none.stderr
    assert not fresh.vault.exists()

    right = ok(fresh.run("recover", "--from", str(remote), env=with_phrase(env)))
    assert (root / "memory.json").read_text() == live
    assert (root / "gpt4o_memories.json").read_bytes() == (DATA / "gpt4o_memories.json").read_bytes()
    assert "encrypted remote" in right.stdout


def _host(name: str, env: dict[str, str]) -> list[str] | None:
    """A command prefix that runs memvault under another host name (a UTS namespace)."""
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--uts", "true"], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode != 0:
        return None
    return ["unshare", "--user", "--map-root-user", "--uts", "sh", "-c", f'hostname {name} && exec "$@"', "sh"]


def _as_host(prefix: list[str] | None, project: Project, env: dict[str, str], *args: str
             ) -> subprocess.CompletedProcess[str]:
    if prefix is None:
        return project.run(*args, env=env)
    return subprocess.run([*prefix, *MEMVAULT, *args], cwd=project.root, capture_output=True, text=True,
                          env=env, timeout=120)


def _first_machine(tmp_path: Path) -> tuple[Path, Project, dict[str, str], dict[str, str]]:
    """An encrypted remote and machine a (its own HOME) that set it up and pushed a backup:
    (the remote, a, a's environment, an environment for machine b)."""
    remote = bare_remote(tmp_path)
    env_a, env_b = home_env(tmp_path, "a"), home_env(tmp_path, "b")
    a = encrypted_project(tmp_path, remote, "a")
    a.config(encrypted_config(a, remote), env=env_a)
    ok(a.run("init", env=with_phrase(env_a)))
    ok(a.sync(env=env_a))
    return remote, a, env_a, env_b


def test_two_machines_share_one_encrypted_remote(tmp_path: Path) -> None:
    remote, a, env_a, env_b = _first_machine(tmp_path)

    b_root = tmp_path / "b"
    b_root.mkdir()
    b = make_project(b_root, files=("gpt4o_memories.json",))
    b.write("gpt4o_memories.json", json.dumps({"from": "machine b"}) + "\n")
    b.config(encrypted_config(b, remote), env=env_b)
    host_b = _host("host-b", env_b)
    joined = _as_host(host_b, b, with_phrase(env_b), "init")
    assert joined.returncode == 0, joined.stdout + joined.stderr
    assert "joined the encrypted remote" in joined.stdout
    assert "Quetzalcoatl" in (b.stored / "memory.json").read_text()  # A's backup, decrypted here
    ok(_as_host(host_b, b, no_phrase(env_b), "sync"))

    a.write("memory.json", json.dumps({"facts": [SECRET, "a newer fact"]}) + "\n")
    ok(a.sync(env=env_a))  # fetches B's bundle, replays, pushes its own
    assert json.loads((a.stored / "gpt4o_memories.json").read_text()) == {"from": "machine b"}
    hosts_a = {entry["host"] for entry in json.loads(ok(a.run("log", "--json", env=env_a)).stdout)}
    if host_b is not None:
        assert hosts_a == {os.uname().nodename, "host-b"}, hosts_a
    else:
        assert len(hosts_a) == 1

    b.write("gpt4o_memories.json", json.dumps({"from": "machine b", "again": 2}) + "\n")
    ok(_as_host(host_b, b, env_b, "sync"))
    assert "a newer fact" in (b.stored / "memory.json").read_text()  # A's second backup reached B
    entries = json.loads(ok(b.run("log", "--json", env=env_b)).stdout)
    assert {f["path"] for entry in entries for f in entry["files"]} >= {"memory.json", "gpt4o_memories.json"}
    if host_b is not None:
        assert {entry["host"] for entry in entries} == hosts_a
    assert status(a)["ok"] is True
    blob = remote_objects(remote)
    assert b"machine b" not in blob and b"host-b" not in blob and SECRET.encode() not in blob
    assert "host-b" not in git(remote, "log", "--format=%an %ae %cn %ce %B", "main")


def test_hook_and_cron_without_the_key_never_prompt_and_queue(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    # The config says encrypt, but nobody ran `memvault init` with the passphrase here.
    proc = project.run("sync", "--trigger", "cron", "--quiet", env=no_phrase(), input="", timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Passphrase" not in proc.stdout + proc.stderr  # no prompt
    assert "push queued" in proc.stderr and "memvault init" in proc.stderr
    assert len(project.log()) == 1  # the local backup was made
    assert git(remote, "for-each-ref").strip() == ""  # nothing left the machine
    report = status(project)
    assert report["ok"] is False and report["push_pending"] == 1
    assert any("push queued" in p and "memvault init" in p for p in report["problems"]), report["problems"]
    text = project.run("status").stdout
    assert "push queued" in text and "MEMVAULT_PASSPHRASE" in text

    hook = project.run("hook", "post-commit", env=no_phrase(), input="", timeout=60)
    assert hook.returncode == 0 and "Passphrase" not in hook.stdout + hook.stderr

    ok(project.run("init", env=with_phrase()))  # set up once, in a terminal or with the variable
    ok(project.sync(env=no_phrase()))
    report = status(project)
    assert report["ok"] is True and report["push_pending"] == 0, report
    assert "bundle.age" in git(remote, "ls-tree", "-r", "--name-only", "main")


def test_first_push_sets_up_with_the_passphrase_variable(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    ok(project.sync(env=with_phrase()))
    assert status(project)["push_pending"] == 0
    names = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert "README.md" in names and any(n.startswith("keys/") for n in names)
    assert any(n.endswith(".full.bundle.age") for n in names)


def test_turning_encrypt_on_after_clear_pushes_says_so_once(tmp_path: Path) -> None:
    clear = bare_remote(tmp_path, "clear.git")
    secret_remote = bare_remote(tmp_path, "encrypted.git")
    project = encrypted_project(tmp_path, secret_remote)
    project.config(encrypted_config(project, clear).replace("  encrypt: true\n", ""))
    ok(project.sync())
    project.config(encrypted_config(project, secret_remote))
    ok(project.run("init", env=with_phrase()))
    project.write("memory.json", "{\"facts\": [\"new\"]}\n")
    first = ok(project.sync(env=no_phrase()))
    assert "pushed in clear" in first.stderr and "clear.git" in first.stderr
    project.write("memory.json", "{\"facts\": [\"newer\"]}\n")
    again = ok(project.sync(env=no_phrase()))
    assert "pushed in clear" not in again.stderr  # once
    assert any("pushed in clear" in w for w in status(project)["warnings"])  # type: ignore[union-attr]


def test_same_remote_holding_the_clear_vault_is_refused(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    project.config(encrypted_config(project, remote).replace("  encrypt: true\n", ""))
    ok(project.sync())
    project.config(encrypted_config(project, remote))
    proc = project.run("init", env=with_phrase())
    assert proc.returncode == 1
    assert "plain (unencrypted) vault" in proc.stderr and "new, empty repository" in proc.stderr


def test_passphrase_for_a_plain_remote_is_ignored_with_a_note(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    project.config(encrypted_config(project, remote).replace("  encrypt: true\n", ""))
    proc = ok(project.run("init", env=with_phrase()))
    assert "MEMVAULT_PASSPHRASE is ignored" in proc.stderr
    ok(project.sync())
    assert "rAgentShared/memory.json" in git(remote, "ls-tree", "-r", "--name-only", "main")


def test_truncated_bundle_reported_by_verify_and_skipped_by_fetch(tmp_path: Path) -> None:
    remote, a, env_a, env_b = _first_machine(tmp_path)
    a.write("gpt4o_memories.json", json.dumps({"damaged": "bundle"}) + "\n")
    ok(a.sync(env=env_a))
    ok(a.run("verify", env=env_a))

    # Truncate A's second (incremental) bundle on the remote, as a broken upload would.
    work = tmp_path / "tamper"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    bundles = sorted(p for p in (work / "machines").rglob("*.bundle.age"))
    assert len(bundles) == 2 and ".full" not in bundles[-1].name
    data = bundles[-1].read_bytes()
    bundles[-1].write_bytes(data[: len(data) // 2])
    git(work, "commit", "-qam", "add bundle")
    git(work, "push", "-q", "origin", "main")

    verify = a.run("verify", "--json", env=env_a)
    assert verify.returncode == 1
    row = next(r for r in json.loads(verify.stdout)["checks"] if r["name"] == "remote")
    assert row["ok"] is False and bundles[-1].name in row["detail"], row

    b_root = tmp_path / "b"
    b_root.mkdir()
    b = make_project(b_root, files=("memory.json",))
    b.config(encrypted_config(b, remote), env=env_b)
    joined = b.run("init", env=with_phrase(env_b))
    assert joined.returncode == 0, joined.stdout + joined.stderr
    assert bundles[-1].name in joined.stderr  # reported, skipped
    assert "Quetzalcoatl" in (b.stored / "memory.json").read_text()  # the whole first bundle applied
    assert "damaged" not in (b.stored / "gpt4o_memories.json").read_text()  # the truncated one did not


def test_plain_config_never_mixes_with_an_encrypted_remote(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    a = encrypted_project(tmp_path, remote, "a")
    ok(a.run("init", env=with_phrase()))
    ok(a.sync())
    before = git(remote, "rev-parse", "main")
    b_root = tmp_path / "b"
    b_root.mkdir()
    b = make_project(b_root)
    b.config(encrypted_config(b, remote).replace("  encrypt: true\n", ""))  # encrypt forgotten
    init = b.run("init")
    assert init.returncode == 1 and "encrypted memvault remote" in init.stderr, init.stderr
    sync = b.sync()
    assert sync.returncode == 1 and "vault.encrypt: true" in sync.stderr, sync.stderr
    assert git(remote, "rev-parse", "main") == before  # nothing pushed in clear
    assert b"StackTrackr" not in remote_objects(remote)
    c_root = tmp_path / "c"
    c_root.mkdir()
    c = make_project(c_root, files=())
    c.config(encrypted_config(c, remote).replace("  encrypt: true\n", ""))
    recover = c.run("recover", "--from", str(remote))
    assert recover.returncode == 1 and "encrypted memvault remote" in recover.stderr, recover.stderr
    assert not c.vault.exists() and not (c.root / "memory.json").exists()


def test_turning_encrypt_off_needs_allow_again(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    ok(project.run("init", env=with_phrase()))
    (project.root / ".memvault.yaml").write_text(encrypted_config(project, remote).replace("  encrypt: true\n", ""))
    proc = project.sync()
    assert proc.returncode == 2 and "changed vault.encrypt" in proc.stderr, proc.stderr
    assert "rAgentShared" not in git(remote, "ls-tree", "-r", "--name-only", "main")


def test_init_encrypt_flag_writes_the_key_and_sets_up(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    root = tmp_path / "p"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "memory.json").write_text(json.dumps({"facts": [SECRET]}) + "\n")
    project = Project(root, tmp_path / "unused")
    proc = ok(project.run("init", "--remote", str(remote), "--encrypt", env=with_phrase()))
    assert "set up the encrypted remote" in proc.stdout
    text = (root / ".memvault.yaml").read_text()
    assert "encrypt: true" in text
    ok(project.sync(env=no_phrase()))
    assert SECRET.encode() not in remote_objects(remote)
    assert len(git(remote, "ls-tree", "-r", "--name-only", "main").split()) == 3  # README, key, one bundle


def test_init_joining_with_a_wrong_passphrase_writes_nothing(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    a = encrypted_project(tmp_path, remote, "a")
    ok(a.run("init", env=with_phrase()))
    ok(a.sync())
    env_b = home_env(tmp_path, "b")
    root = tmp_path / "b"
    root.mkdir()
    git(root, "init", "-q", "-b", "main", env=env_b)
    b = Project(root, tmp_path / "b-vault")
    proc = b.run("init", "--remote", str(remote), "--encrypt", "--vault", str(b.vault),
                 env=with_phrase(env_b, "wrong"), input="")
    assert proc.returncode == 1 and "wrong passphrase" in proc.stderr, proc.stdout + proc.stderr
    assert not b.vault.exists() and not (root / ".memvault.yaml").exists()
    ok(b.run("init", "--remote", str(remote), "--encrypt", "--vault", str(b.vault), env=with_phrase(env_b)))
    assert "Quetzalcoatl" in (b.stored / "memory.json").read_text()


def test_passphrase_typed_at_a_terminal_once(tmp_path: Path) -> None:
    """recover on a terminal asks once (getpass), and the typed passphrase opens the key."""
    remote = bare_remote(tmp_path)
    a = encrypted_project(tmp_path, remote, "a")
    ok(a.run("init", env=with_phrase()))
    ok(a.sync())
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    fresh = Project(root, tmp_path / "fresh-vault")
    fresh.config(encrypted_config(fresh, remote))
    out = run_in_pty([*MEMVAULT, "recover", "--from", str(remote)], [(PHRASE + "\n").encode()], no_phrase(), cwd=root)
    assert out.count(b"Passphrase") == 1
    assert "Quetzalcoatl" in (root / "memory.json").read_text()


def test_two_machines_in_parallel_converge(tmp_path: Path) -> None:
    """Six syncs each at once: every push lands (no machine overwrites another's folder),
    and after one more round each, both vaults hold both machines' latest backups."""
    import time

    remote = bare_remote(tmp_path)
    a = encrypted_project(tmp_path, remote, "a")
    ok(a.run("init", env=with_phrase()))
    b_root = tmp_path / "b"
    b_root.mkdir()
    b = make_project(b_root)
    b.config(encrypted_config(b, remote))
    ok(b.run("init", env=with_phrase()))
    sync_side_by_side(a, b, 6, newline="\n")
    time.sleep(1.1)
    for name, project, rel, last in (("a", a, "memory.json", "next to last"), ("b", b, "gpt4o_memories.json", "last"),
                                     ("a", a, "memory.json", "last")):
        project.write(rel, json.dumps({"machine": name, "round": last}) + "\n")
        ok(project.sync())
    ok(b.sync("--trigger", "cron"))  # nothing new on B: it learns A's last backup at its next push
    for project in (a, b):
        assert json.loads((project.stored / "memory.json").read_text())["machine"] == "a"
        assert json.loads((project.stored / "gpt4o_memories.json").read_text()) == \
            {"machine": "b", "round": "last"}
        assert status(project)["push_pending"] == 0
    assert json.loads((a.stored / "memory.json").read_text())["round"] == "last"
    ok(a.run("verify", env=no_phrase()))


def test_remote_away_keeps_the_backlog_and_the_next_sync_pushes_it(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    ok(project.run("init", env=with_phrase()))
    ok(project.sync())
    away = tmp_path / "away.git"
    remote.rename(away)
    project.write("memory.json", "{\"facts\": [\"while offline\"]}\n")
    proc = project.sync()
    assert proc.returncode == 1 and "(encrypted) failed" in proc.stderr and "kept in the vault" in proc.stderr
    assert status(project)["push_pending"] == 1
    away.rename(remote)
    ok(project.sync())  # nothing new to commit: the backlog alone is pushed
    assert status(project)["push_pending"] == 0
    assert len([n for n in git(remote, "ls-tree", "-r", "--name-only", "main").split() if n.endswith(".age")
                and n.startswith("machines/")]) == 2


def test_a_new_encrypted_remote_is_set_up_anew_with_the_same_key(tmp_path: Path) -> None:
    first = bare_remote(tmp_path, "first.git")
    second = bare_remote(tmp_path, "second.git")
    project = encrypted_project(tmp_path, first)
    ok(project.run("init", env=with_phrase()))
    ok(project.sync())
    key = (project.vault / ".git" / "memvault-key").read_text()
    project.config(encrypted_config(project, second))
    project.write("memory.json", "{\"facts\": [\"for the second remote\"]}\n")
    queued = project.sync(env=no_phrase())
    assert queued.returncode == 1 and "push queued" in queued.stderr  # never sent with the first remote's clone
    assert git(second, "for-each-ref").strip() == ""
    ok(project.run("init", env=with_phrase()))
    ok(project.sync(env=no_phrase()))
    assert (project.vault / ".git" / "memvault-key").read_text() == key
    names = git(second, "ls-tree", "-r", "--name-only", "main").split()
    assert any(n.endswith(".full.bundle.age") for n in names)
    assert status(project)["push_pending"] == 0


def test_a_secret_is_pushed_encrypted_not_held(tmp_path: Path) -> None:
    from secret_samples import AWS
    from secret_samples import GITHUB

    remote = bare_remote(tmp_path)
    project = encrypted_project(tmp_path, remote)
    ok(project.run("init", env=with_phrase()))
    project.write("memory.json", json.dumps({"notes": [f"aws {AWS}"], "tok": GITHUB}) + "\n")
    proc = ok(project.sync())  # with an encrypted remote a finding holds nothing
    assert AWS not in proc.stdout + proc.stderr and GITHUB not in proc.stdout + proc.stderr
    report = status(project)
    assert report["push_pending"] == 0 and report["ok"] is True, report
    assert {s["kind"] for s in report["secrets"]} >= {"aws-access-key", "github-token"}  # type: ignore[union-attr]
    blob = remote_objects(remote)
    assert AWS.encode() not in blob and GITHUB.encode() not in blob
    assert any(n.endswith(".full.bundle.age") for n in git(remote, "ls-tree", "-r", "--name-only", "main").split())
