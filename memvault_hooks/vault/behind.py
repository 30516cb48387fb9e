"""Files that are *behind* the vault (SPEC "Joining a shared vault").

A memory file is behind when this machine has never backed it up and its live content is
an older version that the vault already holds (not its latest): a second machine that
joins a shared vault with a stale copy (a project clone's committed `memory.json`) must
not back that copy up over the newer one. Only files this machine never backed up need
the history lookup: one `git log --raw` walk of the file's path in the vault.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from memvault_hooks.vault import state
from memvault_hooks.vault.vault import Vault

if TYPE_CHECKING:
    from memvault_hooks.config import Config

# The state record's flag on an entry whose live content was found behind.
FLAG: Final = "behind"


def advice(rels: list[str]) -> str:
    """What a user reads about behind files: the files and the two ways out."""
    names = ", ".join(rels)
    first = rels[0] if len(rels) == 1 else " ".join(rels)
    verb = "is" if len(rels) == 1 else "are"
    return (f"{names} {verb} behind the vault: an older version than the vault's newest, never backed up "
            f"from this machine; left out so the newer version stays the newest. Run `memvault restore {first}` "
            "to bring it up to date, or `memvault sync --keep-local` to back up this content as the newest anyway")


def never_backed_up(entry: object) -> bool:
    """True for a state record entry that does not stand for a backup from this machine."""
    return not isinstance(entry, dict) or bool(entry.get(FLAG))


def older_versions(vault: Vault, rel: str) -> set[str]:
    """Every blob id the vault's history (from HEAD) has held at `rel`."""
    if vault.head() is None:
        return set()
    return vault.blob_history(f"{vault.subdir}/{rel}")


def is_behind(vault: Vault, rel: str, live_blob: str, latest_blob: str | None) -> bool:
    """`live_blob` is a version of `rel` the vault holds, but not its latest one."""
    if latest_blob is None or latest_blob == live_blob:
        return False
    return live_blob in older_versions(vault, rel)


def live_files_behind(cfg: Config, vault: Vault,
                      record: state.Record, tip: dict[str, str] | None = None) -> list[str]:
    """The present memory files that are behind now (for `status` and `init`): those a
    sync flagged, while unchanged since, and those this machine never backed up whose
    content is an older version the vault holds."""
    from memvault_hooks.memory import places

    if not vault.exists() or vault.head() is None:
        return []
    if tip is None:
        tip = vault.blobs()
    found = []
    for rel, sig in places.discover(cfg).items():
        if not never_backed_up(record["files"].get(rel)):
            continue
        live = places.current_blob(cfg, record, rel, sig)
        if live is not None and is_behind(vault, rel, live, tip.get(rel)):
            found.append(rel)
    return found
