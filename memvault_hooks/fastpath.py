"""The no-change path of `hook` and `sync`: decide "nothing to do" from stat alone.

Imports only os, json and zlib (no YAML, no GitPython, no subprocess). The parsed
configuration is cached as JSON in the user's cache folder, keyed by the project and
the config file's location, and trusted only while the file's stat is unchanged.
"""
from __future__ import annotations

import json
import os
import zlib
from typing import Any

from memvault_hooks import dirs
from memvault_hooks import file_lock
from memvault_hooks import logs
from memvault_hooks import sources
from memvault_hooks import state

# What the defaults depend on besides the project: a change here invalidates the cache.
_ENV_KEYS = ("MEMVAULT_CONFIG", "HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


def _key(project: str, explicit: str | None) -> str:
    env = "\0".join(os.environ.get(k, "") for k in _ENV_KEYS)
    return f"{project}\0{explicit or ''}\0{env}"


def _cache_file(key: str) -> str | None:
    base = dirs.fast_cache_dir()
    if base is None:
        return None
    return os.path.join(base, f"config-{zlib.crc32(key.encode()):08x}.json")


def _config_sig(path: str | None) -> list[int] | None:
    if path is None:
        return None
    try:
        return list(sources.signature(os.stat(path)))
    except OSError:
        return None


def _expected_config_file(project: str, explicit: str | None) -> str | None:
    candidate = explicit or os.environ.get("MEMVAULT_CONFIG") or None
    if candidate is not None:
        return os.path.abspath(os.path.expanduser(candidate))
    default = os.path.join(project, ".memvault.yaml")
    return default if os.path.isfile(default) else None


def cached_config(project: str, explicit: str | None) -> dict[str, Any] | None:
    """The resolved configuration as a dict, when the cache is still valid."""
    key = _key(project, explicit)
    path = _cache_file(key)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            cached = json.loads(f.read())
        if cached["key"] != key:
            return None
        config_file = _expected_config_file(project, explicit)
        if config_file != cached["config"]["config_file"] or _config_sig(config_file) != cached["sig"]:
            return None
        return cached["config"]  # type: ignore[no-any-return]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_config(project: str, explicit: str | None, config: dict[str, Any]) -> None:
    """Remember a configuration that was just loaded and validated (best effort)."""
    key = _key(project, explicit)
    path = _cache_file(key)
    if path is None:
        return
    try:
        dirs.make_private_dir(os.path.dirname(path))
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"key": key, "sig": _config_sig(config["config_file"]), "config": config}, f)
        os.replace(tmp, path)
    except OSError:
        pass  # only a cache: the next run parses the YAML again


def nothing_changed(config: dict[str, Any]) -> bool:
    """True when every memory file's stat matches the state record (and the vault exists)."""
    vault_path = config["vault_path"]
    if not os.path.isdir(os.path.join(vault_path, ".git")):
        return False
    record = state.load(vault_path)
    if record.get("last_error") or record.get("push_pending"):
        return False  # the last run failed or left pushes waiting: try again whenever asked
    present = sources.discover(config["source_dir"], tuple(config["files"]))
    return state.unchanged(record, present)


def record_no_change(config: dict[str, Any], trigger: str) -> None:
    """A sync that found nothing to do still counts as a successful run (for `status`).

    It takes the lock without waiting: a run holding it is about to record a sync itself.
    """
    fd = file_lock.try_acquire(config["vault_path"])
    if fd is None:
        return
    try:
        record = state.load(config["vault_path"])
        if not record.get("last_sync"):
            return
        record["last_sync"] = record["last_run"] = logs.utc_now()
        state.save(config["vault_path"], record)
    finally:
        file_lock.release(fd)
    logs.log(config["log_file"], f"sync trigger={trigger} ok nothing to back up")
