"""Secrets in backed-up files: find them, name where they are, never show them.

Contract (SPEC "Secrets"):
- `scan_blob(data, path)` returns the `Finding`s of one file version. JSON and JSON Lines
  are parsed as a stream (ijson events, an explicit path stack: bounded memory, no
  recursion, so a deeply nested file is fine) and every string value (and key) is scanned,
  so a finding names its JSON path (`$.entities[3].observations[0]`; JSON Lines:
  `line 4: $.observations[0]`; a key that is itself a secret shows as `[<secret key>]`).
  Anything else, JSON that does not parse and JSON nested past formats.MAX_DEPTH are
  scanned by line (`line 12`). A crash of the scanner on a file, or a file over SCAN_MAX
  bytes, gives one finding of kind "unscanned" for it: held, never clean.
  What is looked for: secret_detectors.
- A `Finding` is (id, path, where, kind). The id is a hash of kind + value + path (the
  value never leaves the secret_* modules: no repr, str, log or cache holds it), so it is
  stable across versions of a file and `secrets allow ID` covers the value wherever it
  moves in that file. Out of scope: a secret split across lines or base64-encoded.

Wiring (for the integrator): backup calls secret_cache.scan_blobs on the blobs a commit
changed; `status --json` `secrets` is `[f.to_json() for f in findings]`; `secrets purge`
uses secret_redact. Never import these modules on the hook's no-change path.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Sequence
    from typing import Any

from memvault_hooks.memory import secret_detectors
from memvault_hooks.errors import MemvaultError
from memvault_hooks.memory.secret_detectors import Active

UNSCANNED = "unscanned"
# A file version larger than this is not scanned (the scanner holds it, decoded, in memory):
# it is one "unscanned" finding, held like any other, never clean.
SCAN_MAX = 8 << 20


class Finding:
    """One secret in one file version: never holds the value itself."""

    __slots__ = ("id", "path", "where", "kind")

    def __init__(self, id: str, path: str, where: str, kind: str) -> None:
        self.id = id
        self.path = path
        self.where = where
        self.kind = kind

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "path": self.path, "where": self.where, "kind": self.kind}

    def __repr__(self) -> str:
        return f"Finding(id={self.id!r}, path={self.path!r}, where={self.where!r}, kind={self.kind!r})"

    def __str__(self) -> str:
        return f"{self.id} {self.path} {self.where} {self.kind}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.id, self.path, self.where, self.kind))


class ScanError(Exception):
    """The scanner failed on a file (the message names the file, never its content)."""


def value_digest(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def finding_id(kind: str, digest: str, path: str) -> str:
    """The stable id: a hash of kind, value (through its digest) and path."""
    import hashlib

    return hashlib.sha256(f"memvault-secret\0{kind}\0{digest}\0{path}".encode("utf-8", "surrogateescape")).hexdigest()[:16]


# --- what is found: (kind, where, value), inside the secret_* modules only ---------

def is_json_path(path: str) -> bool:
    return path.lower().endswith(".json")


def is_jsonl_path(path: str) -> bool:
    return path.lower().endswith((".jsonl", ".ndjson"))


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


MAX_SHOWN_DEPTH = 24  # a deeper path shows its first and last levels around "..."


def _render_path(parts: Sequence[str | int | None]) -> str:
    pieces = [_render_part(part) for part in parts]
    if len(pieces) > MAX_SHOWN_DEPTH:
        pieces = [*pieces[:8], "...", *pieces[-(MAX_SHOWN_DEPTH - 8):]]
    return "$" + "".join(pieces)


def _render_part(part: str | int | None) -> str:
    if part is None:  # a key that is itself a secret: never printed
        return "[<secret key>]"
    if isinstance(part, int):
        return f"[{part}]"
    if _PLAIN_KEY.match(part):
        return f".{part}"
    import json

    return f"[{json.dumps(part, ensure_ascii=False)}]"


def _hits_in_string(det: Active, value: str, key: str | None) -> Iterator[tuple[str, str]]:
    if det.blocks and "-----BEGIN " in value:
        yield from det.whole(value)
    if det.pairs or (det.keyed and ("=" in value or ":" in value)):
        for line in value.splitlines() or [value]:
            yield from det.line(line)
    if det.keyed and key is not None and _secret_key_cached(key) and secret_detectors.high_entropy(value):
        yield "secret-under-key", value


_key_names: dict[str, bool] = {}


def _secret_key_cached(key: str) -> bool:
    known = _key_names.get(key)
    if known is None:
        known = _key_names[key] = secret_detectors.secret_key_name(key)
        if len(_key_names) > 10000:
            _key_names.clear()
    return known


def _hits_in_json(det: Active, data: bytes, prefix: str) -> Iterator[tuple[str, str, str]]:
    """(kind, where, value) for one JSON document, from a stream of parser events."""
    import io

    from memvault_hooks.memory.formats import _ijson

    ijson = _ijson()
    # Each open container: [index of next item (array) or -1 (object), current key].
    stack: list[list[Any]] = []
    parts: list[str | int | None] = []

    def where() -> str:
        return prefix + _render_path(parts)

    for event, value in ijson.basic_parse(io.BytesIO(data), use_float=True):
        if event == "map_key":
            hits = list(_hits_in_string(det, value, None))
            stack[-1][1] = None if hits else value
            parts[-1] = None if hits else value
            if hits:
                shown = where()
                for kind, secret in hits:
                    yield kind, shown, secret
            continue
        if stack and stack[-1][0] >= 0 and event not in ("end_array",):
            parts[-1] = stack[-1][0]
            stack[-1][0] += 1
        if event in ("start_map", "start_array"):
            stack.append([-1 if event == "start_map" else 0, None])
            parts.append(None if event == "start_map" else 0)
        elif event in ("end_map", "end_array"):
            stack.pop()
            parts.pop()
        elif event == "string":
            key = stack[-1][1] if stack and stack[-1][0] < 0 else None
            hits = list(_hits_in_string(det, value, key))
            if hits:
                shown = where()
                for kind, secret in hits:
                    yield kind, shown, secret


def _hits_in_text(det: Active, text: str) -> Iterator[tuple[str, str, str]]:
    for kind, value in det.whole(text):
        start = text.find(value)
        yield kind, f"line {text.count(chr(10), 0, max(start, 0)) + 1}", value
    for number, line in enumerate(text.splitlines(), 1):
        for kind, value in det.line(line):
            yield kind, f"line {number}", value


def _json_error() -> type[Exception]:
    from ijson.common import JSONError  # type: ignore[import-untyped]

    return JSONError  # type: ignore[no-any-return]


def hits(data: bytes, path: str) -> list[tuple[str, str, str]]:
    """A document (or JSON Lines line) nested past formats.MAX_DEPTH is scanned as text:
    parsing it would cost memory that grows with its depth."""
    from memvault_hooks.memory.formats import too_deep

    if len(data) > SCAN_MAX:
        raise ScanError(f"{path} is too large to scan ({len(data)} bytes, over {SCAN_MAX >> 20} MB)")
    text = data.decode("utf-8", "surrogateescape")
    det = secret_detectors.get().active(secret_detectors.unescaped(text))
    if det.idle():  # no detector's literal anywhere in the file: nothing to parse
        return []
    if is_json_path(path) and not too_deep(data):
        try:
            return list(_hits_in_json(det, data, ""))
        except _json_error():  # not JSON after all: scan its text
            pass
    elif is_jsonl_path(path):
        found: list[tuple[str, str, str]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                if too_deep(line.encode("utf-8", "surrogateescape")):
                    raise _json_error()("too deeply nested")
                found.extend(_hits_in_json(det, line.encode("utf-8", "surrogateescape"), f"line {number}: "))
            except _json_error():
                found.extend((k, f"line {number}", v) for k, _, v in _hits_in_text(det, line))
        return found
    return list(_hits_in_text(det, text))


def dedupe(hits: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One hit per (where, value); a value inside a longer one at the same place is dropped
    (the longer one is redacted whole)."""
    by_where: dict[str, list[tuple[str, str]]] = {}
    for kind, where, value in hits:
        by_where.setdefault(where, []).append((kind, value))
    out: list[tuple[str, str, str]] = []
    for where, found in by_where.items():
        kept: list[tuple[str, str]] = []
        for kind, value in sorted(found, key=lambda kv: -len(kv[1])):
            if not value.strip() or any(value in longer for _, longer in kept):
                continue
            kept.append((kind, value))
        out.extend((kind, where, value) for kind, value in kept)
    return out


def scan_raw(data: bytes, path: str) -> list[tuple[str, str, str]]:
    """(kind, where, value digest) of each secret in one file version; raises ScanError."""
    try:
        return [(kind, where, value_digest(value)) for kind, where, value in dedupe(hits(data, path))]
    except MemvaultError:
        raise
    except Exception as exc:
        raise ScanError(f"the scanner failed on {path}: {type(exc).__name__}") from None


def findings_from_raw(raw: Iterable[Sequence[str]], path: str) -> list[Finding]:
    return [Finding(finding_id(kind, digest, path), path, where, kind) for kind, where, digest in raw]


def unscanned(data: bytes, path: str) -> Finding:
    if len(data) > SCAN_MAX:
        return unscanned_blob(blob_digest(data), path)
    return Finding(finding_id(UNSCANNED, value_digest(data.decode("utf-8", "surrogateescape")), path),
                   path, "whole file", UNSCANNED)


def blob_digest(data: bytes) -> str:
    """git's blob id of `data`: the same id scan_blobs is given."""
    from memvault_hooks.history.blobs import digest_for

    digest = digest_for(len(data))
    digest.update(data)
    return digest.hexdigest()  # type: ignore[no-any-return]


def unscanned_blob(blob_id: str, path: str) -> Finding:
    """The finding of a file version that was never read (too large to scan), by its id."""
    return Finding(finding_id(UNSCANNED, blob_id, path), path, "whole file", UNSCANNED)


def scan_blob(data: bytes, path: str) -> list[Finding]:
    """The findings of one file version; a scanner crash is one "unscanned" finding."""
    try:
        return findings_from_raw(scan_raw(data, path), path)
    except ScanError:
        return [unscanned(data, path)]
