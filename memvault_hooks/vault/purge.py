"""`secrets purge`'s engine: rewrite the commits not pushed yet with each held value
replaced by `[REDACTED <kind>]` in every version (secret_redact), under the vault lock.

Each commit from the remote-tracking ref to the tip is recreated (`read-tree` of its
rewritten parent, `update-index` with its own changes, redacted blob by blob, then
`write-tree` and `commit-tree`, keeping author, dates and message: messages hold paths,
never values). The branch moves once, by compare-and-swap (`Vault.move_branch`). The old
commits are then dropped from the reflog and pruned, so the local vault no longer holds
the values either. The state record learns the redacted blob ids and forgets the files'
stat, so the next sync reads every rewritten file again: a live file that still holds a
secret is committed (and held) again, one that no longer does is backed up as it is.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from memvault_hooks.errors import MemvaultError
from memvault_hooks.vault import held
from memvault_hooks.vault import state
from memvault_hooks.vault import statcache
from memvault_hooks.vault.replay import apply_changes
from memvault_hooks.vault.replay import commit_changes
from memvault_hooks.vault.replay import read_commit
from memvault_hooks.vault.vault import REPLAY_INDEX

if TYPE_CHECKING:
    from memvault_hooks.config import Config
    from memvault_hooks.memory.secret_scan import Finding
    from memvault_hooks.vault.vault import Vault


class Purged:
    """What a purge did: commits rewritten, file versions redacted, findings left (unscanned)."""

    def __init__(self) -> None:
        self.commits = 0
        self.versions = 0
        self.redacted: list[Finding] = []
        self.left: list[Finding] = []


def purge(cfg: Config, vault: Vault) -> Purged:
    """Call under the lock, on a vault that `recover` put in order."""
    from memvault_hooks.memory.secret_redact import redact
    from memvault_hooks.memory.secret_scan import UNSCANNED

    done = Purged()
    record = state.load(vault.path)
    revs = held.unpushed(cfg, vault, record)
    found = held.unresolved(vault, held.scan_revs(vault, revs))
    done.redacted = [f for f in found if f.kind != UNSCANNED]
    done.left = [f for f in found if f.kind == UNSCANNED]
    if not done.redacted:
        return done
    by_path: dict[str, list[Finding]] = {}
    for f in done.redacted:
        by_path.setdefault(f.path, []).append(f)
    prefix = f"{vault.subdir}/"
    blob_map: dict[str, str] = {}

    def cleaned(blob: str, path: str) -> str:
        rel = path[len(prefix):] if path.startswith(prefix) else None
        if rel is None or rel not in by_path:
            return blob
        if blob not in blob_map:
            data = vault.git("cat-file", "blob", blob)
            new = redact(data, rel, by_path[rel])
            blob_map[blob] = blob if new == data else vault.git(
                "hash-object", "-w", "--stdin", input=new).decode().strip()
        return blob_map[blob]

    head = vault.head() or ""
    lines = vault.git("rev-list", "--reverse", "--topo-order", "--parents", *revs).decode().splitlines()
    index_env = {"GIT_INDEX_FILE": os.path.join(vault.path, ".git", REPLAY_INDEX)}
    new_of: dict[str, str] = {}
    try:
        for line in lines:
            commit, *parents = line.split()
            changes = commit_changes(vault, commit, parents[0] if parents else None)
            rewritten = [(path, mode, cleaned(blob, path) if mode != "0" else blob, added)
                         for path, mode, blob, added in changes]
            new_parents = [new_of.get(p, p) for p in parents]
            if rewritten == changes and new_parents == parents:
                new_of[commit] = commit
                continue
            if new_parents:
                vault.git("read-tree", new_parents[0], env=index_env)
            else:
                vault.git("read-tree", "--empty", env=index_env)
            tree = apply_changes(vault, rewritten, index_env)
            env, body = read_commit(vault, commit)
            args = [arg for p in new_parents for arg in ("-p", p)]
            new_of[commit] = vault.git("commit-tree", tree, *args, input=body, env=env).decode().strip()
            done.commits += 1
    finally:
        try:
            os.unlink(index_env["GIT_INDEX_FILE"])
        except FileNotFoundError:
            pass
    done.versions = sum(1 for old, new in blob_map.items() if old != new)
    new_head = new_of.get(head, head)
    if new_head == head:
        raise MemvaultError("secrets purge found the held values but rewrote nothing; "
                            "edit the memory files by hand and run `memvault sync`")
    vault.move_branch(head, new_head, "memvault: secrets purge")
    _forget_old(vault)
    _update_record(vault, record, blob_map, new_head)
    return done


def _forget_old(vault: Vault) -> None:
    """The replaced commits and blobs leave the local vault too (reflog, ORIG_HEAD, objects)."""
    try:
        os.unlink(os.path.join(vault.path, ".git", "ORIG_HEAD"))
    except FileNotFoundError:
        pass
    vault.git("reflog", "expire", "--expire-unreachable=now", "--all")
    vault.git("-c", "gc.autoDetach=false", "gc", "--quiet", "--prune=now")


def _update_record(vault: Vault, record: state.Record, blob_map: dict[str, str], new_head: str) -> None:
    """Entries that named a redacted version name the new one and are read again next sync."""
    for entry in record["files"].values():
        if isinstance(entry, dict) and entry.get("blob") in blob_map:
            entry["blob"] = blob_map[entry["blob"]]
            entry["read_at_ns"] = 0  # never matches: the next sync reads the live file again
    if record.get("last_commit"):
        record["last_commit"] = new_head
    state.save(vault.path, record)
    statcache.drop(vault.path)
