"""The `sources` key and the presets' places outside the project, checked and resolved
(SPEC "Configuration", "Presets and sources", "Trust").

Run when `.memvault.yaml` is parsed. What it returns is kept in the Config (and so in the
hook's config cache): the fast path never imports this module, presets.py or a JSON parser.
Each source becomes `(prefix, dir, patterns)` with prefix `@<name>/` (places.py reads them);
every `sources` entry (SPEC "Trust" names them all) and each preset's place outside the
project becomes a trust setting that waits for `memvault allow`.
"""
from __future__ import annotations

import os
import re
from typing import Any

from memvault_hooks.errors import ConfigError
from memvault_hooks.errors import type_name
from memvault_hooks.memory import sources as found_files

NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
EXAMPLE = "{name: notes, dir: ~/agent-notes, files: [\"**/*.md\"]}"
_KEYS = ("name", "dir", "files")

Source = tuple[str, str, tuple[str, ...]]      # (stored prefix '@name/', absolute dir, patterns)
Setting = tuple[str, str, str]                 # trust.py's (key, value, description)


class Extra:
    """What `sources` and the presets add to a Config."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self.warnings: list[str] = []
        self.outside: list[Setting] = []


def _setting(key: str, folder: str, patterns: tuple[str, ...], what: str) -> Setting:
    listed = ", ".join(patterns)
    return (key, f"{folder} ({listed})",
            f"read {listed} from {folder}{what}, and copy them into the vault")


def _check_patterns(where: str, key: str, value: object) -> tuple[str, ...]:
    fix = f"list the files to back up, relative to the source's dir, such as [\"**/*.md\"]"
    if not isinstance(value, list):
        raise ConfigError(where, key, f"is {type_name(value)} ({value!r})", fix)
    if not value:
        raise ConfigError(where, key, "is empty", fix)
    for j, pattern in enumerate(value):
        name = f"{key}[{j}]"
        if not isinstance(pattern, str):
            raise ConfigError(where, name, f"is {type_name(pattern)} ({pattern!r})",
                              "make it a file name or glob pattern in quotes")
        parts = pattern.replace("\\", "/").split("/")
        if not pattern.strip() or any(c in pattern for c in "\n\r\0"):
            raise ConfigError(where, name, "is empty or holds a line break", "give a file name or glob pattern")
        if os.path.isabs(pattern) or pattern.startswith("~"):
            raise ConfigError(where, name, f"{pattern!r} is absolute",
                              "give a pattern relative to the source's dir (or make that folder the dir)")
        if ".." in parts:
            raise ConfigError(where, name, f"{pattern!r} escapes the source's dir with '..'",
                              "give a pattern inside the source's dir (or widen the dir)")
    return tuple(value)


def _entry(where: str, i: int, entry: object, project: str, vault_path: str,
           taken: dict[str, str]) -> Source:
    key = f"sources[{i}]"
    if not isinstance(entry, dict):
        raise ConfigError(where, key, f"is {type_name(entry)} ({entry!r})", f"write it as {EXAMPLE}")
    for name in entry:
        if name not in _KEYS:
            raise ConfigError(where, f"{key}.{name}", "unknown key", "use name, dir and files")
    for name in _KEYS:
        if name not in entry:
            raise ConfigError(where, f"{key}.{name}", "is missing", f"write the entry as {EXAMPLE}")
    name = entry["name"]
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(where, f"{key}.name", f"{name!r} is not a source name",
                          "use lower-case letters, digits and '-', starting with a letter or digit (e.g. notes)")
    if name in taken:
        raise ConfigError(where, f"{key}.name", f"{name!r} is already {taken[name]}", "give this source another name")
    taken[name] = f"the name of {key}"
    folder = entry["dir"]
    if not isinstance(folder, str):
        raise ConfigError(where, f"{key}.dir", f"is {type_name(folder)} ({folder!r})",
                          "give a folder: absolute, ~/..., or relative to the project")
    if not folder.strip() or any(c in folder for c in "\n\r\0"):
        raise ConfigError(where, f"{key}.dir", "is empty or holds a line break",
                          "give a folder: absolute, ~/..., or relative to the project")
    resolved = os.path.normpath(os.path.join(project, os.path.expanduser(folder)))
    if found_files.within(resolved, vault_path) or found_files.within(vault_path, resolved):
        raise ConfigError(where, f"{key}.dir", f"{resolved} overlaps the vault {vault_path}",
                          "give a folder outside the vault (the vault holds the backups, not memory files)")
    patterns = _check_patterns(where, f"{key}.files", entry["files"])
    return (f"@{name}/", resolved, patterns)


def _preset_places(project: str, names: list[str], extra: Extra) -> None:
    """Each preset's place outside the project, as a source `@<preset>/...`."""
    from memvault_hooks.memory import presets

    resolved = presets.resolve(project, names)
    extra.warnings += resolved.warnings
    for place in resolved.places:
        prefix = f"@{place.source}/{place.under}"
        extra.sources.append((prefix, place.dir, place.patterns))
        if place.inside_project:
            continue  # in the project's own folder: nothing reaches outside it
        if place.source == "mcp-memory":
            file_name = re.sub(r"\[(.)\]", r"\1", place.patterns[0])  # glob.escape'd
            key = f"presets.mcp-memory[{place.under}{file_name}]"
        else:
            key = f"presets.{place.source}"
        extra.outside.append(_setting(key, place.dir, place.patterns, f" ({place.origin}, outside the project)"))


def resolve(where: str, project: str, vault_path: str, entries: list[Any], preset_names: list[str]) -> Extra:
    """Check the `sources` entries (ConfigError naming `sources[i].key`, exit 2) and add the
    presets' places outside the project; their trust settings and the presets' warnings."""
    extra = Extra()
    outside_presets: list[str] = []
    if preset_names:
        from memvault_hooks.memory import presets

        outside_presets = [name for name in preset_names if presets.PRESETS[name].outside is not None]
    taken = {name: f"the preset {name}'s source" for name in outside_presets}
    for i, entry in enumerate(entries):
        prefix, folder, patterns = _entry(where, i, entry, project, vault_path, taken)
        extra.sources.append((prefix, folder, patterns))
        extra.outside.append(_setting(f"sources.{prefix[1:-1]}", folder, patterns, ""))
    if outside_presets:
        _preset_places(project, outside_presets, extra)
    return extra
