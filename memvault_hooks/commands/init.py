"""`memvault init [--vault PATH] [--remote URL]`: write `.memvault.yaml` if absent and
create the vault, or clone it when the remote already holds one."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from memvault_hooks.vault import backup
from memvault_hooks.vault import behind
from memvault_hooks import config
from memvault_hooks import dirs
from memvault_hooks.vault import file_lock
from memvault_hooks.ui import logs
from memvault_hooks.vault import remote
from memvault_hooks.memory import places
from memvault_hooks.memory import sources
from memvault_hooks.vault import state
from memvault_hooks.errors import MemvaultError

TEMPLATE = """\
# memvault-hooks: versioned backups of this project's agent memory files.
# Reference: the memvault-hooks README (Configuration).
version: 1
source_dir: .                 # where memory files live; relative to the project, or absolute / ~
files:                        # names or glob patterns (**, *) relative to source_dir
{files}
presets: [{presets}]{presets_comment}
# sources:                    # folders outside the project, stored as @<name>/<path> (needs `memvault allow`)
#   - {{name: notes, dir: ~/agent-notes, files: ["**/*.md"]}}
vault:
{vault_path}  subdir: rAgentShared        # files are stored under <vault>/<subdir>/<relative path>
  remote: {remote}{remote_comment}
  encrypt: {encrypt}{encrypt_comment}
  branch: main
schedule: "*/15 * * * *"      # cron fallback schedule (memvault cron install)
# log_file: <a private file under the user's state dir>
# error_log: <beside log_file>
# mirror_deletions: false     # true: a memory file deleted from source_dir is deleted in the vault too
"""


def _yaml_str(value: str) -> str:
    import json

    return json.dumps(value)  # a JSON string is a valid YAML scalar


def render(vault: str | None, remote: str | None, presets: list[str] | None = None, encrypt: bool = False) -> str:
    files = "\n".join(f"  - {name}" for name in config.DEFAULT_FILES)
    if vault:
        vault_path = f"  path: {_yaml_str(vault)}\n"
    else:
        vault_path = "  # path: <default: a per-project folder under the user's data dir>\n"
    return TEMPLATE.format(
        files=files,
        presets=", ".join(presets or []),
        presets_comment=("  " if presets else "                   ") + "# agents whose memory files are backed up too "
                        "(claude-code, cursor, cline, ...)",
        vault_path=vault_path,
        remote=_yaml_str(remote) if remote else "null",
        remote_comment="" if remote else "                # URL of the vault's remote; null = local only",
        encrypt="true" if encrypt else "false",
        encrypt_comment=("                " if encrypt else "               ")
        + "# true: what goes to the remote is encrypted (a passphrase protects the key)",
    )


NEXT_STEPS = (
    "next steps:",
    "  memvault sync                 back up now (then after every commit, once a trigger is installed)",
    "  memvault install-hooks        back up after each commit, checkout, merge and rewrite (plain git hooks);",
    "                                or, with pre-commit, add the memvault-sync hook to .pre-commit-config.yaml",
    "  memvault cron install         back up between commits too, on the config's schedule ({schedule})",
    "  memvault watch                back up within seconds of each change (stays in the foreground)",
)


def plan(cfg: config.Config) -> list[str]:
    """The files a sync backs up now, or what was looked for; then the trigger commands."""
    found = sorted(places.discover(cfg))
    lines = [f"memvault: warning: {text}" for text in cfg.warnings]
    if found:
        outside = [stored for stored in found if stored.startswith("@") and places.locate(cfg, stored)[1] != stored]
        where = f"{cfg.source_dir}" + (" and outside it" if outside else "")
        lines += [f"memvault: will back up {len(found)} file{'s' if len(found) != 1 else ''} found in {where}:"]
        lines += [f"  {rel}" for rel in found if rel not in outside]
        lines += [f"  {stored}  ({places.path_of(cfg, stored)})" for stored in outside]
    else:
        lines += [f"memvault: {sources.none_found(cfg.source_dir, cfg.files, cfg.config_file)}"]
    for prefix, folder, patterns in cfg.sources:
        if not any(stored.startswith(prefix) for stored in found):
            lines.append(f"memvault: nothing in {folder} yet ({', '.join(patterns)}; backed up as {prefix}...)")
    return lines + [step.format(schedule=cfg.schedule) for step in NEXT_STEPS]


def _warn_credentials(remote: str, target: str) -> None:
    """A credential in the URL now sits in a file that is usually committed: say so."""
    from memvault_hooks import urls

    if urls.mask(remote) != remote:
        print(f"memvault: warning: the --remote URL holds a credential, and {target} (usually committed) "
              "now holds it too: remove it from the URL there and use an ssh key or a git credential "
              "helper, or keep the file out of git", file=sys.stderr)


HELP = "write .memvault.yaml if absent; create or clone the vault; list the files it will back up"
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vault", metavar="PATH",
                        help="where the vault lives (default: a per-project folder under the user's data dir)")
    parser.add_argument("--remote", metavar="URL",
                        help="the vault's remote (a git URL); an existing vault there is cloned")
    parser.add_argument("--encrypt", action="store_true",
                        help="write `vault.encrypt: true`: what goes to the remote is encrypted with age; sets up "
                             "the encrypted remote, or joins it, with a passphrase ($MEMVAULT_PASSPHRASE, or typed "
                             "at the terminal)")


def run(args: argparse.Namespace) -> int:
    project = dirs.find_project(args.directory)
    target = args.config or os.path.join(project, config.CONFIG_NAME)
    if args.remote is not None:
        config.check_remote("--remote", project, args.remote)  # before anything is written
    wrote = False
    if os.path.exists(target):
        print(f"memvault: keeping the existing {target}")
        for flag, key, value in (("--vault", "vault.path", args.vault), ("--remote", "vault.remote", args.remote),
                                 ("--encrypt", "vault.encrypt", "true" if args.encrypt else None)):
            if value:
                then = ", then run `memvault allow`" if key == "vault.remote" else ""
                print(f"memvault: {flag} is ignored because {target} exists: set `{key}: {value}` in it{then}")
    else:
        vault = os.path.abspath(os.path.expanduser(args.vault)) if args.vault else None
        from memvault_hooks.memory import presets

        found = presets.detect(project)
        with open(target, "x", encoding="utf-8") as f:
            f.write(render(vault, args.remote, found, encrypt=args.encrypt))
        print(f"memvault: wrote {target}" + (f" with the presets {', '.join(found)} (found their files)" if found else ""))
        wrote = True
        if args.remote is not None:
            _warn_credentials(args.remote, target)
    # What init wrote (a remote given with --remote, say) is allowed by that act; a config
    # that was already there, perhaps from a clone, waits for `memvault allow` like any other.
    written = os.path.abspath(os.path.expanduser(target))
    wrote = wrote and config.find_config_file(project, target if args.config else None) == written  # not $MEMVAULT_CONFIG
    cfg = config.from_args(args.directory, target if args.config else None, trusted=not wrote)
    if wrote and cfg.outside:
        from memvault_hooks import trust

        trust.allow(cfg.to_dict())
        print("memvault: allowed what it sets outside the project: " + "; ".join(trust.describe(cfg.to_dict())))
    unreachable = None
    cloned = False
    stack = contextlib.ExitStack()  # holds an encrypted remote joined in a temporary folder
    joining = None
    if cfg.remote and cfg.encrypt:
        joining, unreachable = _connect_encrypted(cfg, stack, written if wrote else None)
    elif cfg.remote:
        from memvault_hooks.vault import encrypted_push

        encrypted_push.ignore_passphrase_note(cfg)
    with stack, file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT):
        if cfg.remote and not cfg.encrypt and not backup.vault_of(cfg).exists() and not backup.vault_of(cfg).foreign_entries():
            from memvault_hooks.vault import clone

            try:
                clone.clone_vault(cfg.remote, cfg.vault_path, cfg.branch, cfg.timeout)
                if backup.vault_of(cfg).head() is not None:
                    print(f"memvault: cloned the vault from {cfg.remote}")
                    cloned = True
                else:
                    print(f"memvault: {cfg.remote} holds no vault yet; the first sync pushes to it")
            except MemvaultError as exc:
                unreachable = exc
                logs.error(cfg.error_log, f"init: {exc}")
        vault_obj = backup.ensure_vault(cfg)
        if cfg.remote and cfg.encrypt:  # no `origin`: nothing may be pushed there in clear
            from memvault_hooks.vault import encrypted_push

            cloned = encrypted_push.init_finish(cfg, vault_obj, joining)
        elif cfg.remote:
            remote.ensure_origin(vault_obj, remote.remote_url(cfg))
        if cloned:
            late = behind.live_files_behind(cfg, vault_obj, state.load(cfg.vault_path))
            if late:
                print(f"memvault: {behind.advice(late)}")
    print(f"memvault: vault ready at {cfg.vault_path}")
    print("\n".join(plan(cfg)))
    if unreachable is not None:
        if cfg.encrypt:
            raise MemvaultError(f"{unreachable}; created a local vault: syncs back up locally and keep the push "
                                "queued until `memvault init` is run again in a terminal (or a sync with "
                                "$MEMVAULT_PASSPHRASE set) sets up or joins the encrypted remote")
        raise MemvaultError(f"{unreachable}; created a local vault whose origin is {cfg.remote}: "
                            "syncs back up locally, and the first one that reaches it pushes (merging with any "
                            "backups it holds)")
    return 0


def _connect_encrypted(cfg: config.Config, stack: contextlib.ExitStack[Any], wrote: str | None
                       ) -> tuple[tuple[str, bool] | None, MemvaultError | None]:
    """Set up or join the encrypted remote before the vault is written: (what to move into
    the vault, or None; why it could not be reached). A wrong passphrase raises, and the
    configuration this run wrote (`wrote`) is removed: nothing is left."""
    from memvault_hooks.vault import crypt
    from memvault_hooks.vault import encrypted_push

    try:
        return encrypted_push.init_connect(cfg, stack), None
    except crypt.WrongPassphrase:
        if wrote:
            os.unlink(wrote)
        raise
    except MemvaultError as exc:
        logs.error(cfg.error_log, f"init: {exc}")
        return None, exc
