from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from support import Project
from support import git
from vault_support import make_versions
from vault_support import ok


def _verify(project: Project) -> tuple[int, dict[str, dict[str, object]], dict[str, object]]:
    proc = project.run("verify", "--json")
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    return proc.returncode, {row["name"]: row for row in report["checks"]}, report


def _flip_byte(path: Path, offset: int) -> None:
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_healthy_vault_verifies(project: Project) -> None:
    make_versions(project, 3)
    code, rows, report = _verify(project)
    assert code == 0 and report["ok"] is True
    assert set(report) >= {"ok", "checks"}
    for row in report["checks"]:  # type: ignore[union-attr]
        assert set(row) == {"name", "ok", "detail"} and row["ok"] is True
    assert list(rows) == ["vault", "fsck", "restore", "formats", "drift"]
    assert "2 file(s)" in str(rows["restore"]["detail"])
    text = ok(project.run("verify")).stdout
    assert "fsck" in text and "whole and restorable" in text and "\033[" not in text


def test_drift_is_reported_but_does_not_fail(project: Project) -> None:
    make_versions(project, 1)
    project.write("memory.json", '{"not yet backed up": 1}')
    (project.root / "gpt4o_memories.json").unlink()
    code, rows, _ = _verify(project)
    assert code == 0
    assert rows["drift"]["ok"] is True
    assert "memory.json" in str(rows["drift"]["detail"]) and "gpt4o_memories.json" in str(rows["drift"]["detail"])


def test_a_corrupted_loose_object_fails(project: Project) -> None:
    make_versions(project, 2)
    sha = git(project.vault, "rev-parse", "HEAD:rAgentShared/memory.json").strip()
    loose = project.vault / ".git" / "objects" / sha[:2] / sha[2:]
    assert loose.exists()
    _flip_byte(loose, len(loose.read_bytes()) // 2)
    code, rows, report = _verify(project)
    assert code == 1 and report["ok"] is False
    assert rows["fsck"]["ok"] is False and sha in str(rows["fsck"]["detail"])
    assert rows["restore"]["ok"] is False
    assert "FAIL" in project.run("verify").stdout


def test_a_corrupted_pack_fails(project: Project) -> None:
    make_versions(project, 3)
    git(project.vault, "gc", "-q")
    packs = list((project.vault / ".git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1 and not list((project.vault / ".git" / "objects").glob("[0-9a-f][0-9a-f]/*"))
    assert _verify(project)[0] == 0
    _flip_byte(packs[0], packs[0].stat().st_size // 2)
    code, rows, _ = _verify(project)
    assert code == 1 and rows["fsck"]["ok"] is False


def test_an_invalid_file_at_the_tip_fails(project: Project) -> None:
    make_versions(project, 1)
    (project.stored / "memory.json").write_text('{"torn": ')
    git(project.vault, "commit", "-q", "-am", "hand-made commit")
    code, rows, _ = _verify(project)
    assert code == 1
    assert rows["formats"]["ok"] is False and "memory.json: invalid JSON" in str(rows["formats"]["detail"])
    assert rows["restore"]["ok"] is True and rows["fsck"]["ok"] is True


def test_no_vault_fails(project: Project) -> None:
    code, rows, _ = _verify(project)
    assert code == 1 and rows["vault"]["ok"] is False and "no vault" in str(rows["vault"]["detail"])
    assert not project.vault.exists()


def test_a_remote_adds_a_row(project: Project, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    make_versions(project, 1)
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {remote}\n")
    _, rows, _ = _verify(project)
    assert "remote" in rows


def test_remote_check_keeps_git_words_and_is_logged(project: Project, tmp_path: Path) -> None:
    assert project.sync().returncode == 0
    plain = tmp_path / "plain-folder"
    plain.mkdir()
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {json.dumps(str(plain))}\n")
    proc = project.run("verify")
    assert proc.returncode == 1
    assert f"'{plain}' does not appear to be a git repository" in proc.stdout, proc.stdout
    assert "and the repository exists." in proc.stdout
    logged = next(Path(os.environ["XDG_STATE_HOME"]).rglob("sync.err")).read_text()
    assert "verify: remote:" in logged and "does not appear to be a git repository" in logged
