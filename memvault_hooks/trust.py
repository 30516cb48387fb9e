"""The trust rule (SPEC "Trust"): a project's settings that reach outside it are obeyed
only once this user has allowed them on this machine.

`.memvault.yaml` usually arrives with `git clone` or `git pull`. Like direnv's `allow`
and git's rule that a clone never brings configuration, the settings that could send
or take something outside the project (a remote, an encrypted remote, log files, a
source_dir elsewhere, other sources) wait for `memvault allow`, which records them in
the user's private state dir keyed by project and config file. Any change to them
(a pull, an edit) needs `memvault allow` again; configs without any need nothing.

The record holds the settings themselves, compared exactly (no hash to import on the
hook's path): a record is a small private file per project and config file.
"""
from __future__ import annotations

import os
import zlib
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

from memvault_hooks import dirs
from memvault_hooks.memory import sources
from memvault_hooks.atomic import write_atomic
from memvault_hooks.errors import MemvaultError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Mapping
    from collections.abc import Sequence
    from typing import Any

    # Each setting: (key as the config names it, the value resolved, what it means in words).
    Setting = tuple[str, str, str]

_HEADER = "memvault allow record v1\n"
ENCRYPT_KEY = "vault.encrypt"


class NotAllowed(MemvaultError):
    """The config's outside settings wait for `memvault allow` (exit 2: nothing was done)."""

    exit_code = 2


def settings(project: str, source_dir: str, remote: str | None = None, encrypt: bool = False,
             log_file: str | None = None, error_log: str | None = None,
             outside_sources: Iterable[Setting] = ()) -> tuple[Setting, ...]:
    """The settings of a config that reach outside `project`, each with a plain description.

    Arguments are what the config itself sets (None / False / empty: not set; defaults
    under the user's own dirs need no allowing). `outside_sources` are the settings of
    each of `sources` and of each place outside the project a preset finds, as
    memory/source_config.py words them.
    """
    from memvault_hooks import urls

    found: list[Setting] = []
    if remote:
        found.append(("vault.remote", remote,
                      f"push every backup (the memory files' full history) to {urls.mask(remote)}"))
    if encrypt:
        found.append(("vault.encrypt", "true", "encrypt what is pushed with a key kept in the vault"))
    if log_file:
        found.append(("log_file", log_file, f"append a line per run to the file {log_file}"))
    if error_log:
        found.append(("error_log", error_log, f"append failures to the file {error_log}"))
    if not sources.within(source_dir, project):
        found.append(("source_dir", source_dir,
                      f"read memory files from {source_dir}, outside the project, and copy them into the vault"))
    found.extend(outside_sources)
    return tuple(found)


def fingerprint(outside: Sequence[Sequence[str]]) -> str:
    """What `allow` records and every run compares: the keys and values themselves."""
    return "".join(f"{key}\0{value}\n" for key, value, *_ in outside)


def _record_dir() -> str:
    return os.path.join(dirs.fast_state_dir() or dirs.state_dir(), "allowed")


def _key(project: str, config_file: str | None) -> str:
    return f"{project}\0{config_file or ''}\n"


def record_path(project: str, config_file: str | None) -> str:
    raw = _key(project, config_file).encode("utf-8", "surrogateescape")
    return os.path.join(_record_dir(), f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}")


def _expected(config: Mapping[str, Any]) -> str:
    return _HEADER + _key(config["project"], config["config_file"]) + fingerprint(config["outside"])


def _recorded(config: Mapping[str, Any]) -> dict[str, str]:
    """The settings this user allowed for this project and config file, by key."""
    try:
        with open(record_path(config["project"], config["config_file"]), "rb") as f:
            recorded = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return {}
    head = _HEADER + _key(config["project"], config["config_file"])
    if not recorded.startswith(head):
        return {}
    lines = recorded[len(head):].split("\n")
    return dict(line.split("\0", 1) for line in lines if "\0" in line)  # type: ignore[misc]


def _waiting(config: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The outside settings not allowed yet: (never allowed, changed since allowed)."""
    outside = config["outside"]
    if not outside:
        return [], []
    recorded = _recorded(config)
    new = [key for key, value, *_ in outside if key not in recorded]
    changed = [key for key, value, *_ in outside if key in recorded and recorded[key] != value]
    # Turning encryption off sends the next pushes in clear: a change like any other.
    if ENCRYPT_KEY in recorded and all(key != ENCRYPT_KEY for key, *_ in outside):
        changed.append(ENCRYPT_KEY)
    return new, changed


def waiting(config: Mapping[str, Any]) -> list[str]:
    """The keys of the outside settings not allowed yet ([] when all are, or there are none)."""
    new, changed = _waiting(config)
    return new + changed


def message(config: Mapping[str, Any]) -> str:
    """The one line said wherever the rule holds a command back."""
    new, changed = _waiting(config)
    where = config["config_file"] or "the configuration"
    parts = []
    if new:
        parts.append(f"sets {', '.join(new)}, which reach{'es' if len(new) == 1 else ''} outside the project "
                     f"and {'is' if len(new) == 1 else 'are'} not allowed yet")
    if changed:
        parts.append(f"changed {', '.join(changed)} since you allowed {'it' if len(changed) == 1 else 'them'}")
    return f"{where} {' and '.join(parts)}: review and allow with `memvault allow` in {config['project']}"


def require(config: Mapping[str, Any]) -> None:
    """Raise NotAllowed (exit 2) while the outside settings wait for `memvault allow`."""
    if waiting(config):
        raise NotAllowed(message(config))


def allow(config: Mapping[str, Any]) -> str:
    """Record the current outside settings as allowed by this user; the record's path."""
    path = record_path(config["project"], config["config_file"])
    dirs.make_private_dir(os.path.dirname(path))
    write_atomic(path, _expected(config).encode("utf-8", "surrogateescape"))
    return path


def describe(config: Mapping[str, Any]) -> list[str]:
    """Each outside setting in words a person can check (credentials masked)."""
    from memvault_hooks import urls

    return [urls.mask(f"{key}: {text}") for key, _value, text in config["outside"]]
