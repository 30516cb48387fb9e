"""Progress on a terminal for work that takes more than a moment (sync, recover).

One line on stderr, rewritten in place: what is being done, files and bytes so far of
the total. Nothing at all when stderr is not a terminal, when the caller is quiet, or
when the work ends within DELAY seconds (so a quick sync prints exactly what it did
before). Reusable: `with Progress("sync", enabled=not quiet) as p: p.start(files, bytes)`
then `p.advance(files=1)` / `p.advance(nbytes=n)` / `p.phase("committing")`.
"""
from __future__ import annotations

import os
import sys
import time
from typing import TextIO

# Seconds of work before the first line appears ($MEMVAULT_PROGRESS_DELAY overrides).
DELAY = 0.5
# Seconds between two redraws.
INTERVAL = 0.1


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class Progress:
    def __init__(self, label: str, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        try:
            tty = self.stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        self.enabled = enabled and tty
        try:
            self.delay = float(os.environ.get("MEMVAULT_PROGRESS_DELAY", DELAY))
        except ValueError:
            self.delay = DELAY
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.shown = False
        self.files = self.total_files = 0
        self.bytes = self.total_bytes = 0
        self.what = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def start(self, total_files: int, total_bytes: int) -> None:
        self.total_files, self.total_bytes = total_files, total_bytes
        self._maybe_draw()

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        self.files += files
        self.bytes += nbytes
        self._maybe_draw()

    def phase(self, what: str) -> None:
        """Say what is being done now (e.g. "committing"); drawn at once when shown."""
        self.what = what
        self._maybe_draw(force=self.shown)

    def finish(self) -> None:
        if self.shown:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False

    def line(self) -> str:
        files = f"{self.files}/{self.total_files} files" if self.total_files else f"{self.files} files"
        nbytes = f"{_size(self.bytes)}/{_size(self.total_bytes)}" if self.total_bytes else _size(self.bytes)
        what = f", {self.what}" if self.what else ""
        return f"memvault {self.label}: {files}, {nbytes}{what}"

    def _maybe_draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and (now - self.started < self.delay or now - self.last_draw < INTERVAL):
            return
        self._draw()

    def _draw(self) -> None:
        self.last_draw = time.monotonic()
        self.shown = True
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()
