"""held.py: which findings hold the push, the range not pushed yet, the cache by blob id."""
from __future__ import annotations

import json
import marshal
import os
import types
from pathlib import Path

import pytest

from memvault_hooks import config
from memvault_hooks.memory import secret_cache
from memvault_hooks.vault import backup
from memvault_hooks.vault import held
from remote_support import bare_remote
from remote_support import machine
from secret_samples import GITHUB
from support import Project


def _cfg(**kw: object) -> config.Config:
    return types.SimpleNamespace(**{"encrypt": False, **kw})  # type: ignore[return-value]


def test_only_a_plain_remote_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    assert held.holds(_cfg(remote="git@example.invalid:v.git"))
    assert not held.holds(_cfg(remote=None))
    assert not held.holds(_cfg(remote="git@example.invalid:v.git", encrypt=True))
    monkeypatch.setenv(held.OFF_VARIABLE, "1")  # the benchmark's baseline only
    assert not held.holds(_cfg(remote="git@example.invalid:v.git"))


def test_the_unpushed_range_and_an_unchanged_vault_costs_no_scan(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    remote = bare_remote(tmp_path)
    project = machine(tmp_path, "laptop", remote)
    assert project.sync().returncode == 0
    cfg = config.from_args(str(project.root), None)
    vault = backup.vault_of(cfg)
    assert held.changed_blobs(vault, held.unpushed(cfg, vault)) == []  # everything was pushed
    (project.root / "memory.json").write_text(json.dumps({"token": GITHUB}) + "\n")
    assert project.sync().returncode == 1
    pairs = held.changed_blobs(vault, held.unpushed(cfg, vault))
    assert [rel for _, rel in pairs] == ["memory.json"]
    cache = marshal.loads(Path(held.cache_file(vault)).read_bytes())
    assert pairs[0][0] in cache["blobs"]  # the sync scanned what it committed
    assert GITHUB.encode() not in Path(held.cache_file(vault)).read_bytes()

    def no_scan(*args: object) -> object:
        raise AssertionError("scanned again")

    monkeypatch.setattr(secret_cache, "scan_raw", no_scan)
    (found,) = held.findings(cfg, vault)
    assert (found.path, found.where, found.kind) == ("memory.json", "$.token", "github-token")


def test_scanning_off_scans_nothing(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    (project.root / "memory.json").write_text(json.dumps({"token": GITHUB}) + "\n")
    proc = project.sync(env={**os.environ, held.OFF_VARIABLE: "1"})
    assert proc.returncode == 0 and "possible secret" not in proc.stderr
    assert not (project.vault / ".git" / held.CACHE_NAME).exists()
