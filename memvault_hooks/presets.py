"""Built-in agent memory locations (SPEC "Presets and sources"), one small entry a preset.

A preset is a name, patterns inside the project (relative to the project folder, added to
`files`), and optionally a function that names places outside the project. Each such place
is backed up as source `@<preset>`: stored at `<vault>/<subdir>/@<preset>/<under><rel>`,
with `rel` the path relative to the place's folder. Adding an agent is adding one PRESETS
entry (and a line in the SPEC's table).

How it is meant to be wired (by the integrator):
- config.py validates the `presets:` key against `NAMES` (an unknown name is a config error
  naming the key, exit 2) and keeps the list.
- the sync / status / restore / watch read `resolve(project, cfg.presets)`: `patterns` join
  the `files` patterns (under the project; a project whose source_dir is elsewhere keeps
  them relative to the project), `places` join the `sources`, and `warnings` are printed
  (by init and sync, once each) and logged.
- every place with `inside_project=False` obeys the trust rule: `memvault allow` prints
  `place.describe()` and records (source, dir, patterns); `init` records what it writes.
- `memvault init` calls `detect(project)` and writes the names it returns under `presets:`,
  then prints every file `resolve()` names (places via sources.scan(place.dir, patterns)).

A preset whose folder does not exist simply finds nothing; a `.mcp.json` that is not valid
JSON is reported in `warnings` and skipped. Nothing here writes anything.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import stat as stat_mod
from collections.abc import Callable

from memvault_hooks import sources

MEMORY_SERVER = "@modelcontextprotocol/server-memory"
MEMORY_SERVER_BIN = "mcp-server-memory"
MCP_CONFIG = ".mcp.json"
MCP_CONFIG_LIMIT = 1 << 20       # a .mcp.json larger than this is not read (it is untrusted input)
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


# ---- MCP memory server ---------------------------------------------------------------

def npx_cache_dir() -> str:
    """npm's npx cache: `$npm_config_cache/_npx`, else `~/.npm/_npx`."""
    base = os.environ.get("npm_config_cache") or os.environ.get("NPM_CONFIG_CACHE")
    if not base:
        if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
            base = os.path.join(os.environ["LOCALAPPDATA"], "npm-cache")
        else:
            base = os.path.join(os.path.expanduser("~"), ".npm")
    return os.path.join(os.path.expanduser(base), "_npx")


def npx_package_dirs() -> list[str]:
    """Every `dist` folder of the memory server in the npx cache, newest first."""
    pattern = os.path.join(glob.escape(npx_cache_dir()), "*", "node_modules",
                           *MEMORY_SERVER.split("/"), "dist")
    found = [d for d in glob.glob(pattern) if os.path.isdir(d)]
    return sorted(found, key=_mtime, reverse=True)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def read_mcp_config(project: str) -> tuple[dict[str, object] | None, str | None]:
    """The project's `.mcp.json` as a dict, or None; and a warning when it cannot be used.

    No file is no warning. The file is untrusted input: it must be a regular file (or a
    link to one) of at most MCP_CONFIG_LIMIT bytes holding a JSON object."""
    path = os.path.join(project, MCP_CONFIG)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror}); its MCP memory servers are skipped"
    with os.fdopen(fd, "rb") as f:
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            return None, f"{path}: not a regular file; its MCP memory servers are skipped"
        data = f.read(MCP_CONFIG_LIMIT + 1)
    if len(data) > MCP_CONFIG_LIMIT:
        return None, (f"{path}: larger than {MCP_CONFIG_LIMIT >> 20} MB; its MCP memory servers "
                      f"are skipped")
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return None, f"{path}: not UTF-8 ({exc.reason}); its MCP memory servers are skipped"
    except json.JSONDecodeError as exc:
        return None, (f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                      f"its MCP memory servers are skipped until it is fixed")
    except RecursionError:
        return None, f"{path}: nested too deeply to read; its MCP memory servers are skipped"
    if not isinstance(parsed, dict):
        return None, f"{path}: not a JSON object; its MCP memory servers are skipped"
    return parsed, None


def memory_servers(config: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
    """(name, entry) of each server in a parsed `.mcp.json` that runs the memory server."""
    found = []
    for key in ("mcpServers", "servers"):
        servers = config.get(key)
        if not isinstance(servers, dict):
            continue
        for name, entry in servers.items():
            if isinstance(entry, dict) and _runs_memory_server(entry):
                found.append((str(name), entry))
    return found


def _runs_memory_server(entry: dict[str, object]) -> bool:
    words = [entry.get("command")]
    args = entry.get("args")
    if isinstance(args, list):
        words += args
    for word in words:
        if not isinstance(word, str):
            continue
        if word == MEMORY_SERVER or word.startswith(MEMORY_SERVER + "@"):
            return True
        if os.path.basename(word) in (MEMORY_SERVER_BIN, MEMORY_SERVER_BIN + ".cmd"):
            return True
    return False


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_vars(value: str) -> tuple[str, list[str]]:
    """`${VAR}` and `${VAR:-default}` expanded as Claude Code does in `.mcp.json`; also the
    names of variables that are not set here (left as they were)."""
    missing: list[str] = []

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        current = os.environ.get(name)
        if default is not None:
            return current if current else default
        if current is None:
            missing.append(name)
            return match.group(0)
        return current

    return _VAR.sub(one, value), missing


def server_memory_path(raw: str) -> tuple[str | None, str | None]:
    """Where the memory server keeps its file for MEMORY_FILE_PATH=`raw`, as the server
    resolves it (src/memory/index.ts): a leading `~` is the home folder, an absolute path
    is used as it is, a relative one is joined to the server's own `dist` folder (inside
    the npx cache). Returns (path or None, warning or None)."""
    value, missing = expand_vars(raw)
    if missing:
        return None, (f"MEMORY_FILE_PATH {raw!r} uses {', '.join('${' + m + '}' for m in missing)}, "
                      f"not set here (cron and git hooks do not see your shell's variables); "
                      f"write the path out in full")
    if value == "~" or value.startswith("~/"):
        value = os.path.join(os.path.expanduser("~"), value[2:])
    if os.path.isabs(value):
        return os.path.normpath(value), None
    dists = npx_package_dirs()
    if not dists:
        return None, (f"MEMORY_FILE_PATH {raw!r} is relative, so the server keeps it in its own "
                      f"package folder, which is not in the npx cache ({npx_cache_dir()}); "
                      f"set an absolute path")
    return os.path.normpath(os.path.join(dists[0], value)), None


def _cache_file() -> tuple[str | None, list[str]]:
    """The newest memory file in the npx cache (memory.jsonl, else the legacy memory.json),
    and every other one found there."""
    found = []
    for dist in npx_package_dirs():
        for name in ("memory.jsonl", "memory.json"):
            path = os.path.join(dist, name)
            if os.path.isfile(path):
                found.append(path)
                break
    found.sort(key=_mtime, reverse=True)
    return (found[0] if found else None), found[1:]


def _safe_home_fix(project: str, server: str, current: str | None) -> str:
    suggested = f"~/mcp-memory/{os.path.basename(project.rstrip(os.sep)) or 'memory'}.jsonl"
    move = (f"mkdir -p ~/mcp-memory && mv '{current}' {suggested}, then " if current else "")
    return (f"{move}set \"env\": {{\"MEMORY_FILE_PATH\": \"{suggested}\"}} for the "
            f"\"{server}\" server in {MCP_CONFIG}")


def _mcp_memory_outside(project: str) -> Outside:
    config, problem = read_mcp_config(project)
    out = Outside(warnings=[problem] if problem else [])
    if config is None:
        return out
    real_project = os.path.realpath(project)
    used_names: set[str] = set()
    seen: set[str] = set()
    for name, entry in memory_servers(config):
        out.named = True
        env = entry.get("env")
        raw = env.get("MEMORY_FILE_PATH") if isinstance(env, dict) else None
        where = f"{MCP_CONFIG}: mcpServers.{name}"
        if isinstance(raw, str) and raw.strip():
            path, warning = server_memory_path(raw.strip())
            if warning:
                out.warnings.append(f"{where}: {warning}")
            if path is None:
                continue
            origin = f"{where}.env.MEMORY_FILE_PATH"
            if path.startswith(npx_cache_dir().rstrip(os.sep) + os.sep):
                out.warnings.append(_cache_warning(project, name, path))
        else:
            path, others = _cache_file()
            origin = f"the npx cache ({where} sets no MEMORY_FILE_PATH)"
            out.warnings.append(_cache_warning(project, name, path, others))
            if path is None:
                # Not written yet: where the server will write it once it runs.
                dists = npx_package_dirs()
                if not dists:
                    continue
                path = os.path.join(dists[0], "memory.jsonl")
        real = os.path.realpath(path)
        if real in seen:
            continue                            # two servers sharing one file: backed up once
        seen.add(real)
        folder, file_name = os.path.split(path)
        under = ""
        if file_name in used_names:
            under = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-") + "/"
        used_names.add(file_name)
        inside = sources.inside(real, real_project)
        out.places.append(Place("mcp-memory", folder, (glob.escape(file_name),), origin, under, inside))
    return out


def _cache_warning(project: str, server: str, path: str | None, others: list[str] | None = None) -> str:
    where = path or f"{npx_cache_dir()}/*/node_modules/{MEMORY_SERVER}/dist/memory.jsonl (not written yet)"
    text = (f"{MCP_CONFIG}: the MCP memory server \"{server}\" keeps its knowledge graph in the npx "
            f"cache ({where}), which is not a safe home: clearing the cache deletes it. "
            f"memvault backs it up meanwhile. Fix: {_safe_home_fix(project, server, path)}")
    if others:
        text += f". Older copies in the cache, not backed up: {', '.join(others)}"
    return text


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
