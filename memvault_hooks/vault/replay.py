"""Replaying this machine's backups onto the remote's tip, whole-file.

Each local backup commit not on the remote is recreated on top of the remote tip in a
private index (`update-index`, `write-tree`, `commit-tree`), keeping its author, dates
and message; its files take exactly the content it backed up, so a vault never holds a
textual merge of two JSON files. When the remote holds a newer backup (by commit time)
of a file a local commit also changed, a final `merge` commit, dated like that backup,
puts it back at the tip: both versions stay in history, the newest is the tip. Only
objects are written here; moving the branch is `Vault.move_branch`'s job.
"""
from __future__ import annotations

import os

from memvault_hooks.ui import logs
from memvault_hooks.vault import message
from memvault_hooks.vault.vault import REPLAY_INDEX
from memvault_hooks.vault.vault import ZERO
from memvault_hooks.vault.vault import Vault
from memvault_hooks.vault.vault import commit_env
from memvault_hooks.vault.vault import hostname
from memvault_hooks.vault.vault import zsplit

MERGE_TRIGGER = "merge"


def replay(vault: Vault, head: str, upstream: str, behind: list[str] | None = None) -> str:
    """The commit holding `upstream` and then the local backups since the merge base.

    A local backup that *adds* a file (this machine's first backup of it, made before its
    vault knew the remote's history) with content that is an older version the remote
    holds is left out: the remote's newest version stays the newest (SPEC "Joining a shared
    vault"). Such paths are appended to `behind`."""
    proc = vault.run("merge-base", head, upstream, check=False)
    base = proc.stdout.decode().strip() or None if proc.returncode == 0 else None
    lines = vault.git("rev-list", "--reverse", "--topo-order", "--parents", head,
                      *([f"^{base}"] if base else [])).decode().splitlines()
    index_env = {"GIT_INDEX_FILE": os.path.join(vault.path, ".git", REPLAY_INDEX)}
    vault.git("read-tree", upstream, env=index_env)
    tip = upstream
    tree = vault.git("rev-parse", f"{upstream}^{{tree}}").decode().strip()
    local_times: dict[str, int] = {}
    for line in lines:
        commit, *parents = line.split()
        env, body = read_commit(vault, commit)
        if message.parse(body.decode("utf-8", errors="replace")).trailers.get(
                message.TRAILER_TRIGGER) == MERGE_TRIGGER:
            continue  # it only put a remote backup back: the remote holds that (or newer) already
        changes = commit_changes(vault, commit, parents[0] if parents else None)
        stale = [path for path, _, blob, added in changes if added and _older_upstream(vault, upstream, path, blob)]
        if stale and behind is not None:
            behind.extend(p for p in stale if p not in behind)
        changes = [change for change in changes if change[0] not in stale]
        if not changes:
            continue
        for path, _, _, _ in changes:
            local_times[path] = _commit_time(env)
        new_tree = apply_changes(vault, changes, index_env)
        if new_tree == tree:
            continue  # the remote already holds exactly this
        tip = vault.git("commit-tree", new_tree, "-p", tip, input=body, env=env).decode().strip()
        tree = new_tree

    # Where the remote holds a newer backup of a file than ours, the tip takes it back.
    if base:
        listing = vault.git("diff", "--name-only", "-z", "--no-renames", base, upstream)
    else:
        listing = vault.git("ls-tree", "-r", "-z", "--name-only", "--full-tree", upstream)
    remote_paths = set(zsplit(listing))
    remote_times = _remote_times(vault, base, upstream, remote_paths & set(local_times))
    newer = sorted(p for p, t in remote_times.items() if t > local_times[p])
    if newer:
        tip = _take_remote(vault, tip, tree, upstream, newer, max(remote_times[p] for p in newer), index_env)
    try:
        os.unlink(index_env["GIT_INDEX_FILE"])
    except FileNotFoundError:
        pass
    return tip


def _older_upstream(vault: Vault, upstream: str, path: str, blob: str) -> bool:
    """`blob` is a version of `path` in `upstream`'s history, but not the one at its tip."""
    latest = vault.rev(f"{upstream}:{path}", peel=None)
    return latest is not None and latest != blob and blob in vault.blob_history(path, upstream)


def commit_changes(vault: Vault, commit: str, parent: str | None) -> list[tuple[str, str, str, bool]]:
    """(path, mode, blob, added) a commit set against its first parent; mode '0' = deleted."""
    args = [parent, commit] if parent else ["--root", commit]
    out = vault.git("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", *args)
    fields = zsplit(out)
    changes = []
    i = 0
    while i + 1 < len(fields) and fields[i].startswith(":"):
        meta = fields[i][1:].split()
        path = fields[i + 1]
        if meta[4].startswith("D"):
            changes.append((path, "0", ZERO, False))
        else:
            changes.append((path, meta[1], meta[3], meta[4].startswith("A")))
        i += 2
    return changes


def read_commit(vault: Vault, commit: str) -> tuple[dict[str, str], bytes]:
    """The environment that recreates a commit's author and committer, and its message."""
    raw = vault.git("cat-file", "commit", commit)
    header, _, body = raw.partition(b"\n\n")
    env = {}
    for line in header.decode("utf-8", errors="replace").splitlines():
        role, _, ident = line.partition(" ")
        if role in ("author", "committer"):
            who, stamp, zone = ident.rsplit(" ", 2)
            name, _, email = who.partition(" <")
            key = "AUTHOR" if role == "author" else "COMMITTER"
            env[f"GIT_{key}_NAME"] = name
            env[f"GIT_{key}_EMAIL"] = email.rstrip(">")
            env[f"GIT_{key}_DATE"] = f"@{stamp} {zone}"
    return env, body


def _commit_time(env: dict[str, str]) -> int:
    return int(env["GIT_COMMITTER_DATE"][1:].split()[0])


def _remote_times(vault: Vault, base: str | None, upstream: str, paths: set[str]) -> dict[str, int]:
    """For each path the remote changed since `base`: the commit time of its last change."""
    times = {}
    for path in sorted(paths):
        revs = [upstream, f"^{base}"] if base else [upstream]
        out = vault.git("log", "-1", "--format=%ct", *revs, "--", path).decode().strip()
        if out:
            times[path] = int(out)
    return times


def apply_changes(vault: Vault, changes: list[tuple[str, str, str, bool]], index_env: dict[str, str]) -> str:
    """Set `changes` (commit_changes' shape) in the index of `index_env`; the tree it makes."""
    info = b"".join(f"{mode} {blob}\t{path}".encode("utf-8", errors="surrogateescape") + b"\0"
                    for path, mode, blob, _ in changes)
    vault.git("update-index", "-z", "--index-info", input=info, env=index_env)
    return vault.git("write-tree", env=index_env).decode().strip()


def _take_remote(vault: Vault, tip: str, tree: str, upstream: str, paths: list[str],
                 when: int, index_env: dict[str, str]) -> str:
    """A commit, dated like the remote backups it restores, that sets `paths` back to them."""
    out = vault.git("ls-tree", "-z", "--full-tree", upstream, "--", *paths)
    at_remote = {}
    for record in zsplit(out):
        meta, _, name = record.partition("\t")
        mode, _, blob = meta.split()
        at_remote[name] = (mode, blob)
    changes = [(p, *at_remote.get(p, ("0", ZERO)), False) for p in paths]
    new_tree = apply_changes(vault, changes, index_env)
    if new_tree == tree:
        return tip
    prefix = f"{vault.subdir}/"
    listed = [(p[len(prefix):] if p.startswith(prefix) else p, "modified" if p in at_remote else "deleted")
              for p in paths]
    text = message.build(logs.utc_now(when), MERGE_TRIGGER, hostname(), None, listed)
    return vault.git("commit-tree", new_tree, "-p", tip, input=text.encode(), env=commit_env(when)).decode().strip()
