"""`memvault verify [--json]`: prove the backup is whole and restorable.

Checks, each a row {name, ok, detail}; exit 1 when any fails:
- `vault`: the vault exists and has at least one backup;
- `fsck`: `git fsck --full --strict` finds every object whole and connected;
- `restore`: the tip, restored into a temporary folder, hashes to the stored blob ids;
- `formats`: every file at the tip parses per its format (JSON, JSON Lines);
- `drift`: live files that differ from the tip. Drift is not a failure (the backup is
  merely behind: the next sync catches up, `status` reports it) — the row says which;
- `remote`: with `vault.remote` set, whether the local and remote tips agree (time-bounded);
  with `vault.encrypt`, whether every bundle on the remote decrypts and is a valid bundle.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any

from memvault_hooks.vault import backup
from memvault_hooks import config
from memvault_hooks.vault import file_lock
from memvault_hooks.memory import formats
from memvault_hooks.ui import logs
from memvault_hooks.vault import remote
from memvault_hooks.memory import places
from memvault_hooks.memory import sqlite_store
from memvault_hooks.vault import dbcapture
from memvault_hooks.history.blobs import blob_id
from memvault_hooks.config import Config
from memvault_hooks.vault.gitenv import run_git
from memvault_hooks.history.history import History
from memvault_hooks.history.history import Version
from memvault_hooks.ui.term import Painter

Row = dict[str, Any]


def _row(name: str, ok: bool, detail: str) -> Row:
    return {"name": name, "ok": ok, "detail": detail}


def check_fsck(cfg: Config) -> Row:
    proc = run_git(cfg.vault_path, "fsck", "--full", "--strict", "--no-progress", "--no-dangling",
                   check=False)
    out = [" ".join(line.split()) for line in (proc.stdout + proc.stderr).decode(errors="replace").splitlines()]
    out = [line for line in out if line]
    if proc.returncode == 0 and not any(line.startswith(("error", "fatal", "missing", "broken")) for line in out):
        return _row("fsck", True, "git fsck --full: every object is whole and connected")
    shown = "; ".join(out[:5]) + (f" (and {len(out) - 5} more lines)" if len(out) > 5 else "")
    return _row("fsck", False, f"git fsck --full failed (exit {proc.returncode}): {shown or 'no output'}")


def check_tip(cfg: Config, hist: History, tip: Version) -> list[Row]:
    """Restore the tip into a temporary folder; compare hashes, then parse each file."""
    blobs = hist.blobs(tip)
    bad_hash: list[str] = []
    bad_format: list[str] = []
    with tempfile.TemporaryDirectory(prefix="memvault-verify-") as tmp:
        for rel, sha in blobs.items():
            path = os.path.join(tmp, *rel.split("/"))
            try:
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
                with open(path, "wb") as f:
                    hist.copy_blob(sha, f.write)  # streamed: memory of one piece, any size
                ok = blob_id(path) == sha
            except Exception as exc:  # a damaged object: git or GitPython says why
                bad_hash.append(f"{rel}: cannot be read ({type(exc).__name__}: {str(exc).strip()[:200]})")
                continue
            if not ok:
                bad_hash.append(f"{rel}: restored content does not hash to {sha[:12]}")
                continue
            problem = (dbcapture.problem(path) if sqlite_store.is_database(rel, path)
                       else formats.problem(path, formats.kind_of(rel)))
            if problem:
                bad_format.append(f"{rel}: {problem}")
    count = f"{len(blobs)} file(s) at {tip.short}"
    rows = [_row("restore", not bad_hash,
                 "; ".join(bad_hash) if bad_hash else f"test restore of {count} matches the stored hashes")]
    checked = len(blobs) - len(bad_hash)
    rows.append(_row("formats", not bad_format,
                     "; ".join(bad_format) if bad_format else f"{checked} file(s) at the tip parse per their format"))
    return rows


def check_drift(cfg: Config, tip_blobs: dict[str, str]) -> Row:
    present = places.discover(cfg)
    if present and not tip_blobs:
        return _row("drift", False, f"{len(present)} memory file(s) in {cfg.source_dir}, none of them in the "
                                    f"backup under {cfg.subdir}/ (run `memvault sync`)")
    differ, missing = [], []
    for rel in sorted(set(present) | set(tip_blobs)):
        if rel not in present:
            missing.append(rel)
            continue
        try:
            live = places.live_blob_id(cfg, rel)
        except OSError:
            missing.append(rel)
            continue
        if tip_blobs.get(rel) != live:
            differ.append(rel)
    parts = []
    if differ:
        parts.append(f"changed since the last backup (run `memvault sync`): {', '.join(differ)}")
    if missing:
        parts.append(f"in the backup, not in source_dir: {', '.join(missing)}")
    return _row("drift", True, "; ".join(parts) if parts else "the live files match the latest backup")


def check_remote(cfg: Config) -> Row | None:
    """With `vault.remote` set: do the local and remote tips agree? (`remote.check_tips`)."""
    if not cfg.remote:
        return None
    if cfg.encrypt:
        from memvault_hooks.vault import encrypted_push

        try:
            ok, detail = encrypted_push.check(cfg)
        except Exception as exc:
            return _row("remote", False, f"{cfg.remote} (encrypted): {exc}")
        return _row("remote", ok, detail)
    try:
        ok, detail = remote.check_tips(cfg)
    except Exception as exc:
        return _row("remote", False, f"{cfg.remote}: {exc}")
    return _row("remote", ok, detail)


def collect(cfg: Config) -> list[Row]:
    if not os.path.isdir(os.path.join(cfg.vault_path, ".git")):
        return [_row("vault", False, f"no vault at {cfg.vault_path} (run `memvault init`, then `memvault sync`)")]
    with file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT):
        rows = [check_fsck(cfg)]
        with History(cfg) as hist:
            try:
                tip = hist.latest()
            except Exception as exc:
                rows.insert(0, _row("vault", False, f"{cfg.vault_path}: no backup can be read: {exc}"))
                tip = None
            if tip is not None:
                rows.insert(0, _row("vault", True, f"{cfg.vault_path}: latest backup {tip.describe()}"))
                rows += check_tip(cfg, hist, tip)
                try:
                    tip_blobs = hist.blobs(tip)
                except Exception:
                    tip_blobs = {}
                rows.append(check_drift(cfg, tip_blobs))
    remote_row = check_remote(cfg)
    if remote_row is not None:
        rows.append(remote_row)
    return rows


HELP = "prove the backup is whole and restorable (exit 1 when any check fails)"
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    cfg = config.from_args(args.directory, args.config)
    rows = collect(cfg)
    ok = all(row["ok"] for row in rows)
    for row in rows:
        if not row["ok"]:
            logs.error(cfg.error_log, f"verify: {row['name']}: {row['detail']}")
    if args.json:
        print(json.dumps({"ok": ok, "checks": rows}, indent=2))
    else:
        painter = Painter()
        width = max(len(row["name"]) for row in rows)
        for row in rows:
            mark = painter.green("ok  ") if row["ok"] else painter.red("FAIL")
            print(f"{mark}  {row['name']:{width}}  {row['detail']}")
        print(painter.bold("verified: the backup is whole and restorable") if ok
              else painter.red(painter.bold("verify FAILED")))
    return 0 if ok else 1
