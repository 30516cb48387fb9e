"""The encrypted transport over real bare repositories: nothing readable on the remote, two
machines see each other's commits, a wrong passphrase writes nothing, a damaged bundle is
skipped and reported, and the README's by-hand steps (age CLI + git) give the history back."""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from memvault_hooks.vault import crypt
from memvault_hooks.vault import encrypted_remote
from memvault_hooks.vault.encrypted_remote import EncryptedRemote
from support import run_in_pty

PHRASE = "a long enough passphrase"
SECRET_CONTENT = "the user prefers tabs over spaces"
FILE_NAME = "memory-of-project-zebra.json"
SUBJECT = "backup from host-alpha"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def make_vault(root: Path, name: str) -> Path:
    vault = root / name
    vault.mkdir()
    git(vault, "init", "-q", "-b", "main")
    return vault


def commit(vault: Path, name: str, content: str, subject: str) -> str:
    (vault / name).write_text(content)
    git(vault, "add", "-A")
    git(vault, "commit", "-q", "-m", subject)
    return git(vault, "rev-parse", "HEAD")


def bare(root: Path) -> Path:
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", str(remote))
    return remote


def remote_objects(remote: Path) -> bytes:
    return subprocess.run(["git", "-C", str(remote), "cat-file", "--batch-all-objects", "--batch"],
                          check=True, capture_output=True).stdout


def machine(vault: Path, remote: Path) -> EncryptedRemote:
    return EncryptedRemote(str(vault / ".git"), str(remote))


def test_remote_holds_nothing_readable(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    vault = make_vault(tmp_path, "a")
    commit(vault, FILE_NAME, SECRET_CONTENT, SUBJECT)
    a = machine(vault, remote)
    a.setup(PHRASE)
    assert stat.S_IMODE(os.stat(a.key_file).st_mode) == 0o600
    first = a.push("main")
    assert first is not None and first.endswith(".full.bundle.age")
    commit(vault, "second-" + FILE_NAME, SECRET_CONTENT + " again", SUBJECT + " 2")
    second = a.push("main")
    assert second is not None and second.endswith(".bundle.age") and ".full" not in second
    assert a.push("main") is None  # nothing new: nothing sent
    blob = remote_objects(remote)
    for visible in (SECRET_CONTENT, FILE_NAME, SUBJECT, "host-alpha", "Tester", "tester@example"):
        assert visible.encode() not in blob
    host = os.uname().nodename
    commits = [line for line in blob.split(b"\n") if line.startswith((b"author ", b"committer "))]
    assert commits and not any(host.encode() in line for line in commits)
    log = git(remote, "log", "--format=%s|%an|%ae", "main").splitlines()
    assert log == ["add bundle|memvault|memvault@localhost"] * 2 + ["add key|memvault|memvault@localhost"]
    files = git(remote, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "README.md" in files
    assert all(re.fullmatch(r"README\.md|keys/[0-9a-f]{16}\.age|machines/[0-9a-f]{16}/[0-9]{8}(\.full)?\.bundle\.age", f)
               for f in files), files


def test_two_machines_see_each_others_commits(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    va, vb = make_vault(tmp_path, "a"), make_vault(tmp_path, "b")
    a_commit = commit(va, "m.json", '{"from": "a"}', "a1")
    a = machine(va, remote)
    a.setup(PHRASE)
    a.push("main")
    b = machine(vb, remote)
    b.join(PHRASE)
    assert crypt.load_key(b.key_file) == crypt.load_key(a.key_file)
    got = b.fetch()
    assert len(got.applied) == 1 and got.skipped == []
    (ref,) = got.refs
    assert git(vb, "rev-parse", ref) == a_commit
    # B builds on A's history (the caller's replay), and pushes its own
    git(vb, "reset", "-q", "--hard", a_commit)
    b_commit = commit(vb, "m.json", '{"from": "b"}', "b1")
    sent = b.push("main")
    assert sent is not None
    got = a.fetch()
    assert got.skipped == [] and len(got.applied) == 1
    assert git(va, "rev-parse", got.refs[0]) == b_commit
    assert b.fetch().applied == []  # nothing new from A: nothing applied twice
    # A pushes again on top of B's work: an incremental bundle B applies
    git(va, "merge", "-q", "--ff-only", b_commit)
    a2 = commit(va, "m.json", '{"from": "a", "again": 1}', "a2")
    assert ".full" not in (a.push("main") or "")
    got = b.fetch()
    assert git(vb, "rev-parse", got.refs[0]) == a2


def test_wrong_passphrase_exits_with_an_error_and_writes_nothing(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    va, vb = make_vault(tmp_path, "a"), make_vault(tmp_path, "b")
    commit(va, "m.json", "{}", "a1")
    a = machine(va, remote)
    a.setup(PHRASE)
    a.push("main")
    before = sorted(p.name for p in (vb / ".git").iterdir())
    b = machine(vb, remote)
    with pytest.raises(crypt.WrongPassphrase) as exc:
        b.join("not the passphrase")
    assert exc.value.exit_code == 1 and "wrong passphrase" in str(exc.value)
    assert sorted(p.name for p in (vb / ".git").iterdir()) == before
    with pytest.raises(encrypted_remote.RemoteError, match="already holds a vault key"):
        b.setup("another passphrase")  # never a second key on one remote
    assert sorted(p.name for p in (vb / ".git").iterdir()) == before


def test_a_damaged_bundle_is_skipped_and_reported(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    va, vb, vc = (make_vault(tmp_path, n) for n in "abc")
    a_commit = commit(va, "a.json", "{}", "a1")
    a = machine(va, remote)
    a.setup(PHRASE)
    a.push("main")
    c = machine(vc, remote)
    c.join(PHRASE)
    commit(vc, "c.json", "{}", "c1")
    damaged = c.push("main")
    assert damaged is not None
    damage(tmp_path, remote, damaged)
    b = machine(vb, remote)
    b.join(PHRASE)
    got = b.fetch()
    assert [name for name, _ in got.skipped] == [damaged]
    assert "could not decrypt" in got.skipped[0][1]
    assert len(got.applied) == 1 and git(vb, "rev-parse", got.refs[0]) == a_commit
    problems = b.verify()
    assert len(problems) == 1 and problems[0].startswith(damaged)


@pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed (.ci/run installs Debian's age)")
def test_decrypt_by_hand_with_age_and_git_following_the_readme(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    vault = make_vault(tmp_path, "a")
    commit(vault, FILE_NAME, SECRET_CONTENT, SUBJECT)
    a = machine(vault, remote)
    a.setup(PHRASE)
    a.push("main")
    tip = commit(vault, FILE_NAME, SECRET_CONTENT + "!", SUBJECT + " 2")
    a.push("main")
    here = tmp_path / "by-hand"
    git(tmp_path, "clone", "-q", str(remote), str(here))
    readme = (here / "README.md").read_text()
    assert "age -d -o vault-key.txt keys/<id>.age" in readme
    (key_file,) = (here / "keys").iterdir()
    run_in_pty(["age", "-d", "-o", str(here / "vault-key.txt"), str(key_file)], [PHRASE.encode() + b"\n"],
                dict(os.environ))
    git(here, "init", "-q", "vault")
    (folder,) = (here / "machines").iterdir()
    for n, bundle in enumerate(sorted(folder.iterdir())):
        plain = here / f"{n}.bundle"
        subprocess.run(["age", "-d", "-i", str(here / "vault-key.txt"), "-o", str(plain), str(bundle)],
                       check=True, timeout=60)
        git(here / "vault", "fetch", "-q", str(plain), f"refs/heads/*:refs/remotes/{folder.name}/*")
    assert git(here / "vault", "rev-parse", f"refs/remotes/{folder.name}/main") == tip
    assert git(here / "vault", "show", f"{tip}:{FILE_NAME}") == SECRET_CONTENT + "!"


def damage(tmp_path: Path, remote: Path, rel: str) -> None:
    """Truncate one file on the remote, as a broken upload would."""
    work = tmp_path / "damage"
    if work.exists():
        shutil.rmtree(work)
    git(tmp_path, "clone", "-q", str(remote), str(work))
    path = work / rel
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    git(work, "commit", "-qam", "add bundle")
    git(work, "push", "-q", "origin", "HEAD:main")


def test_full_bundles_bound_the_chain_and_a_damaged_one_falls_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encrypted_remote, "FULL_EVERY", 3)
    remote = bare(tmp_path)
    va = make_vault(tmp_path, "a")
    a = machine(va, remote)
    sent = []
    for n in range(5):
        commit(va, "m.json", f'{{"n": {n}}}', f"a{n}")
        if n == 0:
            a.setup(PHRASE)
        sent.append(a.push("main"))
    assert [".full" in (s or "") for s in sent] == [True, False, False, True, False]
    vb = make_vault(tmp_path, "b")
    b = machine(vb, remote)
    b.join(PHRASE)
    got = b.fetch()
    assert got.applied == sent[3:]  # a new machine reads from the latest full bundle on
    assert git(vb, "rev-parse", got.refs[0]) == git(va, "rev-parse", "HEAD")
    damage(tmp_path, remote, str(sent[3]))
    vc = make_vault(tmp_path, "c")
    c = machine(vc, remote)
    c.join(PHRASE)
    got = c.fetch()
    assert got.applied[:3] == sent[:3]  # the chain before the damaged full bundle
    assert [name for name, _ in got.skipped][0] == sent[3]
    assert git(vc, "rev-parse", got.refs[0]) == git(va, "rev-parse", "HEAD~2")


def test_a_push_after_another_machine_pushed_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = bare(tmp_path)
    va, vb = make_vault(tmp_path, "a"), make_vault(tmp_path, "b")
    commit(va, "a.json", "{}", "a1")
    a = machine(va, remote)
    a.setup(PHRASE)
    b = machine(vb, remote)
    b.join(PHRASE)
    a.push("main")
    commit(vb, "b.json", "{}", "b1")
    real_pull = EncryptedRemote._pull
    calls: list[str | None] = []

    def counted(self: EncryptedRemote, repo: str | None = None) -> None:
        calls.append(repo)
        real_pull(self, repo)

    monkeypatch.setattr(EncryptedRemote, "_pull", counted)
    assert b.push("main") is not None  # B's copy is behind A's push: rejected once, rebased, sent
    assert len(calls) == 1
    files = git(remote, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert len([f for f in files if f.startswith("machines/")]) == 2


def test_a_plain_vault_remote_is_never_mixed_with_encrypted_bundles(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    plain = make_vault(tmp_path, "plain")
    commit(plain, FILE_NAME, SECRET_CONTENT, SUBJECT)
    git(plain, "push", "-q", str(remote), "main")
    vault = make_vault(tmp_path, "a")
    a = machine(vault, remote)
    for step in (lambda: a.setup(PHRASE), lambda: a.join(PHRASE)):
        with pytest.raises(encrypted_remote.RemoteError, match="clear history stays readable"):
            step()
    assert not os.path.exists(a.key_file) and not os.path.exists(a.transport)


def test_hostile_remote_files_are_ignored(tmp_path: Path) -> None:
    remote = bare(tmp_path)
    va, vb = make_vault(tmp_path, "a"), make_vault(tmp_path, "b")
    commit(va, "a.json", "{}", "a1")
    a = machine(va, remote)
    a.setup(PHRASE)
    a.push("main")
    work = tmp_path / "evil"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    (work / "machines" / "0123456789abcdef").mkdir()
    os.symlink("/etc/passwd", work / "machines" / "0123456789abcdef" / "00000001.full.bundle.age")
    (work / "machines" / "not-a-machine").mkdir()
    (work / "machines" / "not-a-machine" / "00000001.full.bundle.age").write_bytes(b"x")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "add bundle")
    git(work, "push", "-q", "origin", "HEAD:main")
    b = machine(vb, remote)
    b.join(PHRASE)
    got = b.fetch()
    assert len(got.applied) == 1 and got.skipped == []
    assert b.verify() == []


def test_pushes_go_to_the_url_configured_now(tmp_path: Path) -> None:
    old = bare(tmp_path)
    vault = make_vault(tmp_path, "a")
    commit(vault, "m.json", "{}", "a1")
    machine(vault, old).setup(PHRASE)
    new = tmp_path / "new.git"
    git(tmp_path, "clone", "-q", "--bare", str(old), str(new))
    before = git(old, "rev-parse", "main")
    sent = machine(vault, new).push("main")  # vault.remote changed: the transport's clone follows it
    assert sent is not None and sent in git(new, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert git(old, "rev-parse", "main") == before
