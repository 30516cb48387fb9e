"""The stat cache and the many-files path: thousands of memory files, nothing changed
means no commit; a few changed means one commit listing exactly those."""
from __future__ import annotations

import glob
import os
import time
from pathlib import Path

import pytest

from memvault_hooks import patterns
from memvault_hooks import statcache
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
