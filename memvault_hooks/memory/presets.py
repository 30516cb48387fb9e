"""Built-in agent memory locations (SPEC "Presets and sources"), one small entry a preset.

A preset is a name, patterns inside the project (relative to the project folder, added to
`files`), and optionally a function that names places outside the project. Each such place
is backed up as source `@<preset>`: stored at `<vault>/<subdir>/@<preset>/<under><rel>`,
with `rel` the path relative to the place's folder. Adding an agent is adding one PRESETS
entry (and a line in the SPEC's table). Claude Code's folder is found here; the MCP memory
server's file by mcp_memory.py, from the project's `.mcp.json`.

How it is wired: config.py validates the `presets:` key against `NAMES` and adds the
patterns inside the project to `files`; memory/source_config.py turns `resolve()`'s places
into sources (`Config.sources`, read by memory/places.py) and each place outside the
project into a trust setting (`memvault allow`); `warnings` are kept in `Config.warnings`
(printed by init, allow and sync, listed by status). `memvault init` writes what
`detect(project)` returns under `presets:`.

A preset whose folder does not exist simply finds nothing; a `.mcp.json` that is not valid
JSON is reported in `warnings` and skipped. Nothing here writes anything.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import re
from collections.abc import Callable

from memvault_hooks.memory import mcp_memory
from memvault_hooks.memory import sources

SLUG_LIMIT = 200                 # Claude Code shortens longer project slugs and adds a hash


@dataclasses.dataclass(frozen=True)
class Place:
    """A folder outside the project whose matching files are backed up as `@<source>/...`."""

    source: str                     # the source name: the preset's name
    dir: str                        # absolute folder (may not exist yet: then it holds nothing)
    patterns: tuple[str, ...]       # relative to dir
    origin: str                     # what named this place, for `allow` and `init`
    under: str = ""                 # a prefix inside @source/ ('' or 'name/'), to keep names apart
    inside_project: bool = False    # True: no `memvault allow` is needed for it

    def stored(self, rel: str) -> str:
        """The vault path (below subdir) of the file `rel` under `dir`."""
        return f"@{self.source}/{self.under}{rel}"

    def describe(self) -> str:
        files = ", ".join(self.patterns)
        return f"@{self.source}/{self.under}: {files} in {self.dir} ({self.origin})"


@dataclasses.dataclass
class Outside:
    """What a preset found outside the project: places, and what the user should hear."""

    places: list[Place] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    # Whether the preset's own marker was seen (e.g. `.mcp.json` naming the memory
    # server), even when no file exists yet: `detect` uses it.
    named: bool = False


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    patterns: tuple[str, ...] = ()                      # inside the project
    outside: Callable[[str], Outside] | None = None     # project folder -> places outside it


@dataclasses.dataclass
class Resolved:
    patterns: tuple[str, ...]
    places: list[Place]
    warnings: list[str]


# ---- Claude Code ---------------------------------------------------------------------

def claude_slug(project: str) -> str:
    """Claude Code's folder name for a project: every character but A-Z a-z 0-9 becomes '-'.

    Longer than 200 characters, Claude Code keeps the first 200 and appends a hash;
    `claude_memory_dir` finds that folder by its prefix."""
    return re.sub(r"[^A-Za-z0-9]", "-", project)


def _js_string_hash(text: str) -> str:
    """Claude Code's hash for long slugs under Node (31 * h + unit over UTF-16 units, int32),
    in base 36. Its Bun build hashes differently: `claude_memory_dir` then goes by prefix."""
    data = text.encode("utf-16-le")
    value = 0
    for i in range(0, len(data), 2):
        value = ((value << 5) - value + int.from_bytes(data[i:i + 2], "little")) & 0xFFFFFFFF
    value = abs(value - (1 << 32) if value >= 1 << 31 else value)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = digits[value % 36]
    while value >= 36:
        value //= 36
        out = digits[value % 36] + out
    return out


def claude_projects_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".claude", "projects")


def claude_memory_dir(project: str) -> str:
    """`~/.claude/projects/<slug>/memory` for the project (it may not exist)."""
    slug = claude_slug(project)
    base = claude_projects_dir()
    if len(slug) > SLUG_LIMIT:
        head = slug[:SLUG_LIMIT]
        exact = f"{head}-{_js_string_hash(project)}"
        if not os.path.isdir(os.path.join(base, exact)):
            found = sorted(glob.glob(os.path.join(glob.escape(base), glob.escape(head) + "-*")))
            found = [f for f in found if "-" not in os.path.basename(f)[SLUG_LIMIT + 1:]]
            if len(found) == 1:
                exact = os.path.basename(found[0])
        slug = exact
    return os.path.join(base, slug, "memory")


def _claude_code_outside(project: str) -> Outside:
    folder = claude_memory_dir(project)
    place = Place("claude-code", folder, ("**/*.md",), f"Claude Code's auto memory of {project}")
    return Outside([place], [], named=bool(sources.discover(folder, place.patterns)))


# ---- MCP memory server (mcp_memory.py) ---------------------------------------------------

def _mcp_memory_outside(project: str) -> Outside:
    found = mcp_memory.memory_files(project)
    out = Outside(warnings=found.warnings, named=found.named)
    real_project = os.path.realpath(project)
    used_names: set[str] = set()
    for item in found.files:
        folder, file_name = os.path.split(item.path)
        under = ""
        if file_name in used_names:         # two servers' files of one name: kept apart
            under = re.sub(r"[^a-z0-9-]", "-", item.server.lower()).strip("-") + "/"
        used_names.add(file_name)
        inside = sources.inside(os.path.realpath(item.path), real_project)
        out.places.append(Place("mcp-memory", folder, (glob.escape(file_name),), item.origin, under, inside))
    return out


# ---- the table -----------------------------------------------------------------------

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("claude-code", ("CLAUDE.md", "CLAUDE.local.md", ".claude/CLAUDE.md"), _claude_code_outside),
    Preset("mcp-memory", (), _mcp_memory_outside),
    Preset("cline", ("memory-bank/**/*.md", ".clinerules", ".clinerules/**")),
    Preset("cursor", (".cursorrules", ".cursor/rules/**/*.mdc")),
    Preset("copilot", (".github/copilot-instructions.md", ".github/instructions/**/*.instructions.md")),
    Preset("gemini", ("GEMINI.md",)),
    Preset("codex", ("AGENTS.md",)),
    Preset("windsurf", (".windsurfrules", ".windsurf/rules/**")),
)}
NAMES = tuple(PRESETS)


def unknown(names: list[str] | tuple[str, ...]) -> list[str]:
    """The names that are not presets (for config validation)."""
    return [n for n in names if n not in PRESETS]


def detect(project: str) -> list[str]:
    """The presets that apply to the project: one of their files exists, or (mcp-memory)
    `.mcp.json` names the memory server. In PRESETS order."""
    found = []
    for preset in PRESETS.values():
        if preset.patterns and sources.discover(project, preset.patterns):
            found.append(preset.name)
        elif preset.outside is not None and preset.outside(project).named:
            found.append(preset.name)
    return found


def resolve(project: str, names: list[str] | tuple[str, ...]) -> Resolved:
    """The patterns inside the project, the places outside it, and the warnings of `names`."""
    patterns: dict[str, None] = {}
    places: list[Place] = []
    warnings: list[str] = []
    for name in names:
        preset = PRESETS[name]
        patterns.update(dict.fromkeys(preset.patterns))
        if preset.outside is not None:
            outside = preset.outside(project)
            places += outside.places
            warnings += outside.warnings
    return Resolved(tuple(patterns), places, warnings)

