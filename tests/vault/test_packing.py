"""The vault stays packed: its config carries the gc settings, and after many syncs of
a large file with small edits the objects are in a pack, with every version intact."""
from __future__ import annotations

import json
import random
from pathlib import Path

from memvault_hooks.vault import packing
from memvault_hooks.vault import state
from memvault_hooks.vault import vault
from support import Project
from support import git


def noisy_json(seed: int, entries: int = 6000) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [{"id": i, "hash": "%032x" % rng.getrandbits(128)} for i in range(entries)]


def test_vault_config_has_the_pack_settings(project: Project) -> None:
    assert project.sync().returncode == 0
    for key, value in vault.VAULT_SETTINGS:
        assert git(project.vault, "config", "--get", key).strip() == value
    assert git(project.vault, "config", "--get", "gc.auto").strip() == "1000"


def test_many_syncs_leave_the_objects_packed(project: Project) -> None:
    data = noisy_json(1)  # ~350 KB of hex: compresses poorly, fills the loose budget fast
    path = project.root / "memory.json"
    versions = []
    for i in range(12):
        data[i * 7]["hash"] = f"edit {i}"
        path.write_text(json.dumps(data))
        result = project.sync()
        assert result.returncode == 0, result.stderr
        versions.append(git(project.vault, "rev-parse", "HEAD:rAgentShared/memory.json").strip())
    assert len(project.log("rAgentShared/memory.json")) == 12
    counts = dict(line.split(": ") for line in git(project.vault, "count-objects", "-v").splitlines())
    assert int(counts["packs"]) == 1 and int(counts["in-pack"]) > 0
    assert int(counts["count"]) < 4 * 12  # loose: only what came after the last repack
    record = state.load(str(project.vault))
    assert record["unpacked"][0] < packing.LOOSE_BUDGET
    git(project.vault, "fsck", "--full", "--strict")
    for blob in versions:  # every version is still there, whole
        json.loads(git(project.vault, "cat-file", "blob", blob))


def test_accounting_repacks_only_past_the_budget(tmp_path: Path) -> None:
    record: dict[str, object] = {}
    assert packing.after_commit(str(tmp_path), record, [], ["rAgentShared/a/b.json"]) is False
    # commit + root + rAgentShared + rAgentShared/a trees
    assert record["unpacked"] == [0, 4]   # no file copy: only the objects are counted
    git(tmp_path, "init", "-q")
    record["unpacked"] = [packing.LOOSE_BUDGET, 10]
    assert packing.after_commit(str(tmp_path), record, [], ["x.json"]) is True
    assert record["unpacked"] == [0, 0]


def test_small_copies_count_their_bytes_not_their_disk_blocks(tmp_path: Path) -> None:
    """Ten 300-byte files a sync (each a 4 KB block on disk) fill the budget by the number of
    objects (about every 20 syncs), not by blocks (every third sync)."""
    git(tmp_path, "init", "-q")
    blobs = []
    for i in range(10):
        small = tmp_path / f"f{i}.json"
        small.write_text(json.dumps({"id": i, "text": "memory " * 40}))
        blobs.append(git(tmp_path, "hash-object", "-w", str(small)).strip())
    record: dict[str, object] = {}
    paths = [f"rAgentShared/mem/d{i}/f{i}.json" for i in range(10)]
    syncs = 0
    while not packing.after_commit(str(tmp_path), record, blobs, paths):
        syncs += 1
    assert syncs >= packing.LOOSE_OBJECTS // (len(blobs) + 14) - 1  # + commit, root, rAgentShared, mem, ten folders
    loose = sum((tmp_path / ".git" / "objects" / b[:2] / b[2:]).stat().st_size for b in blobs)
    assert loose < 10 * 4096
