"""`memvault status [--json]`: last sync, what changed since, pending pushes, last error."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from typing import Any

from memvault_hooks import backup
from memvault_hooks import config
from memvault_hooks import sources
from memvault_hooks import state
from memvault_hooks.commands import cron
from memvault_hooks.commands import install_hooks


def blob_id(path: str) -> str:
    """git's blob id of a file, streamed."""
    size = os.stat(path).st_size
    digest = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def changed_paths(cfg: config.Config, record: dict[str, Any]) -> list[str]:
    """Present memory files whose content differs from the vault's tip."""
    vault = backup.vault_of(cfg)
    tip = vault.tip_blobs() if vault.exists() else {}
    changed = []
    for rel, sig in sources.discover(cfg.source_dir, cfg.files).items():
        entry = record["files"].get(rel)
        if state.entry_matches(entry, sig):
            live = entry["blob"]
        else:
            try:
                live = blob_id(os.path.join(cfg.source_dir, rel))
            except OSError:
                continue
        if tip.get(rel) != live:
            changed.append(rel)
    return changed


def collect(cfg: config.Config) -> dict[str, Any]:
    record = state.load(cfg.vault_path)
    report = {
        "ok": False,
        "last_sync": record.get("last_sync"),
        "changed": changed_paths(cfg, record),
        "push_pending": record.get("push_pending", 0),
        "hooks_installed": install_hooks.installed(cfg.project),
        "cron_installed": cron.installed(cfg),
        "last_error": record.get("last_error"),
        "vault": cfg.vault_path,
    }
    report["ok"] = bool(report["last_sync"]) and not report["last_error"]
    return report


def run(args: argparse.Namespace) -> int:
    cfg = config.from_args(args.directory, args.config)
    report = collect(cfg)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:16} {value if not isinstance(value, list) else ', '.join(value) or '-'}")
    return 0 if report["ok"] else 1
