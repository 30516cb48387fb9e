"""Scan results by blob id, so an unchanged vault costs nothing.

Contract: `scan_blobs(pairs of (blob id, path), read, cache_file)` gives the findings of
those file versions, reading (`read(blob_id)`) and scanning only blobs the cache does not
know. The cache is one marshal file, 0600, in the vault's git dir (machine-local, like the
state record: git never transfers it); it keeps, by blob id,
kind + where + a sha256 of each value (never the value), and the detect-secrets plugin
patterns, so a sync imports detect-secrets only on its first scan after an install or
upgrade. A file from another scanner version or rule set, or one that does not parse, is an
empty cache. "unscanned" results are never cached (retried next time).

Wiring (for the integrator): backup, after it wrote a commit, calls `scan_blobs` on the
blobs that commit changed (blob ids it knows from the tree) with
`<vault>/.git/memvault-secrets-cache`; the findings not in the allow list (kept in the
vault) hold the push when the remote is plain (`vault.encrypt` false).
"""
from __future__ import annotations

import marshal
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable

from memvault_hooks.memory import secret_detectors
from memvault_hooks.atomic import write_atomic
from memvault_hooks.memory.secret_scan import Finding
from memvault_hooks.memory.secret_scan import ScanError
from memvault_hooks.memory.secret_scan import findings_from_raw
from memvault_hooks.memory.secret_scan import scan_raw
from memvault_hooks.memory.secret_scan import SCAN_MAX
from memvault_hooks.memory.secret_scan import unscanned
from memvault_hooks.memory.secret_scan import unscanned_blob


def scanner_version() -> str:
    """Names the rules and the installed detect-secrets (its folder's change time: an
    upgrade changes it) without importing it."""
    from importlib.util import find_spec

    spec = find_spec("detect_secrets")
    if spec is None or not spec.origin:
        return f"rules {secret_detectors.RULES_VERSION}; detect-secrets absent"
    folder = os.path.dirname(spec.origin)
    stamp = max(os.stat(os.path.join(folder, sub)).st_mtime_ns for sub in (".", "plugins"))
    return f"rules {secret_detectors.RULES_VERSION}; {folder} {stamp}"


class ScanCache:
    """Scan results by blob id, and the plugin patterns, kept in one marshal file (0600): it
    loads in a millisecond or two with thousands of blobs (as JSON, 7 ms at 5,000, on every
    sync). A file from another scanner version, or one that does not load, is an empty
    cache; an entry of the wrong shape is no entry (scanned again)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.version = scanner_version()
        self.blobs: dict[str, list[tuple[str, str, str]]] = {}
        self.patterns: list[tuple[str, str, int]] | None = None
        self.dirty = False
        try:
            with open(file, "rb") as f:
                doc = marshal.loads(f.read())
        except (OSError, ValueError, EOFError, TypeError):
            return
        if not isinstance(doc, dict) or doc.get("version") != self.version:
            return
        if isinstance(doc.get("blobs"), dict):
            self.blobs = doc["blobs"]
        patterns = doc.get("patterns")
        if isinstance(patterns, list) and all(
                isinstance(p, tuple) and len(p) == 3 and isinstance(p[0], str) and isinstance(p[1], str)
                and isinstance(p[2], int) for p in patterns):
            self.patterns = patterns

    def get(self, blob_id: str, path: str) -> list[Finding] | None:
        raw = self.blobs.get(blob_id)
        if not isinstance(raw, list) or not all(
                isinstance(r, tuple) and len(r) == 3 and all(isinstance(x, str) for x in r) for r in raw):
            return None
        return findings_from_raw(raw, path)

    def put(self, blob_id: str, raw: list[tuple[str, str, str]]) -> None:
        self.blobs[blob_id] = [tuple(r) for r in raw]  # type: ignore[misc]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        doc = {"version": self.version, "blobs": self.blobs, "patterns": self.patterns}
        # A cache: a temp file and a rename suffice (losing it costs one scan, not data).
        write_atomic(self.file, marshal.dumps(doc))
        self.dirty = False


def scan_blobs(
    blobs: Iterable[tuple[str, str]],
    read: Callable[[str], bytes],
    cache_file: str,
    size: Callable[[str], int] | None = None,
) -> list[Finding]:
    """The findings of (blob id, path) pairs; `read(blob_id)` gives a blob's bytes and is
    called only for blobs not in the cache. `size(blob_id)` (History.entry_size) lets a
    blob over SCAN_MAX be held as "unscanned" without being read. Saves the cache."""
    cache = ScanCache(cache_file)
    found: list[Finding] = []
    detectors_ready = False
    for blob_id, path in blobs:
        cached = cache.get(blob_id, path)
        if cached is not None:
            found.extend(cached)
            continue
        if size is not None and size(blob_id) > SCAN_MAX:
            found.append(unscanned_blob(blob_id, path))   # never read: bounded memory
            continue
        data = read(blob_id)
        if not detectors_ready:
            detectors = secret_detectors.get(cache.patterns)
            if cache.patterns is None:
                cache.patterns = detectors.plugin_sources
                cache.dirty = True
            detectors_ready = True
        try:
            raw = scan_raw(data, path)
        except ScanError:
            found.append(unscanned(data, path))
            continue
        cache.put(blob_id, raw)
        found.extend(findings_from_raw(raw, path))
    cache.save()
    return found
