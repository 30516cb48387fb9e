"""`memvault secrets [allow ID | purge] [--json]`: the secrets found in backups not pushed
yet; allow a false positive; redact the history that was not pushed, and release the push."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from memvault_hooks import config
from memvault_hooks.atomic import write_atomic
from memvault_hooks.errors import MemvaultError
from memvault_hooks.errors import UsageError
from memvault_hooks.vault import backup
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.vault import held

HELP = "list secrets found in backed-up files; allow a false positive; redact not-yet-pushed history"
EPILOG = (
    "Every file a sync backs up is scanned. With a plain (unencrypted) vault.remote, the backups "
    "that hold a finding are not pushed until it is resolved: remove the value from the memory file "
    "and run `memvault secrets purge` (each held value becomes [REDACTED <kind>] in every version not "
    "pushed yet), or `memvault secrets allow ID` for a false positive (recorded in the vault, so every "
    "machine sharing it knows). A value is never shown: a finding is its id, file, where (JSON path "
    "or line) and kind. A secret split across lines or base64-encoded is not detected.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("allow", "purge"), metavar="allow ID | purge",
                        help="allow ID: record a finding as a false positive; purge: redact the held "
                             "values in every backup not pushed yet, then push")
    parser.add_argument("id", nargs="?", metavar="ID", help="a finding's id, as `memvault secrets` lists it")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    if args.action != "allow" and args.id is not None:
        raise UsageError(f"unexpected argument {args.id!r}: only `memvault secrets allow ID` takes an id")
    if args.action == "allow" and not args.id:
        raise UsageError("`memvault secrets allow` needs the finding's ID: run `memvault secrets` to list them")
    cfg = config.from_args(args.directory, args.config)  # the trust rule, like `log`
    from memvault_hooks.vault import vaultmark

    vaultmark.check(cfg.vault_path)  # nothing of a repository memvault did not make is read
    vault = backup.vault_of(cfg)
    if args.action is None:
        return _list(cfg, vault, args.json)
    from memvault_hooks.vault import file_lock

    with file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT):
        vault = backup.ensure_vault(cfg)
        if args.action == "allow":
            out = _allow(cfg, vault, args.id)
        else:
            out = _purge(cfg, vault)
        pushed = _release(cfg, vault)
    if args.json:
        out["push"] = pushed
        print(json.dumps(out, indent=2))
    elif pushed:
        print(f"memvault: {pushed}")
    return 0


def _list(cfg: config.Config, vault: backup.Vault, as_json: bool) -> int:
    found = held.findings(cfg, vault)
    if as_json:
        print(json.dumps([f.to_json() for f in found], indent=2))
        return 0
    if not found:
        print("memvault: no secrets found in the backups not pushed yet")
        return 0
    rows = [("ID", "FILE", "WHERE", "KIND"), *((f.id, quote(f.path), f.where, f.kind) for f in found)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    if held.holds(cfg):
        print(f"memvault: the push is held. Next: {held.NEXT}")
    elif not cfg.remote:
        print("memvault: no vault.remote: nothing is held (nothing leaves this machine); "
              "set a remote and these hold its first push")
    else:
        print("memvault: vault.encrypt is on: nothing is held (the remote receives them encrypted)")
    return 0


def _allow(cfg: config.Config, vault: backup.Vault, wanted: str) -> dict[str, object]:
    from memvault_hooks.ui import logs
    from memvault_hooks.vault import message
    from memvault_hooks.vault.vault import commit_env
    from memvault_hooks.vault.vault import hostname

    found = held.findings(cfg, vault)
    match = [f for f in found if f.id == wanted]
    if not match:
        known = ", ".join(sorted({f.id for f in found})) or "none"
        raise UsageError(f"no finding has the id {wanted!r} (the findings now: {known}); "
                         "run `memvault secrets` to list them")
    finding = match[0]
    when = int(time.time())
    rel = f"{held.ALLOW_DIR}/{finding.id}"
    folder = os.path.join(vault.path, held.ALLOW_DIR)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    write_atomic(os.path.join(folder, finding.id), held.allow_entry(finding, logs.utc_now(when), hostname()))
    vault.git("add", "--", rel)
    text = message.build(logs.utc_now(when), "secrets-allow", hostname(), None, [(rel, "added")])
    vault.git("-c", "maintenance.auto=false", "commit", "-q", "--no-verify", "-F", "-",
              input=text.encode(), env=commit_env(when))
    logs.log(cfg.log_file, f"secrets allow {held.describe(finding)}")
    print(f"memvault: allowed {held.describe(finding)} (recorded in the vault as {rel})", file=sys.stderr)
    return {"allowed": finding.to_json()}


def _purge(cfg: config.Config, vault: backup.Vault) -> dict[str, object]:
    from memvault_hooks.ui import logs
    from memvault_hooks.vault import purge

    done = purge.purge(cfg, vault)
    if done.redacted:
        said = (f"purged {len(done.redacted)} finding(s) from {done.versions} file version(s) in "
                f"{done.commits} backup(s) not pushed yet: " + "; ".join(map(held.describe, done.redacted)))
    else:
        said = "nothing to purge: no held value in the backups not pushed yet"
    logs.log(cfg.log_file, f"secrets {said}")
    print(f"memvault: {said}", file=sys.stderr)
    if done.left:
        print("memvault: these files could not be scanned and cannot be redacted: "
              + "; ".join(map(held.describe, done.left))
              + ". Remove them from the memory files, or `memvault secrets allow ID` once you checked them",
              file=sys.stderr)
    return {"purged": [f.to_json() for f in done.redacted], "left": [f.to_json() for f in done.left],
            "commits": done.commits, "versions": done.versions}


def _release(cfg: config.Config, vault: backup.Vault) -> str | None:
    """Push what waits, under the lock already held: "pushed", the reason it waits, or None."""
    if not cfg.remote or vault.head() is None:
        return None
    from memvault_hooks.vault import remote
    from memvault_hooks.vault import state

    record = state.load(vault.path)
    waiting = record.get("push_pending")
    error = remote.push_backlog(cfg, vault, record)
    if error:
        from memvault_hooks import urls
        from memvault_hooks.ui import logs

        now = logs.utc_now()
        record["last_error"] = {"time": now, "trigger": "secrets", "message": urls.mask(error)}
        logs.error(cfg.error_log, f"secrets: {error}")
    elif _held_before(record):
        record["last_error"] = None  # the hold is released (any other failure stays said)
    state.save(vault.path, record)
    if error:
        raise MemvaultError(error)
    return "pushed" if waiting else None


def _held_before(record: Any) -> bool:
    error = record.get("last_error") if isinstance(record, dict) else None
    return isinstance(error, dict) and str(error.get("message", "")).startswith("push held")
