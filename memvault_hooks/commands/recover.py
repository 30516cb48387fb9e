"""`memvault recover --from URL [--at WHEN]`: on a fresh machine, clone the vault to
`vault.path` and restore every memory file into the project (live files backed up first).

Refuses (exit 1) when `vault.path` holds something else: a git repository with history
from elsewhere, or a folder with other files. A vault already cloned from URL (a recover
that stopped half way) is used as it is; an empty vault (`memvault init` run first) is
replaced by the clone.
"""
from __future__ import annotations

import argparse
import os
import shutil

from memvault_hooks.vault import clone
from memvault_hooks import config
from memvault_hooks.ui import logs
from memvault_hooks import options
from memvault_hooks import urls
from memvault_hooks.errors import MemvaultError
from memvault_hooks.errors import UsageError
from memvault_hooks.history.restorer import Restore
from memvault_hooks.vault.vault import Vault
from memvault_hooks.history.versionarg import Choice


def _prepare_place(path: str, url: str) -> bool:
    """True when a vault cloned from `url` is already there; raise when the place is taken."""
    if os.path.lexists(os.path.join(path, ".git")):
        from memvault_hooks.vault import vaultmark

        vaultmark.check(path)  # a repository memvault did not make is never reused nor removed
        origin = Vault(path, "", "").setting("remote.origin.url") or None
        if origin and urls.same(origin, url):
            return True
        if not clone.has_history(path) and clone.is_empty_place(path, also=frozenset({".git"})):
            shutil.rmtree(path)  # an empty vault, as `memvault init` makes it: nothing to lose
            return False
        said = f"its origin is {origin}" if origin else "it has no remote"
        raise MemvaultError(
            f"vault.path {path} is already a git repository ({said}) with its own history; "
            "recover clones into an empty place: move that folder away or set vault.path "
            "in .memvault.yaml to another folder (to restore from that vault instead, run `memvault restore`)")
    if not clone.is_empty_place(path):
        raise MemvaultError(
            f"vault.path {path} exists and is not a vault (it is {'a folder with other files' if os.path.isdir(path) else 'a file'}); "
            "move it away or set vault.path in .memvault.yaml to another folder")
    return False


HELP = "fresh machine: clone the vault and restore every file"
EPILOG = options.WHEN_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_", metavar="URL", required=True, help="the vault's remote to clone")
    parser.add_argument("--at", metavar="WHEN", help="restore the version at WHEN (see below; default: the latest)")


def run(args: argparse.Namespace) -> int:
    choice = Choice(args)
    url = args.from_.strip()
    if not url or url.startswith("-"):
        raise UsageError(f"--from {args.from_!r}: give the URL (or path) of the vault's remote")
    cfg = config.from_args(args.directory, args.config)
    if cfg.encrypt:
        _recover_encrypted(cfg, url)
        return Restore(cfg, trigger="recover").run(choice.resolve)
    from memvault_hooks.vault import encrypted_push

    encrypted_push.ignore_passphrase_note(cfg)
    try:
        reused = _prepare_place(cfg.vault_path, url)
        if not reused:
            clone.clone_vault(url, cfg.vault_path, cfg.branch, cfg.timeout)
    except MemvaultError as exc:
        logs.error(cfg.error_log, f"recover --from {url}: {exc}")
        if str(exc).startswith("cannot clone the vault from") and "encrypted memvault remote" not in str(exc):
            raise MemvaultError(f"{exc}; check the URL and that this machine can reach it "
                                f"(`git ls-remote -- {url}`), then run `memvault recover --from {url}` again"
                                ) from None
        raise
    if Vault(cfg.vault_path, cfg.subdir, cfg.branch).head() is None:
        if not reused:
            shutil.rmtree(cfg.vault_path, ignore_errors=True)  # nothing in it: leave no vault behind
        if cfg.remote and urls.same(urls.resolve(cfg.remote, cfg.project), url):
            first = ""
        elif cfg.config_file is None:
            first = f"run `memvault init --remote {urls.resolve(url)}`, then "
        else:
            first = (f"set vault.remote: {urls.resolve(url)} in {cfg.config_file}, "
                     "run `memvault allow`, then ")
        raise MemvaultError(f"the vault at {url} holds no backup yet, so there is nothing to recover; "
                            f"if this machine is the first to back up there, {first}run `memvault sync`")
    if reused:
        print(f"memvault: using the vault already cloned from {url} at {cfg.vault_path}")
    else:
        print(f"memvault: cloned the vault from {url} into {cfg.vault_path}")
    _note_remote(cfg, urls.resolve(url))
    return Restore(cfg, trigger="recover").run(choice.resolve)


def _note_remote(cfg: config.Config, url: str) -> None:
    """Say so when vault.remote is not the remote the vault came from (`url`, resolved)."""
    if cfg.remote is None or not urls.same(urls.resolve(cfg.remote, cfg.project), url):
        print(f"memvault: note: vault.remote in the configuration is {cfg.remote or 'null'}; "
              f"set it to {url} to keep backing up there")


def _recover_encrypted(cfg: config.Config, url: str) -> None:
    """Clone the vault from an encrypted remote: the passphrase is asked once; a wrong one
    raises before anything is written (no vault folder, no memory file)."""
    import contextlib

    from memvault_hooks.vault import backup
    from memvault_hooks.vault import crypt
    from memvault_hooks.vault import encrypted_push
    from memvault_hooks.vault import file_lock

    url = urls.resolve(url)
    er = encrypted_push.transport(cfg, url=url)
    reused = os.path.isdir(os.path.join(cfg.vault_path, ".git")) and encrypted_push.connected(er)
    with contextlib.ExitStack() as stack:
        if not reused:
            _prepare_place(cfg.vault_path, url)
            phrase = crypt.passphrase(f"{encrypted_push.OPEN_PURPOSE} ({urls.mask(url)})", interactive=True)
            tmp, _fresh = stack.enter_context(encrypted_push.connect(url, cfg.timeout, phrase, may_set_up=False))
        stack.enter_context(file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT))  # only once the key opened
        vault = backup.ensure_vault(cfg)
        if not reused:
            encrypted_push.move_in(tmp, vault.path)
        skipped = encrypted_push.integrate(cfg, vault, er)
    for line in skipped:
        print(f"memvault: warning: skipped a damaged bundle on the encrypted remote: {line}")
    if vault.head() is None:
        if not reused:
            shutil.rmtree(cfg.vault_path, ignore_errors=True)
        raise MemvaultError(f"the encrypted remote {urls.mask(url)} holds no backup yet, so there is nothing to "
                            "recover; if this machine is the first to back up there, run `memvault sync`")
    said = "using the vault already joined to" if reused else "fetched and decrypted the vault from"
    print(f"memvault: {said} the encrypted remote {urls.mask(url)} into {cfg.vault_path}")
    _note_remote(cfg, url)
