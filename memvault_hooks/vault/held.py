"""Secrets in backups not pushed yet, and the push they hold (SPEC "Secrets").

- `after_commit`: a sync scans the file versions its commit changed (secret_cache: by blob
  id, so an unchanged vault costs nothing) and logs what it found (never a value).
- `findings`: the unresolved findings in the commits not pushed yet (from the
  remote-tracking ref to the tip; the whole branch when there is no remote, or the remote
  changed), minus the allowed ones.
- `check_push`: called by `remote.push_backlog` before it sends anything: with a plain
  remote (`vault.encrypt` false) those findings hold the push; the reason, or None.
- The allow list lives in the vault itself, so every machine that shares it knows:
  one file a finding, `memvault-allowed-secrets/<id>` at the vault's root (outside
  `<subdir>/`; one file each, so two machines that allow different findings never
  overwrite each other when their backups are replayed).

Nothing here ever holds a value: findings carry id, path, where and kind only.
`MEMVAULT_BENCH_NO_SECRET_SCAN=1` turns scanning and holding off; it exists for the
benchmark's baseline (benchmarks/) and nothing else.
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from memvault_hooks.ui import logs
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.vault.vault import REMOTE_NAME
from memvault_hooks.vault.vault import ZERO
from memvault_hooks.vault.vault import zsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from memvault_hooks.config import Config
    from memvault_hooks.memory.secret_scan import Finding
    from memvault_hooks.vault import state
    from memvault_hooks.vault.snapshot import Capture
    from memvault_hooks.vault.vault import Vault

ALLOW_DIR = "memvault-allowed-secrets"
CACHE_NAME = "memvault-secrets-cache"
OFF_VARIABLE = "MEMVAULT_BENCH_NO_SECRET_SCAN"
NEXT = ("remove the value from the memory file, then run `memvault secrets purge`; "
        "for a false positive run `memvault secrets allow ID`; `memvault secrets` lists them")


def scanning_off() -> bool:
    """Only the benchmark's baseline turns scanning off."""
    return os.environ.get(OFF_VARIABLE) == "1"


def cache_file(vault: Vault) -> str:
    return os.path.join(vault.path, ".git", CACHE_NAME)


def holds(cfg: Config) -> bool:
    """Whether findings hold the push: a remote that is not encrypted."""
    return bool(cfg.remote) and not cfg.encrypt and not scanning_off()


def describe(finding: Finding) -> str:
    return f"{finding.id} {quote(finding.path)} {finding.where} {finding.kind}"


# --- scanning -----------------------------------------------------------------------------

def after_commit(cfg: Config, vault: Vault, captures: Iterable[Capture],
                 changes: Iterable[tuple[str, str]]) -> list[Finding]:
    """Scan the files a sync just committed (read from the vault's work tree, which holds
    exactly what was committed); log what was found. A finding never stops the backup."""
    if scanning_off():
        return []
    from memvault_hooks.memory.secret_cache import scan_blobs

    committed = {rel for rel, change in changes if change != "deleted"}
    by_blob = {cap.blob: cap.rel for cap in captures if cap.rel in committed}

    def read(blob: str) -> bytes:
        with open(vault.stored_path(by_blob[blob]), "rb") as f:
            return f.read()

    def size(blob: str) -> int:
        return os.path.getsize(vault.stored_path(by_blob[blob]))

    found = unresolved(vault, scan_blobs(by_blob.items(), read, cache_file(vault), size))
    if found:
        logs.log(cfg.log_file, f"secrets: {len(found)} possible secret(s) in this backup: "
                 + listed(found))
    return found


def unpushed(cfg: Config, vault: Vault, record: state.Record | None = None) -> list[str]:
    """The revisions of the commits not pushed yet (`git log` arguments); [] before any."""
    from memvault_hooks.vault import state as state_mod

    head = vault.head()
    if head is None:
        return []
    if not cfg.remote:
        return [head]
    if record is None:
        record = state_mod.load(vault.path)
    known = vault.rev(f"refs/remotes/{REMOTE_NAME}/{vault.branch}")
    if known is None or not state_mod.same_remote(record, state_mod.remote_id(cfg.remote)):
        return [head]
    return [head, f"^{known}"]


def changed_blobs(vault: Vault, revs: list[str]) -> list[tuple[str, str]]:
    """(blob id, path relative to source_dir) of each memory file version those commits wrote."""
    if not revs:
        return []
    prefix = f"{vault.subdir}/"
    out = vault.git("log", "--format=", "--raw", "-z", "--no-abbrev", "--no-renames", *revs, "--", prefix)
    fields = zsplit(out)
    pairs: dict[tuple[str, str], None] = {}
    i = 0
    while i + 1 < len(fields):
        meta, path = fields[i].strip(), fields[i + 1]
        i += 2
        if not meta.startswith(":"):
            continue
        blob = meta.split()[3]
        if blob != ZERO and path.startswith(prefix):
            pairs[(blob, path[len(prefix):])] = None
    return list(pairs)


def scan_revs(vault: Vault, revs: list[str]) -> list[Finding]:
    """Every finding (allowed or not) in the file versions those commits wrote."""
    pairs = changed_blobs(vault, revs)
    if not pairs:
        return []
    from memvault_hooks.memory.secret_cache import scan_blobs

    def read(blob: str) -> bytes:
        return vault.git("cat-file", "blob", blob)

    def size(blob: str) -> int:
        return int(vault.git("cat-file", "-s", blob).decode().strip() or 0)

    return scan_blobs(pairs, read, cache_file(vault), size)


def allowed(vault: Vault) -> set[str]:
    """The ids recorded as false positives in the vault's tip, or in the remote's as last
    fetched (another machine may have allowed them)."""
    ids: set[str] = set()
    for rev in ("HEAD", f"refs/remotes/{REMOTE_NAME}/{vault.branch}"):
        if vault.rev(rev) is None:
            continue
        out = vault.run("ls-tree", "-z", "--name-only", "--full-tree", rev, "--", f"{ALLOW_DIR}/",
                        check=False).stdout
        ids |= {name.rsplit("/", 1)[-1] for name in zsplit(out)}
    return ids


def unresolved(vault: Vault, found: Iterable[Finding]) -> list[Finding]:
    """Not allowed, one entry each (id, where)."""
    found = list(found)
    if not found:
        return []
    ok = allowed(vault)
    seen: dict[tuple[str, str, str], Finding] = {}
    for f in found:
        if f.id not in ok:
            seen.setdefault((f.id, f.path, f.where), f)
    return sorted(seen.values(), key=lambda f: (f.path, f.where, f.id))


def findings(cfg: Config, vault: Vault, record: state.Record | None = None) -> list[Finding]:
    """The unresolved findings in the commits not pushed yet."""
    if scanning_off() or not vault.exists():
        return []
    return unresolved(vault, scan_revs(vault, unpushed(cfg, vault, record)))


# --- holding ------------------------------------------------------------------------------

SHOWN = 10  # findings named in one message; `memvault secrets` lists them all


def listed(found: list[Finding]) -> str:
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return "; ".join(map(describe, found[:SHOWN])) + more


def message(found: list[Finding]) -> str:
    """Why the push waits and what to do: one line (logs), never a value."""
    return (f"push held: {len(found)} possible secret(s) in backups not pushed yet "
            f"(id, file, where, kind): {listed(found)}. "
            f"The backups are kept in the local vault; nothing was sent. Next: {NEXT}")


def check_push(cfg: Config, vault: Vault, record: state.Record) -> str | None:
    """Before a push to a plain remote: the reason it is held, or None."""
    if not holds(cfg):
        return None
    found = findings(cfg, vault, record)
    if found and _fetched(cfg, vault):
        found = findings(cfg, vault, record)  # another machine may have allowed them meanwhile
    return message(found) if found else None


def _fetched(cfg: Config, vault: Vault) -> bool:
    """Fetch the remote's branch (bounded by vault.timeout); False when it cannot be reached
    (the push is held either way: the hold is said, not the network)."""
    from memvault_hooks.errors import MemvaultError
    from memvault_hooks.vault import remote

    try:
        remote.fetch(vault, remote.remote_url(cfg), cfg.timeout, remote.ssh_env(vault))
    except MemvaultError:
        return False
    return True


# --- allowing -----------------------------------------------------------------------------

def allow_entry(finding: Finding, when: str, host: str) -> bytes:
    doc = {**finding.to_json(), "allowed": when, "host": host}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def note(cfg: Config, found: list[Finding]) -> str:
    """What a sync says about findings that hold nothing (no remote, or an encrypted one)."""
    if not cfg.remote:
        where = "they stay in the local vault (no vault.remote: nothing leaves this machine)"
    elif cfg.encrypt:
        where = "the remote is encrypted (vault.encrypt): they are pushed encrypted"
    else:
        where = "the push of this backup is held"
    return (f"note: {len(found)} possible secret(s) in this backup (id, file, where, kind): "
            f"{listed(found)}; {where}. `memvault secrets` lists them")


def status_problems(cfg: Config, found: list[Finding]) -> list[str]:
    """`status` is not ok while findings hold the push."""
    if not found or not holds(cfg):
        return []
    return [f"the push is held by {len(found)} possible secret(s) (listed under secrets). Next: {NEXT}"]


def status_warnings(cfg: Config, found: list[Finding]) -> list[str]:
    """Findings that hold nothing (no remote, or an encrypted one): worth knowing, not a failure."""
    if not found or holds(cfg):
        return []
    why = "no vault.remote: nothing leaves this machine" if not cfg.remote else "vault.encrypt is on"
    return [f"{len(found)} possible secret(s) in the vault ({why}; a plain remote set later would be held): "
            "`memvault secrets` lists them"]
