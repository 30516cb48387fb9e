"""The failures users see: each carries the exit code the SPEC gives it."""
from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # collections.abc costs ~3 ms: the hook (via vaultmark) imports this module

if TYPE_CHECKING:
    from collections.abc import Callable


# How a configuration error names the type of a value it refuses.
TYPE_NAMES = {int: "a whole number", str: "a string", list: "a list", dict: "a mapping",
              bool: "true or false", float: "a number", type(None): "null"}


def type_name(value: object) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


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


def guarded(command: Callable[[], int]) -> int:
    """Run a command: expected failures become a message and their exit code, never a
    traceback (set MEMVAULT_DEBUG to see one for an unexpected failure)."""
    try:
        return int(command())
    except MemvaultError as exc:
        from memvault_hooks import urls

        sys.stderr.write(urls.mask(f"memvault: error: {exc}\n"))
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("memvault: interrupted\n")
        return 130
    except Exception as exc:  # an unexpected failure: say it plainly, keep the details
        from memvault_hooks import urls

        sys.stderr.write(urls.mask(f"memvault: unexpected error: {type(exc).__name__}: {exc}\n"))
        if "MEMVAULT_DEBUG" in os.environ:
            import traceback

            traceback.print_exc()
        return 1
