"""Trigger names, recorded as the `Memvault-Trigger` trailer (imports nothing: the fast path checks them)."""
from __future__ import annotations

# The git hooks memvault runs from; each names the runs it starts.
HOOK_STAGES = ("post-commit", "post-checkout", "post-merge", "post-rewrite")

_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

WATCH = "watch"  # a backup that `memvault watch` ran after a change
# The names memvault itself records (`sync --trigger` takes any name that `valid` accepts).
KNOWN = ("post-commit", "post-checkout", "post-merge", "post-rewrite", "cron", "manual",
         "pre-restore", "merge", WATCH)


def valid(name: str) -> bool:
    """A name that fits on its trailer line: not empty, no spaces, no newlines."""
    return 0 < len(name) <= 64 and _CHARS.issuperset(name)
