"""The failures users see: each carries the exit code the SPEC gives it."""
from __future__ import annotations


class MemvaultError(Exception):
    """A runtime failure: the reason is printed and logged, exit code 1."""

    exit_code = 1


class ConfigError(MemvaultError):
    """A mistake in the configuration: names the file, the key and the fix; exit code 2."""

    exit_code = 2

    def __init__(self, file: str, key: str, problem: str, fix: str) -> None:
        self.file = file
        self.key = key
        super().__init__(f"{file}: {key}: {problem}. Fix: {fix}")


class UsageError(MemvaultError):
    """A bad command-line argument; exit code 2."""

    exit_code = 2
