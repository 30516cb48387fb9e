"""The no-change path of `hook` and `sync`: decide "nothing to do" from stat alone.

Imports only os and marshal (no YAML, no GitPython, no subprocess, not even json
or re). The parsed configuration is cached (marshal data) in the user's cache folder,
keyed by the project and the config file's location, and trusted only while the file's
stat is unchanged; the memory files' stats are checked through the stat cache.
"""
from __future__ import annotations

import marshal
import os

from memvault_hooks import dirs
from memvault_hooks.ui import logs
from memvault_hooks.memory import sources
from memvault_hooks.vault import state
from memvault_hooks.vault import statcache
from memvault_hooks.atomic import write_atomic
from memvault_hooks.config import Config

# What the defaults depend on besides the project: a change here invalidates the cache.
_ENV_KEYS = ("MEMVAULT_CONFIG", "HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


def _key(project: str, explicit: str | None) -> str:
    env = "\0".join(os.environ.get(k, "") for k in _ENV_KEYS)
    return f"{project}\0{explicit or ''}\0{env}"


def _cache_file(key: str) -> str | None:
    base = dirs.fast_cache_dir()
    if base is None:
        return None
    return os.path.join(base, f"config-{_fnv1a(key):08x}.marshal")


def _fnv1a(text: str) -> int:
    """A 32-bit FNV-1a hash of `text`: a stable file name without loading zlib (~0.3 ms)."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8", "surrogateescape"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


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


def cached_config(project: str, explicit: str | None) -> Config | None:
    """The resolved configuration, when the cache is still valid (validated when it was
    written, trusted while the file is unchanged: no YAML parser to import)."""
    key = _key(project, explicit)
    path = _cache_file(key)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            cached = marshal.loads(f.read())
        if cached["key"] != key:
            return None
        config_file = _expected_config_file(project, explicit)
        if config_file != cached["config"]["config_file"] or _config_sig(config_file) != cached["sig"]:
            return None
        # TypeError: written by another release (one before the trust rule has no `outside`, before presets no `presets`)
        return Config.from_dict(cached["config"])
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        return None


def save_config(project: str, explicit: str | None, config: Config) -> None:
    """Remember a configuration that was just loaded and validated (best effort)."""
    key = _key(project, explicit)
    path = _cache_file(key)
    if path is None:
        return
    try:
        dirs.make_private_dir(os.path.dirname(path))
        write_atomic(path, marshal.dumps({"key": key, "sig": _config_sig(config.config_file), "config": config.to_dict()}))
    except OSError:
        pass  # only a cache: the next run parses the YAML again


def not_allowed(config: Config) -> bool:
    """The trust rule on the hook's path: True while settings that reach outside the
    project wait for `memvault allow` (one small file read, and only when there are any)."""
    if not config.outside:
        return False
    from memvault_hooks import trust

    return bool(trust.waiting(config.to_dict()))


def nothing_changed(config: Config, scans: list[sources.Scan] | None = None) -> bool:
    """True when every memory file's stat matches the state record (and the vault exists).

    The stat cache answers first (one stat a file and folder); otherwise the patterns
    are expanded and compared with the record, and a cache is left for the next time.
    Given `scans`, a cache that finds changes leaves its whole scan there, for the sync
    that follows in this process (it need not scan again).
    """
    vault_path = config.vault_path
    if not os.path.isdir(os.path.join(vault_path, ".git")):
        return False
    subdir = config.subdir
    rid = state.remote_id(config.remote)
    hit = statcache.check(vault_path, config.source_dir, config.files, stop_at_change=scans is None,
                          subdir=subdir, remote=rid)
    if hit is not None:
        if scans is not None and not hit[2]:
            scans.append((hit[0], hit[1]))
        return hit[2]  # the cache is current: it knows whether any file changed
    record_sig = statcache.record_sig(vault_path)
    record = state.load(vault_path)
    if record.get("last_error") or record.get("push_pending"):
        return False  # the last run failed or left pushes waiting: try again whenever asked
    if not state.same_subdir(record, subdir):
        return False  # `vault.subdir` changed: every file goes there again
    if not state.same_remote(record, rid):
        return False  # `vault.remote` set or changed: the branch goes there, changed or not
    present, expansion = sources.scan(config.source_dir, config.files)
    if not state.unchanged(record, present):
        return False
    statcache.save(vault_path, config.source_dir, config.files, present, expansion, record, record_sig, subdir, rid)
    return True


def record_no_change(config: Config, trigger: str, quiet: bool = False) -> None:
    """A sync that found nothing to do still counts as a successful run (for `status`);
    only a run someone watches logs it (cron's quiet run would add a line every 15 minutes)."""
    try:
        state.mark_checked(config.vault_path, logs.utc_now())
    except OSError:
        return
    if not quiet:
        logs.log(config.log_file, f"sync trigger={trigger} ok nothing to back up")


def tracks_files(config: Config) -> bool:
    """Whether the state record knows a present memory file (else the patterns found none)."""
    files = state.load(config.vault_path).get("files") or {}
    return any(isinstance(entry, dict) and not entry.get("missing") for entry in files.values())
