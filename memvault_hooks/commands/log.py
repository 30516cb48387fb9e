"""`memvault log [FILE] [-n N] [--json]`: the vault's history, newest first."""
from __future__ import annotations

import argparse
import json

from memvault_hooks import config
from memvault_hooks.history import filearg
from memvault_hooks.history import when
from memvault_hooks.errors import UsageError
from memvault_hooks.history.history import History
from memvault_hooks.history.history import NoVersion
from memvault_hooks.history.history import Version
from memvault_hooks.ui.term import Painter
from memvault_hooks.ui.pathquote import quote

_CHANGE_STYLE = {"added": "green", "modified": "yellow", "deleted": "red"}


def render(versions: list[Version], painter: Painter) -> list[str]:
    lines = []
    for v in versions:
        head = [painter.yellow(v.short), when.local(v.time), painter.cyan(v.trigger or "?")]
        if v.host:
            head.append(f"host {v.host}")
        if v.source_commit:
            head.append(f"project {v.source_commit[:12]}")
        lines.append("  ".join(head))
        for path, change in v.files:
            lines.append(f"    {painter.paint(f'{change:9}', _CHANGE_STYLE.get(change, 'bold'))} {quote(path)}")
        for alert in v.alerts:  # a memory-loss alert: this commit holds the shrunken content
            lines.append(f"    {painter.red('ALERT    ')} {alert} (the version before holds the last good content)")
    return lines


HELP = "vault history, newest first"
EPILOG = "FILE is a memory file's path relative to source_dir, or @SOURCE/PATH for a file of a source (@notes/today.md, @claude-code/MEMORY.md)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="only the versions that changed this memory file")
    parser.add_argument("-n", type=int, metavar="N", dest="n", help="show at most N versions")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of text")


def run(args: argparse.Namespace) -> int:
    if args.n is not None and args.n < 0:
        raise UsageError(f"-n {args.n}: give a number of versions, 0 or more")
    cfg = config.from_args(args.directory, args.config)
    rel = filearg.relative(cfg, args.file) if args.file else None
    with History(cfg) as hist:
        if rel is not None and not hist.versions(rel, 1):
            raise NoVersion(f"the vault {cfg.vault_path} has never held {rel}{filearg.did_you_mean(rel, hist.known_paths())}")
        versions = hist.versions(rel, args.n) if args.n != 0 else []
    if args.json:
        print(json.dumps([v.to_json() for v in versions], indent=2))
        return 0
    if not versions and args.n != 0:
        what = f" of {rel}" if rel else ""
        print(f"memvault: no backups{what} yet in {cfg.vault_path}")
        return 0
    if versions:
        print("\n".join(render(versions, Painter())))
    return 0
