"""Keeping the vault packed, so its size grows with the deltas and not the snapshots.

Every sync adds loose objects: a compressed copy of each changed file plus a commit and
its trees (each takes at least a 4 KB block on disk). Git's own `gc --auto` waits for thousands of
them — for a 1 MB memory file backed up 300 times that is ~80 MB on disk where a
packed history needs well under 1 MB. So each commit adds what it wrote to a running
count kept in the state record: the bytes of its new file copies (compressed), and its
number of objects. Past LOOSE_BUDGET bytes of copies, or LOOSE_OBJECTS objects (commits and trees
of many small files), the vault is repacked (`git repack -a -d`: one pack, new versions
stored as deltas of the old, existing deltas reused, so its cost is about the size of the
pack). A 1 MB file with small edits is repacked after each sync, ~80 ms (the sync runs
detached from the hooks: nobody waits for it); 10 of 5,000 small files, every ~20 syncs.

Each repack only adds the new versions, as deltas of the versions before them: a chain
one version longer each time. At git's default depth (50) every 50th version starts a
new chain with a whole copy; at DEPTH (250) a history of hundreds of versions packs as
tightly as `git gc --aggressive` packs it (measured: 300 versions of a 1 MB file, 270 KB
either way), and reading an old version applies at most DEPTH small deltas.
"""
from __future__ import annotations

import os

from memvault_hooks.vault import state
from memvault_hooks.vault.gitenv import GitError
from memvault_hooks.vault.gitenv import run_git

# Disk bytes of loose file copies allowed to pile up before the vault is repacked.
LOOSE_BUDGET = 128 << 10
# The longest delta chain a repack builds (git's default is 50).
DEPTH = 250
# Loose objects allowed (small ones: commits, trees, small files) before a repack.
LOOSE_OBJECTS = 500


def _loose_size(git_dir: str, blob: str) -> int:
    """Bytes of a loose object (compressed); 0 when git streamed it into a pack (large files).
    Not its disk blocks: ten 300-byte files would count 40 KB and repack every third sync."""
    try:
        return os.stat(os.path.join(git_dir, "objects", blob[:2], blob[2:])).st_size
    except OSError:
        return 0


def _new_trees(paths: list[str]) -> int:
    """How many trees a commit of these paths rewrites: each folder on the way, and the root."""
    folders = {""}
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]))
    return len(folders)


def after_commit(vault_path: str, record: state.Record, blobs: list[str], paths: list[str]) -> bool:
    """Account for a commit's new loose objects; repack past the budget. True if repacked."""
    git_dir = os.path.join(vault_path, ".git")
    previous = record.get("unpacked")
    size, count = previous if isinstance(previous, list) and len(previous) == 2 else (0, 0)
    small = 1 + _new_trees(paths)
    size += sum(_loose_size(git_dir, blob) for blob in blobs)
    count += len(blobs) + small
    if size < LOOSE_BUDGET and count < LOOSE_OBJECTS:
        record["unpacked"] = [size, count]
        return False
    try:
        repack(vault_path)
    except GitError:
        record["unpacked"] = [size, count]  # the commit stands; the next sync tries again
        return False
    record["unpacked"] = [0, 0]
    return True


def repack(vault_path: str) -> None:
    """One pack for the whole vault, loose copies removed (existing deltas reused)."""
    run_git(vault_path, "repack", "-a", "-d", "-q", f"--depth={DEPTH}")
