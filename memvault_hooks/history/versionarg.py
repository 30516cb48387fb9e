"""`--at WHEN | --rev REV | --source-commit SHA`: which version a command means."""
from __future__ import annotations

import argparse
import datetime as dt

from memvault_hooks.history import when
from memvault_hooks.history.history import History
from memvault_hooks.history.history import Version


class Choice:
    """Parsed before anything is opened (a bad WHEN exits 2 at once), resolved later."""

    def __init__(self, args: argparse.Namespace) -> None:
        at = getattr(args, "at", None)
        self.moment: dt.datetime | None = when.parse(at) if at is not None else None
        self.rev: str | None = getattr(args, "rev", None)
        self.source_commit: str | None = getattr(args, "source_commit", None)

    def resolve(self, hist: History) -> Version:
        if self.moment is not None:
            return hist.at(self.moment)
        if self.rev is not None:
            return hist.rev(self.rev)
        if self.source_commit is not None:
            return hist.by_source_commit(self.source_commit)
        return hist.latest()
