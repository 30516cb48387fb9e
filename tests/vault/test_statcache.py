"""The stat cache and the many-files path: thousands of memory files, nothing changed
means no commit; a few changed means one commit listing exactly those."""
from __future__ import annotations

import glob
import os
import time
from pathlib import Path

import pytest

from memvault_hooks.memory import patterns
from memvault_hooks.vault import statcache
from support import Project
from support import git

COUNT = 2000


def _matches(vault: str, root: str, globs: list[str]) -> bool:
    """Whether the cache is there and every folder and file in it has the same stat."""
    hit = statcache.check(vault, root, globs, stop_at_change=True)
    return hit is not None and hit[2]


def age(path: Path, seconds: float = 60) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def age_tree(root: Path) -> None:
    for base, dirs, files in os.walk(root):
        if ".git" in Path(base).parts:
            continue
        for name in files:
            age(Path(base) / name)
        age(Path(base))


@pytest.fixture
def many(project: Project) -> Project:
    for i in range(COUNT):
        project.write(f"mem/d{i // 100:02d}/f{i:04d}.json", f'{{"id": {i}, "note": "remember {i}"}}\n')
    vault = project.vault
    project.config(f"version: 1\nfiles:\n  - 'mem/**/*.json'\nvault:\n  path: {vault}\n")
    age_tree(project.root)
    first = project.sync()
    assert first.returncode == 0, first.stderr
    assert len(project.log()) == 1
    return project


def test_nothing_changed_makes_no_commit_and_leaves_a_cache(many: Project) -> None:
    again = many.sync()
    assert again.returncode == 0 and "nothing to back up" in again.stdout
    assert len(many.log()) == 1
    assert (many.vault / statcache.NAME).exists()
    hook = many.run("hook", "post-commit")
    assert hook.returncode == 0
    assert len(many.log()) == 1
    assert statcache.NAME not in git(many.vault, "ls-files")
    assert git(many.vault, "status", "--porcelain") == ""  # machine-local files are excluded


def test_ten_changed_make_one_commit_listing_exactly_those(many: Project) -> None:
    changed = [f"mem/d{i // 100:02d}/f{i:04d}.json" for i in range(0, COUNT, COUNT // 10)]
    for rel in changed:  # in place, same size: only the stat's mtime tells
        path = many.root / rel
        path.write_text(path.read_text().replace("remember", "REMEMBER"))
    result = many.sync()
    assert result.returncode == 0, result.stderr
    log = many.log()
    assert len(log) == 2
    listed = sorted(line.split(": ", 1)[1] for line in log[0].splitlines() if line.startswith("modified: "))
    assert listed == sorted(changed)
    shown = git(many.vault, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(shown) == sorted(f"rAgentShared/{rel}" for rel in changed)


def test_a_new_file_in_a_known_folder_is_found(many: Project) -> None:
    assert _matches(str(many.vault), str(many.root), ["mem/**/*.json"])
    many.write("mem/d03/new.json", '{"fresh": true}\n')
    assert not _matches(str(many.vault), str(many.root), ["mem/**/*.json"])
    result = many.sync()
    assert result.returncode == 0, result.stderr
    assert "added: mem/d03/new.json" in many.log()[0]


def test_a_new_folder_is_found(many: Project) -> None:
    many.write("mem/zz/deep/new.json", '{"fresh": true}\n')
    result = many.sync()
    assert result.returncode == 0, result.stderr
    assert "added: mem/zz/deep/new.json" in many.log()[0]


def test_a_file_changed_in_the_racy_window_counts_as_changed(many: Project) -> None:
    rel = "mem/d01/f0150.json"
    (many.root / rel).write_text('{"id": 150, "note": "just now"}\n')
    assert many.sync().returncode == 0
    hit = statcache.check(str(many.vault), str(many.root), ["mem/**/*.json"])
    # Read within git's racy window: it stays "changed" until a sync reads it again.
    assert hit is not None and hit[2] is False
    assert many.sync().returncode == 0
    assert len(many.log()) == 2  # read again, unchanged: no commit


def test_a_changed_record_voids_the_cache(many: Project) -> None:
    assert _matches(str(many.vault), str(many.root), ["mem/**/*.json"])
    state_file = many.vault / ".last_sync"
    state_file.write_bytes(state_file.read_bytes())  # any rewrite of the record
    assert not _matches(str(many.vault), str(many.root), ["mem/**/*.json"])
    assert many.sync().returncode == 0
    assert len(many.log()) == 1


@pytest.mark.parametrize("pattern", ["*.json", "**/*.json", "x/**", "**", "x/*/c.json", ".*.json",
                                     "[am].json", "z/*", "nope/*.json", "x/**/*.json", "m.json"])
def test_patterns_name_what_glob_names(tmp_path: Path, pattern: str) -> None:
    for rel in ("a.json", ".h.json", "x/b.json", "x/y/c.json", "x/.hid/d.json", "z/e.jsonl", "m.json"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    found = {rel for rel in patterns.expand(str(tmp_path), (pattern,)).paths if (tmp_path / rel).is_file()}
    expected = {os.path.normpath(rel) for rel in glob.glob(pattern, root_dir=tmp_path, recursive=True)
                if (tmp_path / rel).is_file()}
    assert found == expected


def test_expansion_records_every_folder_it_read(tmp_path: Path) -> None:
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "c.json").write_text("{}")
    expansion = patterns.expand(str(tmp_path), ("x/**/*.json", "top.json"))
    assert set(expansion.folders) == {"", "x", "x/y"}
    assert expansion.folders[""] is not None and not expansion.followed_link


def test_a_symlink_loop_ends_the_walk_and_disables_the_cache(tmp_path: Path) -> None:
    (tmp_path / "m" / "a").mkdir(parents=True)
    (tmp_path / "m" / "a" / "x.json").write_text("{}")
    (tmp_path / "m" / "a" / "loop").symlink_to("..")
    expansion = patterns.expand(str(tmp_path), ("m/**/*.json",))
    assert "m/a/x.json" in expansion.paths and len(expansion.paths) < 5
    assert expansion.followed_link  # no stat cache is written for such a tree


def _edit(project: Project, rel: str, text: str) -> None:
    path = project.root / rel
    path.write_text(path.read_text().replace("remember", text))
    age(path, 30)  # out of git's racy window: the cache may vouch for the new stat


def test_a_sync_after_a_cache_hit_compares_only_the_changed_files(many: Project,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The stat cache vouched for the files it found unchanged: neither the sync nor the
    cache it leaves compares their record entries again, and that cache vouches for all."""
    from memvault_hooks.main import main
    from memvault_hooks.vault import state

    assert many.sync().returncode == 0  # leaves the cache
    changed = ["mem/d00/f0007.json", "mem/d12/f1234.json", "mem/d19/f1999.json"]
    for rel in changed:
        _edit(many, rel, "EDITED")
    compared: list[str] = []
    real = state.entry_matches

    def counted(entry: state.Entry | None, sig: tuple[int, int, int]) -> bool:
        compared.append("x")
        return real(entry, sig)

    monkeypatch.setattr(state, "entry_matches", counted)
    assert main(["-C", str(many.root), "sync", "--quiet"]) == 0
    assert 0 < len(compared) <= 3 * len(changed)   # not 2 x 2,000
    assert sorted(line.split(": ", 1)[1] for line in many.log()[0].splitlines()
                  if line.startswith("modified: ")) == changed
    assert _matches(str(many.vault), str(many.root), ["mem/**/*.json"])  # the new stats included
    hit = statcache.check(str(many.vault), str(many.root), ["mem/**/*.json"])
    assert hit is not None and len(hit[0]) == COUNT


def test_a_scan_older_than_the_record_is_compared_in_full(many: Project) -> None:
    """A scan handed to a sync was made before it held the lock: if the record was written
    meanwhile, the cache no longer vouches for it and every file is compared."""
    from memvault_hooks import config
    from memvault_hooks import fastpath
    from memvault_hooks.vault import backup
    from memvault_hooks.vault import state

    assert many.sync().returncode == 0  # leaves the cache
    _edit(many, "mem/d05/f0500.json", "EDITED")
    cfg = config.from_args(str(many.root), None)
    scans: list[object] = []
    assert fastpath.nothing_changed(cfg, scans) is False and len(scans) == 1  # type: ignore[arg-type]
    record = state.load(str(many.vault))
    lost = "mem/d10/f1000.json"
    del record["files"][lost]   # another run's record, written after the scan
    state.save(str(many.vault), record)
    result = backup.run_locked(cfg, "manual", scan=scans[0])  # type: ignore[arg-type]
    assert result.errors == [] and result.commit is not None
    assert lost in state.load(str(many.vault))["files"]  # compared, read again (no commit: unchanged)
    assert [path for path, _ in result.changes] == ["mem/d05/f0500.json"]
