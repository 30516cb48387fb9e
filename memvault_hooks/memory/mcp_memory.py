"""The MCP memory server (`@modelcontextprotocol/server-memory`) of a project: where its
knowledge graph file is, read from the project's `.mcp.json` as the server resolves it.

The server (src/memory/index.ts) takes MEMORY_FILE_PATH from its environment: a leading
`~` is the home folder, an absolute path is used as it is, a relative path is joined to the
server's own `dist` folder. Without it the graph is `dist/memory.jsonl` (a legacy
`memory.json` there is renamed to it on start). Run through `npx`, that folder is in the
npx cache (`~/.npm/_npx/<hash>/node_modules/...`), where clearing the cache deletes the
graph: such a file is backed up all the same, with a warning and the one-line fix.
`${VAR}` and `${VAR:-default}` in `.mcp.json` are expanded as Claude Code expands them.

`.mcp.json` comes with the project, so it is untrusted input: a regular file of at most
MCP_CONFIG_LIMIT bytes holding a JSON object, else it is reported and skipped; the paths
it names are outside the project as a rule and obey the trust rule (presets.Place). Used by
presets.py (the `mcp-memory` preset) only. Nothing here writes anything.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import stat as stat_mod

MEMORY_SERVER = "@modelcontextprotocol/server-memory"
MEMORY_SERVER_BIN = "mcp-server-memory"
MCP_CONFIG = ".mcp.json"
MCP_CONFIG_LIMIT = 1 << 20       # a .mcp.json larger than this is not read (it is untrusted input)


@dataclasses.dataclass(frozen=True)
class ServerFile:
    server: str         # the server's name in .mcp.json
    path: str           # absolute; may not exist yet (the server has not written it)
    origin: str         # what named it, for `allow` and `init`


@dataclasses.dataclass
class Found:
    files: list[ServerFile] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    named: bool = False     # .mcp.json names the memory server (even with no file yet)


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


def memory_files(project: str) -> Found:
    """The memory file of each server in the project's `.mcp.json` that runs the memory
    server (a file shared by two servers once), and what the user should hear."""
    config, problem = read_mcp_config(project)
    out = Found(warnings=[problem] if problem else [])
    if config is None:
        return out
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
        if real not in seen:
            seen.add(real)
            out.files.append(ServerFile(name, path, origin))
    return out


def _cache_warning(project: str, server: str, path: str | None, others: list[str] | None = None) -> str:
    where = path or f"{npx_cache_dir()}/*/node_modules/{MEMORY_SERVER}/dist/memory.jsonl (not written yet)"
    text = (f"{MCP_CONFIG}: the MCP memory server \"{server}\" keeps its knowledge graph in the npx "
            f"cache ({where}), which is not a safe home: clearing the cache deletes it. "
            f"memvault backs it up meanwhile. Fix: {_safe_home_fix(project, server, path)}")
    if others:
        text += f". Older copies in the cache, not backed up: {', '.join(others)}"
    return text
