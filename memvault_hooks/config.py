"""`.memvault.yaml`: finding it, validating it, and the defaults (SPEC "Configuration")."""
from __future__ import annotations

import os
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: the hook's no-change path reads a Config

from memvault_hooks import dirs
from memvault_hooks.memory import sources
from memvault_hooks.errors import TYPE_NAMES
from memvault_hooks.errors import ConfigError
from memvault_hooks.errors import type_name

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

CONFIG_NAME = ".memvault.yaml"
DEFAULT_FILES = (
    "memory.json",
    "github_copilot_memories.json",
    "gpt4o_memories.json",
    "extendedcontext.json",
    "claude_opus_memories.json",
    "claude_sonnet_memories.json",
    "gemini_pro_memories.json",
    "gpt4_memories.json",
    "memory.jsonl",
    "MEMORY.md",
)
DEFAULT_SCHEDULE = "*/15 * * * *"
DEFAULT_ALERT_SHRINK = 0.5

_TOP_KEYS = {
    "version": int,
    "source_dir": str,
    "files": list,
    "vault": dict,
    "schedule": str,
    "log_file": (str, type(None)),
    "error_log": (str, type(None)),
    "mirror_deletions": bool,
    "presets": list,
    "sources": list,
    "alert_shrink": (int, float),
}
_VAULT_KEYS = {
    "path": (str, type(None)),
    "subdir": str,
    "remote": (str, type(None)),
    "branch": str,
    "timeout": (int, float),
    "encrypt": bool,
}


class Config:
    """The resolved configuration. A plain class, not a dataclass: importing dataclasses
    (inspect, ast, ...) would cost a sync more than its own work on a few files."""

    __slots__ = ("project", "config_file", "source_dir", "files", "vault_path", "subdir", "remote",
                 "encrypt", "branch", "timeout", "schedule", "log_file", "error_log", "mirror_deletions", "presets",
                 "sources", "warnings", "outside", "alert_shrink")
    project: str
    config_file: str | None
    source_dir: str
    files: tuple[str, ...]
    vault_path: str
    subdir: str
    remote: str | None
    encrypt: bool              # vault.encrypt: what goes to the remote is age-encrypted (encrypted_push.py)
    branch: str
    timeout: float
    schedule: str
    log_file: str
    error_log: str
    mirror_deletions: bool
    presets: tuple[str, ...]   # preset names; their patterns inside the project are in `files`
    # Folders outside source_dir (memory/places.py): (stored prefix '@name/', dir, patterns),
    # the `sources` key's and the presets' places outside the project.
    sources: tuple[tuple[str, str, tuple[str, ...]], ...]
    warnings: tuple[str, ...]  # what the presets found wrong (a `.mcp.json` that is not JSON)
    outside: tuple[tuple[str, str, str], ...]  # the settings that wait for `memvault allow` (trust.py)
    alert_shrink: float        # the share of its content a file may lose before it raises an alert

    def __init__(self, **values: Any) -> None:
        missing = set(self.__slots__) - set(values)
        unknown = set(values) - set(self.__slots__)
        if missing or unknown:
            raise TypeError(f"Config: missing {sorted(missing)}, unknown {sorted(unknown)}")
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Config is read-only: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Config({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        values = dict(data)
        values["files"] = tuple(values["files"])
        values["presets"] = tuple(values["presets"])
        values["sources"] = tuple((prefix, folder, tuple(pats)) for prefix, folder, pats in values["sources"])
        values["warnings"] = tuple(values["warnings"])
        values["outside"] = tuple(tuple(setting) for setting in values["outside"])
        return cls(**values)


def find_config_file(project: str, explicit: str | None = None) -> str | None:
    """`--config FILE`, else $MEMVAULT_CONFIG, else `<project>/.memvault.yaml`, else None."""
    for source, candidate in (("--config", explicit),
                              ("$MEMVAULT_CONFIG", os.environ.get("MEMVAULT_CONFIG") or None)):
        if candidate is not None:
            path = os.path.abspath(os.path.expanduser(candidate))
            if not os.path.isfile(path):
                problem = "is a folder, not a file" if os.path.isdir(path) else "the configuration file does not exist"
                raise ConfigError(path, source, problem,
                                  f"create it with `memvault init`, or point {source} at an existing file")
            return path
    default = os.path.join(project, CONFIG_NAME)
    return default if os.path.isfile(default) else None


def load(project: str, explicit: str | None = None) -> Config:
    config_file = find_config_file(project, explicit)
    raw: Mapping[str, Any] = {}
    if config_file is not None:
        raw = _read_yaml(config_file)
    return _build(project, config_file, raw)


def _read_yaml(path: str) -> Mapping[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(path, "(yaml)", f"malformed YAML at {where}: {exc.problem}",
                          "correct the syntax there (indent with spaces, quote values holding ': ')") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(path, "(file)", f"cannot be read: {exc}",
                          "make it a readable UTF-8 YAML file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, "(top level)", f"is {type_name(data)}, not a mapping",
                          "write `key: value` lines such as `version: 1`")
    return data


def _check_keys(path: str, prefix: str, data: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(path, name, "unknown key", f"remove it or use one of: {known}")
        expected = schema[key]
        types = expected if isinstance(expected, tuple) else (expected,)
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            wanted = " or ".join(TYPE_NAMES[t] for t in types if not (t is int and float in types))
            raise ConfigError(path, name, f"is {type_name(value)} ({value!r})", f"make it {wanted}")


def _resolve(project: str, value: str) -> str:
    return os.path.normpath(os.path.join(project, os.path.expanduser(value)))


def _check_relative(path: str, key: str, value: str, what: str) -> None:
    parts = value.replace("\\", "/").split("/")
    if not value.strip():
        raise ConfigError(path, key, "is empty", f"give {what}")
    if os.path.isabs(value) or value.startswith("~"):
        raise ConfigError(path, key, f"{value!r} is absolute", f"give {what} relative to source_dir")
    if ".." in parts:
        raise ConfigError(path, key, f"{value!r} escapes its folder with '..'", f"give {what} inside source_dir")


def check_remote(where: str, project: str, remote: str) -> None:
    """A remote is a URL or a folder outside the project; never an option for git."""
    from memvault_hooks import urls

    if not remote.strip():
        raise ConfigError(where, "vault.remote", "is empty", "give the vault's git URL, or null for a local vault only")
    if remote.lstrip().startswith("-"):
        raise ConfigError(where, "vault.remote", f"{urls.mask(remote)!r} starts with '-' (git would read it as an option)",
                          "give the vault's git URL, such as git@github.com:you/vault.git")
    if any(c in remote for c in "\n\r\0"):
        raise ConfigError(where, "vault.remote", "holds a line break or NUL", "give the vault's git URL on one line")
    folder = urls.local_path(remote, project)
    if folder is not None and sources.within(folder, project):
        raise ConfigError(where, "vault.remote", f"{urls.mask(remote)!r} names {folder}, inside the project "
                          "(a relative path is read from the project folder)",
                          "give a URL, or a folder outside the project such as ~/vault-remote.git")


def _with_presets(where: str, project: str, source_dir: str, files: list[str], names: list[Any]) -> list[str]:
    """`files` and the patterns the presets `names` add inside the project (SPEC "Presets
    and sources"), relative to source_dir. Their places outside the project are not read here."""
    if not names:
        return files
    from memvault_hooks.memory import presets

    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ConfigError(where, f"presets[{i}]", f"is {type_name(name)} ({name!r})",
                              f"give a preset name: {', '.join(presets.NAMES)}")
        if name not in presets.PRESETS:
            raise ConfigError(where, f"presets[{i}]", f"{name!r} is not a preset",
                              f"use one of: {', '.join(presets.NAMES)}")
    added = [p for name in names for p in presets.PRESETS[name].patterns]
    if not added:
        return files
    real_source, real_project = os.path.realpath(source_dir), os.path.realpath(project)
    if not sources.inside(real_project, real_source):
        raise ConfigError(where, "presets", f"the presets' files live in the project {project}, "
                          f"which is not inside source_dir {source_dir}",
                          "set `source_dir: .`, or list those files under `files` with their own source_dir")
    prefix = os.path.relpath(real_project, real_source).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix + "/"
    return list(dict.fromkeys([*files, *(prefix + p for p in added)]))


def _build(project: str, config_file: str | None, raw: Mapping[str, Any]) -> Config:
    where = config_file or "(built-in defaults)"
    _check_keys(where, "", raw, _TOP_KEYS)
    version = raw.get("version", 1)
    if version != 1:
        raise ConfigError(where, "version", f"is {version}, this memvault reads version 1",
                          "set `version: 1` (or upgrade memvault-hooks)")

    source_dir = _resolve(project, raw.get("source_dir", "."))

    files = raw.get("files", list(DEFAULT_FILES))
    if not files:
        raise ConfigError(where, "files", "is empty", "list at least one memory file name or glob pattern")
    for i, entry in enumerate(files):
        if not isinstance(entry, str):
            raise ConfigError(where, f"files[{i}]", f"is {type_name(entry)} ({entry!r})",
                              "make it a file name or glob pattern in quotes")
        _check_relative(where, f"files[{i}]", entry, "a file name or glob pattern")

    names = raw.get("presets") or []
    files = _with_presets(where, project, source_dir, files, names)

    vault = raw.get("vault") or {}
    _check_keys(where, "vault.", vault, _VAULT_KEYS)
    pid = dirs.project_id(project)
    vault_value = vault.get("path")
    vault_path = _resolve(project, vault_value) if vault_value else os.path.join(dirs.data_dir(), "vaults", pid)
    if sources.within(vault_path, source_dir) or sources.within(source_dir, vault_path):
        raise ConfigError(where, "vault.path", f"{vault_path} overlaps source_dir {source_dir}",
                          "choose a vault folder outside source_dir (or drop the key for the default)")
    if sources.within(vault_path, project):
        # A vault in the project's folder lives in a tree whose contents arrive with `git
        # clone` and `git pull` from others, and is lost with it (`git clean`, a fresh clone).
        raise ConfigError(where, "vault.path", f"{vault_path} is inside the project {project}",
                          "choose a vault folder outside the project (or drop the key for the default)")
    subdir = vault.get("subdir", "rAgentShared")
    _check_relative(where, "vault.subdir", subdir, "a folder name such as rAgentShared")
    if subdir.split("/")[0] in (".git", ".", "") or subdir.startswith(".memvault"):
        raise ConfigError(where, "vault.subdir", f"{subdir!r} is reserved", "use a plain folder name such as rAgentShared")
    branch = vault.get("branch", "main")
    if not branch or any(c in branch for c in " ~^:?*[\\") or ".." in branch or branch.startswith(("-", "/")) \
            or branch.endswith(("/", ".lock", ".")):
        raise ConfigError(where, "vault.branch", f"{branch!r} is not a valid branch name", "use a name such as main")
    timeout = float(vault.get("timeout", 30))
    if timeout <= 0:
        raise ConfigError(where, "vault.timeout", f"is {timeout}", "give a positive number of seconds")

    schedule = raw.get("schedule", DEFAULT_SCHEDULE)
    if "schedule" in raw:
        from memvault_hooks import cron_schedule

        try:
            schedule = cron_schedule.normalize(schedule)
        except cron_schedule.InvalidSchedule as exc:
            raise ConfigError(where, "schedule", str(exc), cron_schedule.FIX) from None

    log_value = raw.get("log_file")
    log_file = _resolve(project, log_value) if log_value else os.path.join(dirs.state_dir(), pid, "sync.log")
    err_value = raw.get("error_log")
    error_log = _resolve(project, err_value) if err_value else os.path.splitext(log_file)[0] + ".err"

    remote = vault.get("remote")
    if remote is not None:
        check_remote(where, project, remote)
    from memvault_hooks import trust
    from memvault_hooks.memory import source_config

    extra = source_config.resolve(where, project, vault_path, raw.get("sources") or [], names)
    encrypt = vault.get("encrypt", False)
    outside = trust.settings(project, source_dir, remote=remote, encrypt=encrypt,
                             log_file=log_file if log_value else None, error_log=error_log if err_value else None,
                             outside_sources=extra.outside)
    alert_shrink = _alert_shrink(where, raw)
    return Config(
        alert_shrink=alert_shrink,
        project=project,
        config_file=config_file,
        source_dir=source_dir,
        files=tuple(files),
        vault_path=vault_path,
        subdir=subdir.strip("/"),
        remote=remote,
        encrypt=encrypt,
        branch=branch,
        timeout=timeout,
        schedule=schedule,
        log_file=log_file,
        error_log=error_log,
        mirror_deletions=raw.get("mirror_deletions", False),
        presets=tuple(names),
        sources=tuple(extra.sources),
        warnings=tuple(extra.warnings),
        outside=outside,
    )


def _alert_shrink(where: str, raw: Mapping[str, Any]) -> float:
    """`alert_shrink`: the share (0..1) of its content a memory file may lose unnoticed."""
    value = float(raw.get("alert_shrink", DEFAULT_ALERT_SHRINK))
    if not 0 <= value <= 1:
        raise ConfigError(where, "alert_shrink", f"is {raw.get('alert_shrink')!r}, not between 0 and 1",
                          f"give a share such as {DEFAULT_ALERT_SHRINK} (an alert when a file loses more than half "
                          "of its content), or 1 (alerts only for emptied or vanished files)")
    return value


def from_args(directory: str | None, explicit: str | None, trusted: bool = True) -> Config:
    """The configuration for `-C DIR` / `--config FILE`, validated; refreshes the hook's cache.

    With `trusted` (every command that acts on it) settings that reach outside the project
    must have been allowed (trust.py): else NotAllowed, exit 2, before anything is touched."""
    from memvault_hooks import fastpath
    from memvault_hooks import trust

    project = dirs.find_project(directory)
    cfg = load(project, explicit)
    fastpath.save_config(project, explicit, cfg)
    if trusted:
        trust.require(cfg.to_dict())
    return cfg
