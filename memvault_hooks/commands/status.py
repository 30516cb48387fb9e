"""`memvault status [--json]`: last sync, what changed since, pending pushes, last error."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from typing import Any

from memvault_hooks.vault import backup
from memvault_hooks.vault import behind
from memvault_hooks import config
from memvault_hooks import cron_schedule
from memvault_hooks.memory import alerts
from memvault_hooks.memory import places
from memvault_hooks.vault import state
from memvault_hooks.history import when
from memvault_hooks.commands import cron
from memvault_hooks.commands import install_hooks
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.term import Painter


def changed_paths(cfg: config.Config, record: state.Record) -> list[str]:
    """Present memory files whose content differs from the vault's tip."""
    vault = backup.vault_of(cfg)
    tip = vault.blobs() if vault.exists() else {}
    changed = []
    for rel, sig in places.discover(cfg).items():
        live = places.current_blob(cfg, record, rel, sig)
        if live is not None and tip.get(rel) != live:
            changed.append(rel)
    return changed


def collect(cfg: config.Config) -> dict[str, Any]:
    record = state.load(cfg.vault_path)
    schedule = cron.installed_schedule(cfg)
    vault = backup.vault_of(cfg)
    behind_now = behind.live_files_behind(cfg, vault, record)
    report: dict[str, Any] = {
        "ok": False,
        "last_sync": state.last_success(cfg.vault_path, record),
        # A behind file differs from the tip too, but a sync will not take it: not "changed".
        "changed": [rel for rel in changed_paths(cfg, record) if rel not in behind_now],
        "behind": behind_now,
        "push_pending": record.get("push_pending", 0),
        "hooks_installed": install_hooks.installed(cfg.project),
        "cron_installed": schedule is not None,
        "last_error": record.get("last_error"),
        "vault": cfg.vault_path,
        "alerts": [alert.to_json() for alert in alerts.Record.load(cfg.vault_path).active()],
    }
    from memvault_hooks.vault import held

    found = held.findings(cfg, vault, record)
    report["secrets"] = [f.to_json() for f in found]
    report["warnings"] = warnings(report) + list(cfg.warnings)  # the presets': a .mcp.json not read
    report["problems"] = problems(cfg, report, schedule)
    report["problems"] += held.status_problems(cfg, found)
    report["warnings"] += held.status_warnings(cfg, found)
    if cfg.encrypt:  # an encrypted remote this machine holds no key for; a clear history left behind
        from memvault_hooks.vault import encrypted_push

        report["problems"] += encrypted_push.problems(cfg)
        report["warnings"] += filter(None, [encrypted_push.clear_history(cfg.vault_path)])
    report["ok"] = not report["problems"]
    return report


def warnings(report: dict[str, Any]) -> list[str]:
    """What is worth knowing but not a failure: no trigger at all, a cron entry nothing runs."""
    found = []
    if not report["hooks_installed"] and not report["cron_installed"]:
        found.append("backups run only by hand: run `memvault install-hooks` or `memvault cron install`")
    if report["cron_installed"] and cron.daemon_running() is False:
        found.append(cron.NO_DAEMON)
    return found


def stale_after(schedule: str | None) -> dt.timedelta | None:
    """Twice the longest gap between two runs of the installed cron entry; None without one
    (or when its schedule, edited by hand, cannot be read)."""
    if schedule is None:
        return None
    try:
        return 2 * cron_schedule.max_gap(schedule)
    except cron_schedule.InvalidSchedule:
        return None


def problems(cfg: config.Config, report: dict[str, Any], schedule: str | None,
             now: dt.datetime | None = None) -> list[str]:
    """Why status is not ok: nothing backed up, the last run failed, or backups went stale
    (measured against the cron entry actually installed: without one nothing is overdue)."""
    found = []
    vault = backup.vault_of(cfg)
    if not vault.exists() or vault.head() is None:
        found.append("nothing has been backed up yet (run `memvault sync`)")
    if report["last_error"]:
        error = report["last_error"]
        said = error.get("message", error) if isinstance(error, dict) else error
        found.append(f"the last run failed: {said}")
    limit = stale_after(schedule)
    report["stale_after_seconds"] = int(limit.total_seconds()) if limit is not None else None
    if report["last_sync"]:
        last = when.parse(report["last_sync"])
        age = (now or dt.datetime.now(dt.timezone.utc)) - last
        if limit is not None and age > limit:
            found.append(f"the last successful sync was {_ago(age)} ago, more than twice the schedule's "
                         f"interval (the installed cron entry's {schedule!r}: stale after {_ago(limit)}); "
                         f"see `memvault cron status` and the log")
    elif vault.exists() and vault.head() is not None:
        found.append("no successful sync is recorded on this machine (run `memvault sync`)")
    found += [f"memory-loss alert: {alerts.Alert(**a).status_line()}" for a in report.get("alerts", [])]
    return found


def _ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    unit, size = next((u, s) for u, s in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
                      if seconds >= s or s == 1)
    n = seconds // size
    return f"{n} {unit}{'s' if n != 1 else ''}"


def _yes_no(value: Any) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def render(report: dict[str, Any], painter: Painter) -> list[str]:
    error = report["last_error"]
    if isinstance(error, dict):
        error = f"{error.get('time', '?')} {error.get('trigger', '?')}: {error.get('message', '')}"
    last = report["last_sync"]
    if last:
        last = f"{when.local(when.parse(last))} ({_ago(dt.datetime.now(dt.timezone.utc) - when.parse(last))} ago)"
    rows = [
        ("ok", painter.green("yes") if report["ok"] else painter.red("NO")),
        ("last sync", last or "never"),
        ("changed", ", ".join(map(quote, report["changed"])) or "nothing since the last backup"),
        ("behind", ", ".join(map(quote, report["behind"])) or "none"),
        ("push pending", str(report["push_pending"] or 0)),
        ("hooks installed", _yes_no(report["hooks_installed"])),
        ("cron installed", _yes_no(report["cron_installed"])),
        ("last error", painter.red(str(error)) if error else "none"),
        ("vault", report["vault"]),
    ]
    lines = [f"{painter.bold(f'{name:16}')} {value}" for name, value in rows]
    lines += [painter.red(f"! {problem}") for problem in report["problems"]]
    lines += [painter.yellow(f"warning: {warning}") for warning in report["warnings"]]
    if report["behind"]:
        lines.append(painter.yellow(f"note: {behind.advice(report['behind'])}"))
    if report.get("secrets"):
        lines.append(painter.bold("secrets (id, file, where, kind):"))
        lines += [f"    {s['id']} {quote(s['path'])} {s['where']} {s['kind']}" for s in report["secrets"]]
    return lines


HELP = "last sync, what changed since, pending pushes, hooks and cron, last error, warnings"
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from memvault_hooks import trust
    from memvault_hooks.vault import vaultmark

    cfg = config.from_args(args.directory, args.config, trusted=False)
    try:
        vaultmark.check(cfg.vault_path)
    except vaultmark.NotAVault as exc:  # nothing of it is read as a vault
        report: dict[str, Any] = {"ok": False, "last_sync": None, "changed": [], "behind": [], "push_pending": 0,
                  "hooks_installed": install_hooks.installed(cfg.project), "cron_installed": False,
                  "last_error": None, "vault": cfg.vault_path, "warnings": [], "problems": [str(exc)],
                  "alerts": [], "secrets": []}
    else:
        report = collect(cfg)
    if trust.waiting(cfg.to_dict()):
        report["problems"].insert(0, trust.message(cfg.to_dict()))
        report["ok"] = False
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(render(report, Painter())))
    return 0 if report["ok"] else 1
