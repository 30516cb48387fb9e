"""`memvault cron install [--schedule EXPR] | remove | status`: the project's crontab line.

The user's table is edited through the real `crontab` command, as text: our line (one a
project, found again by the comment that ends it) is added, replaced in place or
removed, and every other byte of the table stays as it was. The line works in cron's
bare environment: absolute interpreter, `-C` project, `--config` file, and the variables
the defaults are derived from when they differ from what cron would give.
"""
from __future__ import annotations

import argparse
import os
import pwd
import shlex
import shutil
import subprocess
import sys

from memvault_hooks import config
from memvault_hooks import cron_schedule
from memvault_hooks import dirs
from memvault_hooks import hook_scripts
from memvault_hooks import options
from memvault_hooks import processes
from memvault_hooks.errors import MemvaultError
from memvault_hooks.errors import UsageError

# Where the defaults come from (vault, logs, `~` in the config, the hook's cache).
_ENV_KEYS = ("HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


def marker(cfg: config.Config) -> str:
    return f"# memvault-hooks cron {dirs.project_id(cfg.project)}"


def _crontab(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    command = shutil.which("crontab")
    if command is None:
        raise MemvaultError("the `crontab` command is not installed, so there is no crontab to edit: "
                            "install cron (Debian/Ubuntu: `apt-get install cron`) or use the git hooks alone")
    env = dict(os.environ, LC_ALL="C")
    env.pop("EDITOR", None)
    env.pop("VISUAL", None)
    return subprocess.run([command, *args], input=input, capture_output=True, text=True, env=env)


def read_table() -> str:
    """The user's crontab as text ('' when they have none)."""
    proc = _crontab("-l")
    if proc.returncode != 0:
        if "no crontab for" in proc.stderr:
            return ""
        raise MemvaultError(f"`crontab -l` failed: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc.stdout


def write_table(text: str) -> None:
    if text.strip():
        proc = _crontab("-", input=text)
    else:
        proc = _crontab("-r")
        if proc.returncode != 0 and "no crontab for" in proc.stderr:
            return
    if proc.returncode != 0:
        raise MemvaultError(f"crontab refused the new table: {proc.stderr.strip() or f'exit {proc.returncode}'}")


def _env_part() -> str:
    """Assignments for what cron's environment would have otherwise (HOME from passwd, no XDG)."""
    try:
        cron_home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        cron_home = None
    parts = []
    for key in _ENV_KEYS:
        value = os.environ.get(key)
        if value and not (key == "HOME" and value == cron_home):
            parts.append(f"{key}={shlex.quote(value)} ")
    return "".join(parts)


def entry(cfg: config.Config, schedule: str) -> str:
    """The crontab line for this project (without its newline)."""
    python = os.path.abspath(sys.executable)
    # Isolated: never the project's code; the entry called as the hooks call it (no runpy).
    argv = [python, "-I", "-c", hook_scripts.ENTRY, "-C", cfg.project]
    if cfg.config_file:
        argv += ["--config", cfg.config_file]
    argv += ["sync", "--trigger", "cron", "--quiet"]
    for value in (*argv, cfg.log_file):
        if "\n" in value or "\r" in value:
            raise UsageError(f"{value!r} holds a line break, which a crontab line cannot carry")
    command = (f"umask 077; {_env_part()}{shlex.join(argv)} "
               f">>{shlex.quote(cfg.log_file)} 2>&1")
    return f"{schedule} {command.replace('%', chr(92) + '%')} {marker(cfg)}"


def _split(text: str, mark: str) -> tuple[list[str], list[int]]:
    lines = text.splitlines(keepends=True)
    ours = [i for i, line in enumerate(lines) if line.rstrip("\r\n").endswith(mark)]
    return lines, ours


def installed_entry(cfg: config.Config) -> str | None:
    """This project's crontab line, or None (also when there is no `crontab` at all)."""
    try:
        lines, ours = _split(read_table(), marker(cfg))
    except MemvaultError:
        return None
    return lines[ours[0]].rstrip("\r\n") if ours else None


def installed(cfg: config.Config) -> bool:
    return installed_entry(cfg) is not None


def installed_schedule(cfg: config.Config) -> str | None:
    """The schedule (5 fields) of this project's installed line, or None when none is."""
    line = installed_entry(cfg)
    if line is None:
        return None
    fields = line.split()
    return " ".join(fields[:5]) if len(fields) > 5 else None


DAEMONS = ("cron", "crond")
NO_DAEMON = ("no cron daemon is running, so the cron entry never fires: start it "
             "(Debian/Ubuntu: `sudo service cron start`; elsewhere `crond`)")


def daemon_running() -> bool | None:
    """Whether a cron daemon (`cron` or `crond`) runs; None when it cannot be told."""
    return processes.any_named(DAEMONS)


def install(cfg: config.Config, schedule: str) -> tuple[str, bool]:
    """Add or update the line; (the line, whether the table changed)."""
    line = entry(cfg, schedule)
    old = read_table()
    lines, ours = _split(old, marker(cfg))
    if ours:
        lines[ours[0]] = line + "\n"
        for i in reversed(ours[1:]):
            del lines[i]
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(line + "\n")
    new = "".join(lines)
    if new == old:
        return line, False
    dirs.make_private_dir(os.path.dirname(cfg.log_file))
    os.close(os.open(cfg.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    write_table(new)
    return line, True


def remove(cfg: config.Config) -> bool:
    old = read_table()
    lines, ours = _split(old, marker(cfg))
    if not ours:
        return False
    for i in reversed(ours):
        del lines[i]
    write_table("".join(lines))
    return True


HELP = "manage this project's entry in the user's crontab"
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cron_command", metavar="ACTION")
    actions.required = True

    def add(name: str, help: str) -> argparse.ArgumentParser:
        action = actions.add_parser(name, help=help, description=help)
        options.add_common(action)
        return action

    add("install", "add or update this project's crontab entry (idempotent; other lines untouched)").add_argument(
        "--schedule", metavar="EXPR",
        help="5-field cron expression: minute hour day-of-month month day-of-week, "
             "e.g. '*/15 * * * *' (default: the config's schedule)")
    add("remove", "remove this project's crontab entry")
    add("status", "show this project's crontab entry: exit 0 when installed, 1 when not; "
                  "warn when no cron daemon runs")


def run(args: argparse.Namespace) -> int:
    cfg = config.from_args(args.directory, args.config, trusted=args.cron_command == "install")
    if args.cron_command == "install":
        schedule = cfg.schedule
        if args.schedule is not None:
            try:
                schedule = cron_schedule.normalize(args.schedule)
            except cron_schedule.InvalidSchedule as exc:
                raise UsageError(f"--schedule: {exc}; {cron_schedule.FIX}") from None
        line, changed = install(cfg, schedule)
        print(f"memvault: cron entry {'installed' if changed else 'already installed'}: {line}")
    elif args.cron_command == "remove":
        if remove(cfg):
            print(f"memvault: cron entry removed for {cfg.project}")
        else:
            print(f"memvault: no cron entry to remove for {cfg.project}")
    else:
        lines, ours = _split(read_table(), marker(cfg))
        if not ours:
            print(f"memvault: no cron entry for {cfg.project} (add one: `memvault cron install`)")
            return 1
        print(f"memvault: cron entry installed: {lines[ours[0]].rstrip()}")
    if args.cron_command != "remove" and daemon_running() is False:
        sys.stderr.write(f"memvault: warning: {NO_DAEMON}\n")
    return 0
