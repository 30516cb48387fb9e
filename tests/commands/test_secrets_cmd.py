"""`memvault secrets`: a secret in a memory file holds the push to a plain remote (a real
bare repository and a real `git daemon`), `purge` redacts the history not pushed yet and
releases it, `allow` records a false positive; no value in any output, log or object."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memvault_hooks.memory import secret_scan
from remote_support import bare_remote
from remote_support import git_daemon  # noqa: F401  (fixture)
from remote_support import machine
from remote_support import set_remote
from remote_support import tip_content
from secret_samples import AWS
from secret_samples import GITHUB
from secret_samples import KEYED
from support import Project
from support import git

VALUES = (AWS, GITHUB)
LEAKY = {"name": "deploy notes", "observations": [f"the AWS key is {AWS}", "rotate monthly"], "token": GITHUB}


class Said:
    """Every output of every command a test ran, to grep for values at the end."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.text: list[str] = []

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = self.project.run(*args)
        self.text += [proc.stdout, proc.stderr]
        return proc

    def assert_no_value(self, *places: Path) -> None:
        for value in VALUES:
            assert not any(value in text for text in self.text), "a value was printed"
            for place in places:
                for path in place.rglob("*"):
                    if path.is_file() and "objects" not in path.parts:
                        assert value.encode() not in path.read_bytes(), f"{path} holds a value"


def all_objects(repo: Path) -> bytes:
    """Every object of a repository, as `git cat-file --batch-all-objects --batch` prints it."""
    proc = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True, check=True)
    return proc.stdout


def assert_no_object_holds_a_value(repo: Path) -> None:
    objects = all_objects(repo)
    for value in VALUES:
        assert value.encode() not in objects, f"an object in {repo} holds a value"


def remote_url(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> tuple[Path, str]:
    """(the remote's folder, the URL memvault pushes to)."""
    if kind == "bare":
        path = bare_remote(tmp_path)
        return path, str(path)
    served, base = request.getfixturevalue("git_daemon")
    bare_remote(served, "vault.git")
    return served / "vault.git", f"{base}/vault.git"


@pytest.mark.parametrize("kind", ["bare", "daemon"])
def test_a_secret_holds_the_push_until_purged(request: pytest.FixtureRequest, tmp_path: Path,
                                              isolated_home: Path, kind: str) -> None:
    remote, url = remote_url(request, tmp_path, kind)
    project = machine(tmp_path, "laptop", url)
    said = Said(project)
    assert said.run("sync").returncode == 0  # clean files: pushed
    pushed_before = git(remote, "rev-parse", "main").strip()

    (project.root / "memory.json").write_text(json.dumps(LEAKY, indent=2) + "\n")
    held = said.run("sync")
    assert held.returncode == 1
    assert "memvault secrets" in held.stderr and "push held" in held.stderr
    assert "aws-access-key" in held.stderr and "github-token" in held.stderr
    assert AWS in (project.stored / "memory.json").read_text()  # the local backup was made
    assert git(remote, "rev-parse", "main").strip() == pushed_before  # nothing was pushed
    assert_no_object_holds_a_value(remote)

    status = said.run("status", "--json")
    report = json.loads(status.stdout)
    assert status.returncode == 1 and report["ok"] is False
    listed = {(s["path"], s["where"], s["kind"]) for s in report["secrets"]}
    assert listed == {("memory.json", "$.observations[0]", "aws-access-key"),
                      ("memory.json", "$.token", "github-token")}
    assert all(set(s) == {"id", "path", "where", "kind"} for s in report["secrets"])
    text = said.run("status")
    assert "secrets" in text.stdout and "$.token github-token" in text.stdout
    listing = said.run("secrets", "--json")
    assert listing.returncode == 0 and json.loads(listing.stdout) == report["secrets"]
    assert "memvault secrets purge" in said.run("secrets").stdout
    error_log = next(isolated_home.rglob("sync.err")).read_text()
    assert "push held" in error_log and "memvault secrets purge" in error_log

    # A hook or cron run meanwhile is held again, and pushes nothing.
    assert said.run("sync", "--trigger", "cron", "--quiet").returncode == 1
    assert git(remote, "rev-parse", "main").strip() == pushed_before

    cleaned = {**LEAKY, "observations": ["the AWS key is in the password manager", "rotate monthly"],
               "token": "see the vault"}
    (project.root / "memory.json").write_text(json.dumps(cleaned, indent=2) + "\n")
    purge = said.run("secrets", "purge")
    assert purge.returncode == 0, purge.stderr
    assert "purged 2 finding(s)" in purge.stderr
    synced = said.run("sync")
    assert synced.returncode == 0, synced.stderr
    assert git(remote, "rev-parse", "main").strip() == git(project.vault, "rev-parse", "main").strip()
    assert json.loads(tip_content(remote, "memory.json")) == cleaned
    # The held version is on the remote, redacted, still valid JSON.
    redacted = git(remote, "log", "-p", "main", "--", "rAgentShared/memory.json")
    assert "[REDACTED aws-access-key]" in redacted and "[REDACTED github-token]" in redacted
    assert_no_object_holds_a_value(remote)
    assert_no_object_holds_a_value(project.vault)
    assert said.run("ack").returncode == 0  # the seed's memory.json was cut to a few values: a loss alert
    assert json.loads(said.run("status", "--json").stdout)["ok"] is True
    said.assert_no_value(isolated_home, project.vault)
    assert said.run("secrets", "--json").stdout.strip() == "[]"


def test_purge_while_the_live_file_still_holds_it_is_held_again(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = machine(tmp_path, "laptop", remote)
    assert project.sync().returncode == 0
    (project.root / "memory.json").write_text(json.dumps({"token": GITHUB}) + "\n")
    assert project.sync().returncode == 1
    purge = project.run("secrets", "purge")
    assert purge.returncode == 0, purge.stderr
    on_remote = json.loads(tip_content(remote, "memory.json"))  # the redacted version was released
    assert on_remote == {"token": "[REDACTED github-token]"}
    assert json.loads((project.stored / "memory.json").read_text()) == on_remote
    again = project.sync()  # the live file still holds it: backed up again, and held again
    assert again.returncode == 1 and "push held" in again.stderr
    assert GITHUB in (project.stored / "memory.json").read_text()
    assert_no_object_holds_a_value(remote)
    assert json.loads((project.root / "memory.json").read_text()) == {"token": GITHUB}  # never written


def test_allow_a_false_positive_releases_the_push(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = machine(tmp_path, "laptop", remote)
    assert project.sync().returncode == 0
    (project.root / "memory.json").write_text(json.dumps({"password": KEYED}) + "\n")  # a test fixture's value
    assert project.sync().returncode == 1
    (finding,) = json.loads(project.run("secrets", "--json").stdout)
    assert finding["kind"] == "secret-under-key" and finding["where"] == "$.password"
    wrong = project.run("secrets", "allow", "0000000000000000")
    assert wrong.returncode == 2 and "memvault secrets" in wrong.stderr
    allowed = project.run("secrets", "allow", finding["id"])
    assert allowed.returncode == 0, allowed.stderr
    assert git(remote, "rev-parse", "main").strip() == git(project.vault, "rev-parse", "main").strip()
    assert json.loads(tip_content(remote, "memory.json")) == {"password": KEYED}
    # Kept in the vault, outside the memory files, so every machine sharing it knows.
    record = json.loads(git(remote, "show", f"main:memvault-allowed-secrets/{finding['id']}"))
    assert record["id"] == finding["id"] and record["kind"] == "secret-under-key"
    assert project.sync().returncode == 0
    assert project.run("ack").returncode == 0  # the seed's memory.json was cut to one value: a loss alert
    report = json.loads(project.run("status", "--json").stdout)
    assert report["ok"] is True and report["secrets"] == []
    # A later version of the file with the same value stays allowed.
    (project.root / "memory.json").write_text(json.dumps({"password": KEYED, "more": 1}) + "\n")
    assert project.sync().returncode == 0
    assert json.loads(tip_content(remote, "memory.json"))["more"] == 1


def test_a_scanner_crash_is_unscanned_and_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    remote = bare_remote(tmp_path)
    project = machine(tmp_path, "laptop", remote)
    assert project.sync().returncode == 0
    before = git(remote, "rev-parse", "main").strip()
    (project.root / "memory.json").write_text(json.dumps({"note": f"key {AWS}"}) + "\n")
    (project.root / "gpt4o_memories.json").write_text(json.dumps({"fine": "nothing secret"}) + "\n")

    def crash(*args: object, **kw: object) -> object:
        raise RuntimeError(f"scanner bug near {AWS}")  # a crash that would quote the value

    monkeypatch.setattr(secret_scan, "_hits_in_json", crash)  # the scanner crashes on each JSON file it parses
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() wraps them; put them back afterwards
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    from memvault_hooks.main import main

    assert main(["-C", str(project.root), "sync"]) == 1
    assert git(remote, "rev-parse", "main").strip() == before  # held, never taken as clean
    assert main(["-C", str(project.root), "status", "--json"]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out[out.index("{"):])
    # The clean file holds no detector's literal: never parsed, so never crashed on.
    assert [(s["path"], s["kind"], s["where"]) for s in report["secrets"]] == [
        ("memory.json", "unscanned", "whole file")]
    assert AWS not in out + err
    assert_no_object_holds_a_value(remote)


def test_no_remote_lists_but_holds_nothing(project: Project) -> None:
    assert project.sync().returncode == 0
    (project.root / "memory.json").write_text(json.dumps({"token": GITHUB}) + "\n")
    synced = project.sync()
    assert synced.returncode == 0, synced.stderr  # nothing leaves the machine: no failure
    assert "possible secret" in synced.stderr and "memvault secrets" in synced.stderr
    assert project.run("ack").returncode == 0  # the seed's memory.json was cut to one value: a loss alert
    status = project.run("status", "--json")
    report = json.loads(status.stdout)
    assert status.returncode == 0 and report["ok"] is True  # decided: a warning, not a problem
    assert [s["kind"] for s in report["secrets"]] == ["github-token"]
    assert any("possible secret" in w for w in report["warnings"])
    assert GITHUB not in status.stdout + synced.stdout + synced.stderr
    listing = project.run("secrets")
    assert "github-token" in listing.stdout and "nothing is held" in listing.stdout


def test_setting_a_remote_later_holds_its_first_push(tmp_path: Path) -> None:
    project = machine(tmp_path, "laptop", None)
    (project.root / "memory.json").write_text(json.dumps({"token": GITHUB}) + "\n")
    assert project.sync().returncode == 0
    remote = bare_remote(tmp_path)
    set_remote(project, remote)
    assert project.sync().returncode == 1
    assert git(remote, "branch", "--list").strip() == ""  # the whole branch waits
    assert project.run("secrets", "purge").returncode == 0
    assert_no_object_holds_a_value(remote)
    assert "[REDACTED github-token]" in tip_content(remote, "memory.json")


def test_secrets_obeys_the_trust_rule(project: Project, tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {remote}\n", allow=False)
    for args in (("secrets",), ("secrets", "purge"), ("secrets", "allow", "0123456789abcdef")):
        proc = project.run(*args)
        assert proc.returncode == 2 and "memvault allow" in proc.stderr, args
    assert not (project.vault / ".git").exists()


def test_bad_arguments_exit_2(project: Project) -> None:
    assert project.run("secrets", "allow").returncode == 2
    assert project.run("secrets", "purge", "abc").returncode == 2
    assert project.run("secrets", "forget").returncode == 2
    assert os.path.exists(project.root / "memory.json")


def test_an_allow_on_one_machine_releases_the_other(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    laptop = machine(tmp_path, "laptop", remote)
    desktop = machine(tmp_path, "desktop", remote)
    fixture = json.dumps({"password": KEYED}) + "\n"  # the same false positive on both machines
    for project in (laptop, desktop):
        (project.root / "memory.json").write_text(fixture)
    assert laptop.sync().returncode == 1
    (finding,) = json.loads(laptop.run("secrets", "--json").stdout)
    assert laptop.run("secrets", "allow", finding["id"]).returncode == 0
    synced = desktop.sync()  # it learns the allowance from the remote, and pushes
    assert synced.returncode == 0, synced.stderr
    tip = git(remote, "rev-parse", "main").strip()
    assert tip == git(desktop.vault, "rev-parse", "main").strip()
    assert git(remote, "ls-tree", "--name-only", "main", "memvault-allowed-secrets/").split() == [
        f"memvault-allowed-secrets/{finding['id']}"]


def test_purge_of_a_text_memory_file(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    project = machine(tmp_path, "laptop", remote, files=("memory.json",))
    assert project.sync().returncode == 0
    (project.root / "MEMORY.md").write_text(f"# Notes\n\n- deploy key: {AWS}\n- prefer tabs\n")
    held = project.sync()
    assert held.returncode == 1 and "MEMORY.md line 3 aws-access-key" in held.stderr
    (project.root / "MEMORY.md").write_text("# Notes\n\n- deploy key: in the password manager\n- prefer tabs\n")
    assert project.sync().returncode == 1  # still held: the older backup holds it
    purge = project.run("secrets", "purge", "--json")
    assert purge.returncode == 0, purge.stderr
    report = json.loads(purge.stdout)
    assert report["push"] == "pushed" and [f["where"] for f in report["purged"]] == ["line 3"]
    history = git(remote, "log", "-p", "main", "--", "rAgentShared/MEMORY.md")
    assert "- deploy key: [REDACTED aws-access-key]" in history and "in the password manager" in history
    assert_no_object_holds_a_value(remote)
    assert_no_object_holds_a_value(project.vault)
