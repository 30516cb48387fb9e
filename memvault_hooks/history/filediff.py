"""One memory file's change between two contents, rendered for a reader.

JSON: key by key (`+ user.likes[2] = "tea"`, `- user.name = "Ann"`, `~ user.age: 41 -> 42`);
JSON Lines: entity by entity; anything else, or JSON that does not parse: a unified text
diff. A side that does not exist (a file not yet backed up) counts as empty.
"""
from __future__ import annotations

import difflib
import json
from typing import Any

from memvault_hooks.memory import formats
from memvault_hooks.history import jsondiff
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.term import Painter

# On a terminal, values longer than this are cut (with their length said); never in a pipe.
TTY_WIDTH = 160


def _value(value: Any, cut: bool) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if cut and len(text) > TTY_WIDTH:
        return f"{text[:TTY_WIDTH]}… ({len(text)} chars)"
    return text


def render_changes(changes: list[jsondiff.Change], painter: Painter) -> list[str]:
    cut = painter.enabled
    lines = []
    for c in changes:
        name = ": ".join(part for part in (c.where, c.path) if part) or "(whole document)"
        if c.kind == "added":
            lines.append(painter.green(f"  + {name} = {_value(c.new, cut)}"))
        elif c.kind == "removed":
            lines.append(painter.red(f"  - {name} = {_value(c.old, cut)}"))
        else:
            lines.append(painter.yellow(f"  ~ {name}: {_value(c.old, cut)} -> {_value(c.new, cut)}"))
    return lines


def _empty_like(other: Any) -> Any:
    return [] if isinstance(other, list) else {} if isinstance(other, dict) else jsondiff.MISSING


def _json_changes(old: bytes | None, new: bytes | None) -> list[jsondiff.Change]:
    """ValueError when a present side does not parse."""
    a = json.loads(old.decode("utf-8-sig")) if old is not None else jsondiff.MISSING
    b = json.loads(new.decode("utf-8-sig")) if new is not None else jsondiff.MISSING
    if a is jsondiff.MISSING:
        a = _empty_like(b)
    if b is jsondiff.MISSING:
        b = _empty_like(a)
    if a is jsondiff.MISSING or b is jsondiff.MISSING:
        kind = "added" if a is jsondiff.MISSING else "removed"
        return [jsondiff.Change(kind, "", old=a, new=b)]
    return jsondiff.diff(a, b)


def _jsonl_changes(old: bytes | None, new: bytes | None) -> list[jsondiff.Change]:
    a = jsondiff.parse_lines(old) if old is not None else {}
    b = jsondiff.parse_lines(new) if new is not None else {}
    return jsondiff.diff_lines(a, b)


def _text_diff(rel: str, old: bytes | None, new: bytes | None, labels: tuple[str, str],
               painter: Painter) -> list[str]:
    try:
        a = (old or b"").decode("utf-8").splitlines(keepends=True)
        b = (new or b"").decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return [f"  binary content differs ({len(old or b'')} -> {len(new or b'')} bytes)"]
    lines = []
    for line in difflib.unified_diff(a, b, f"{labels[0]}/{rel}", f"{labels[1]}/{rel}"):
        line = line.rstrip("\n")
        if line.startswith(("+++", "---")):
            lines.append(painter.bold(line))
        elif line.startswith("+"):
            lines.append(painter.green(line))
        elif line.startswith("-"):
            lines.append(painter.red(line))
        elif line.startswith("@@"):
            lines.append(painter.cyan(line))
        else:
            lines.append(line)
    return lines


# Above this size (either side) a diff says what changed in size and id only: a key-by-key
# or line diff would hold both sides, parsed, in memory.
DIFF_MAX = 8 << 20


def summary(rel: str, ids: tuple[tuple[str, int] | None, tuple[str, int] | None], labels: tuple[str, str],
            painter: Painter) -> list[str]:
    """The bounded diff of a file too large to compare in memory."""
    def said(found: tuple[str, int] | None) -> str:
        return "absent" if found is None else f"{found[1]} bytes, blob {found[0][:12]}"

    state = "added" if ids[0] is None else "deleted" if ids[1] is None else "changed"
    return [painter.bold(quote(rel)) + painter.dim(f"  ({labels[0]} -> {labels[1]}, {state})"),
            painter.dim(f"  too large for a line or key diff (over {DIFF_MAX >> 20} MB): "
                        f"{said(ids[0])} -> {said(ids[1])}; see `memvault show {rel}`")]


def render(rel: str, old: bytes | None, new: bytes | None, labels: tuple[str, str],
           painter: Painter) -> list[str]:
    """Lines for one file, headed by its name; [] when both sides are the same."""
    if old == new:
        return []
    state = "added" if old is None else "deleted" if new is None else "changed"
    header = [painter.bold(quote(rel)) + painter.dim(f"  ({labels[0]} -> {labels[1]}, {state})")]
    kind = formats.kind_of(rel)
    note = None
    if kind in ("json", "jsonl") and any(side is not None and formats.too_deep(side) for side in (old, new)):
        note = painter.dim(f"  (nested more than {formats.MAX_DEPTH} levels on one side: a text diff)")
    elif kind in ("json", "jsonl"):
        try:
            changes = _json_changes(old, new) if kind == "json" else _jsonl_changes(old, new)
        except (ValueError, UnicodeDecodeError):
            note = painter.dim(f"  (not valid {'JSON' if kind == 'json' else 'JSON Lines'} on one side: a text diff)")
        else:
            body = render_changes(changes, painter)
            if not body:
                body = [painter.dim("  (same data, formatting differs)")]
            return header + body
    return header + ([note] if note else []) + _text_diff(rel, old, new, labels, painter)
