"""The vault's remote when `vault.encrypt` is true: connecting, pushing, integrating.

The transport itself (age-encrypted bundles, one folder per machine, the wrapped key) is
`encrypted_remote.EncryptedRemote`; this module wires it into the runs:

- `connect` (init, recover, and a first push when $MEMVAULT_PASSPHRASE is set): set up a
  new encrypted remote or join an existing one, in a temporary folder outside the vault;
  only once the passphrase opened the key are the key and the transport clone moved into
  the vault's git dir (`move_in`). A wrong passphrase writes nothing.
- `push_backlog` (what `remote.push_backlog` calls with encrypt on, under the lock): fetch
  the other machines' new bundles, replay exactly as for a plain remote (`remote.integrated`),
  then send this machine's new commits as one bundle. No passphrase: a machine without the
  key keeps its backups (queued) and says why and what to run; it never prompts.
- `integrate`: the fetch-and-replay step alone (init and recover on another machine).
- `check` (verify): every bundle on the remote decrypts and is a bundle; which machines'
  backups this vault holds.
- A vault that pushed in clear before (a tracking branch of `origin`) is told once that
  its clear history is still on that remote (`note_clear_history`; status keeps saying it).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from typing import TYPE_CHECKING

from memvault_hooks.ui import logs
from memvault_hooks.vault import crypt
from memvault_hooks.vault import remote
from memvault_hooks.vault import state
from memvault_hooks import urls
from memvault_hooks.errors import MemvaultError
from memvault_hooks.vault.encrypted_remote import MACHINES_REFS
from memvault_hooks.vault.encrypted_remote import PUSHED_REF
from memvault_hooks.vault.encrypted_remote import EncryptedRemote
from memvault_hooks.vault.gitenv import run_git
from memvault_hooks.vault.vault import Vault

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from memvault_hooks.config import Config

CLEAR_NOTE = "memvault-clear-history"  # in the vault's git dir: the clear history was pointed out
SETUP_PURPOSE = "protect the key of the new encrypted remote"
OPEN_PURPOSE = "open the encrypted remote's vault key"


def git_dir(vault_path: str) -> str:
    return os.path.join(vault_path, ".git")


def transport(cfg: Config, vault_path: str | None = None, url: str | None = None) -> EncryptedRemote:
    return EncryptedRemote(git_dir(vault_path or cfg.vault_path), url or remote.remote_url(cfg), cfg.timeout)


def connected(er: EncryptedRemote) -> bool:
    """The key and a transport clone of this very remote are on this machine: pushes need
    no passphrase. (After `vault.remote` changed, the new remote is set up or joined anew.)"""
    if not (os.path.isfile(er.key_file) and os.path.isdir(er.transport)):
        return False
    proc = run_git(er.transport, "config", "--get", "remote.origin.url", check=False)
    cloned_from = proc.stdout.decode(errors="replace").strip()
    return not cloned_from or urls.same(cloned_from, er.url)


def missing_key_reason(cfg: Config) -> str:
    return (f"the encrypted remote {urls.mask(cfg.remote or '')} is not set up on this machine (no vault key here); "
            "run `memvault init` in a terminal (it asks for the passphrase once), or set $MEMVAULT_PASSPHRASE "
            "for the next sync; hooks and cron never ask")


# --- set-up and joining ---------------------------------------------------------------------

def remote_is_empty(url: str, timeout: float) -> bool:
    """True when the remote has no branch at all (nothing set up there yet)."""
    from memvault_hooks.vault.gitenv import GitError

    try:
        proc = run_git(tempfile.gettempdir(), "ls-remote", "--heads", "--", url, timeout=timeout)
    except GitError as exc:
        raise MemvaultError(f"cannot reach the encrypted remote {urls.mask(url)}: {exc.reason}; check the URL "
                            f"and that this machine can reach it (`git ls-remote -- {urls.mask(url)}`)") from None
    return not proc.stdout.strip()


@contextlib.contextmanager
def connect(url: str, timeout: float, phrase: str, may_set_up: bool = True,
            key_file: str | None = None) -> Iterator[tuple[str, bool]]:
    """Join the encrypted remote at `url` (or set it up when it is empty and `may_set_up`)
    in a temporary folder outside the vault: (that folder, whether it was set up now).
    The caller moves the result into the vault (`move_in`); everything else is removed.
    A wrong passphrase raises crypt.WrongPassphrase before anything is kept. A new remote
    is set up with the key in `key_file` when there is one (the vault keeps one key)."""
    with tempfile.TemporaryDirectory(prefix="memvault-connect-") as tmp:
        os.chmod(tmp, 0o700)
        er = EncryptedRemote(tmp, url, timeout)
        fresh = remote_is_empty(url, timeout)
        if fresh and not may_set_up:
            raise MemvaultError(f"the encrypted remote {urls.mask(url)} holds no backup yet, so there is nothing "
                                "to recover; if this machine is the first to back up there, run `memvault init` "
                                "with vault.encrypt: true, then `memvault sync`")
        if fresh:
            if key_file and os.path.isfile(key_file):
                crypt.save_key(er.key_file, crypt.load_key(key_file))
            er.setup(phrase)
        else:
            er.join(phrase)
        yield tmp, fresh


def move_in(tmp: str, vault_path: str) -> None:
    """The key and the transport clone from `connect`'s folder into the vault's git dir."""
    src = EncryptedRemote(tmp, "")
    dst = EncryptedRemote(git_dir(vault_path), "")
    if os.path.exists(dst.transport):
        shutil.rmtree(dst.transport)
    shutil.move(src.transport, dst.transport)
    crypt.save_key(dst.key_file, crypt.load_key(src.key_file))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(dst.applied_file)  # the bundles applied from a former remote say nothing of this one


def connect_vault(cfg: Config, vault: Vault, phrase: str, may_set_up: bool = True) -> bool:
    """`connect` straight into an existing vault; True when the remote was set up now."""
    with connect(remote.remote_url(cfg), cfg.timeout, phrase, may_set_up,
                 key_file=transport(cfg, vault.path).key_file) as (tmp, fresh):
        move_in(tmp, vault.path)
    return fresh


def ignore_passphrase_note(cfg: Config) -> None:
    """$MEMVAULT_PASSPHRASE given where nothing is encrypted: say it is not used."""
    if os.environ.get(crypt.PASSPHRASE_ENV) and cfg.remote and not cfg.encrypt:
        print(f"memvault: note: ${crypt.PASSPHRASE_ENV} is ignored: vault.remote is not encrypted "
              "(vault.encrypt is false)", file=sys.stderr)


# --- integrating the other machines' backups ---------------------------------------------------

def integrate(cfg: Config, vault: Vault, er: EncryptedRemote, behind: list[str] | None = None) -> list[str]:
    """Fetch the other machines' new bundles and put their backups into the branch, as
    from a plain remote (`remote.integrated`); the bundles skipped, each with its reason."""
    fetched = er.fetch()
    skipped = [f"{name}: {why}" for name, why in fetched.skipped]
    for line in skipped:
        logs.error(cfg.error_log, f"encrypted remote: skipped {line}")
    suffix = f"/{vault.branch}"
    for ref in sorted(r for r in fetched.refs if r.endswith(suffix)):
        upstream = vault.rev(ref)
        if upstream is None:
            continue
        head = vault.head()
        target = remote.integrated(vault, upstream, behind)
        if target != head:
            vault.move_branch(head, target, "memvault: backups of another machine (encrypted remote)")
    return skipped


def unsent(vault: Vault) -> int:
    """Local backups not on the encrypted remote (sent by this machine or fetched from another)."""
    head = vault.head()
    if head is None:
        return 0
    known = run_git(vault.path, "for-each-ref", "--format=%(objectname)", PUSHED_REF, MACHINES_REFS).stdout.split()
    out = run_git(vault.path, "rev-list", "--count", head, *(f"^{sha.decode()}" for sha in known)).stdout
    return int(out.decode().strip() or 0)


# --- pushing ---------------------------------------------------------------------------------

def push_backlog(cfg: Config, vault: Vault, record: state.Record) -> str | None:
    """`remote.push_backlog` for an encrypted remote (under the lock; there is a remote and a
    branch). The reason the backups still wait, or None."""
    rid = state.remote_id(cfg.remote)
    er = transport(cfg, vault.path)
    waiting = unsent(vault)
    if waiting == 0 and state.same_remote(record, rid) and connected(er):
        record["push_pending"] = 0
        record["remote"] = rid
        return None
    note_clear_history(cfg, vault)
    url = remote.remote_url(cfg)
    try:
        if not connected(er):
            try:
                phrase = crypt.passphrase(SETUP_PURPOSE, interactive=False)
            except crypt.PassphraseNeeded:
                record["push_pending"] = unsent(vault)
                return f"push queued: {missing_key_reason(cfg)}; {record['push_pending']} backup(s) kept in the vault"
            fresh = connect_vault(cfg, vault, phrase)
            logs.log(cfg.log_file, f"encrypted remote {'set up' if fresh else 'joined'} at {url}")
        late: list[str] = []
        skipped = integrate(cfg, vault, er, late)
        remote.flag_behind(vault, record, late)
        record["last_commit"] = vault.head()
        sent = unsent(vault)
        name = er.push(vault.branch) if sent else None
    except MemvaultError as exc:
        pending = unsent(vault)
        record["push_pending"] = pending
        return (f"push to {url} (encrypted) failed ({exc}); {pending} backup(s) kept in the vault, "
                "the next run pushes them")
    record["push_pending"] = 0
    record["remote"] = rid
    record["last_push"] = logs.utc_now()
    logs.log(cfg.log_file, f"push ok {sent} backup(s) to {url} (encrypted{', ' + name if name else ''})")
    if skipped:
        return (f"pushed, but {len(skipped)} bundle(s) on the encrypted remote could not be read and were "
                f"skipped ({'; '.join(skipped)}); run `memvault verify`")
    return None


# --- the clear history of a vault that pushed before encrypt was on ---------------------------

def note_clear_history(cfg: Config, vault: Vault) -> None:
    """Once: a vault that pushed in clear (it tracks `origin`) left its history readable there."""
    marker = os.path.join(git_dir(vault.path), CLEAR_NOTE)
    if os.path.exists(marker):
        return
    tracked = run_git(vault.path, "for-each-ref", "--count=1", "--format=%(refname)",
                      f"refs/remotes/{remote.REMOTE_NAME}/").stdout.strip()
    if not tracked:
        return
    where = urls.mask(vault.setting(f"remote.{remote.REMOTE_NAME}.url") or "its former remote")
    text = clear_history_text(where)
    from memvault_hooks.atomic import write_atomic

    write_atomic(marker, (where + "\n").encode(), 0o600)
    print(f"memvault: warning: {text}", file=sys.stderr)
    logs.log(cfg.log_file, f"warning: {text}")
    logs.error(cfg.error_log, f"warning: {text}")


def clear_history_text(where: str) -> str:
    return (f"this vault pushed in clear to {where} before vault.encrypt was turned on: that history is still "
            "readable there. Delete that repository (or its branch) and rotate any secret it held; the "
            "encrypted remote needs a new, empty repository")


def clear_history(vault_path: str) -> str | None:
    """The warning status repeats, once it was given."""
    try:
        with open(os.path.join(git_dir(vault_path), CLEAR_NOTE), encoding="utf-8") as f:
            return clear_history_text(f.read().strip())
    except OSError:
        return None


# --- status and verify -----------------------------------------------------------------------

def problems(cfg: Config) -> list[str]:
    """For `status`: an encrypted remote this machine cannot push to without the passphrase."""
    if not (cfg.encrypt and cfg.remote) or not os.path.isdir(git_dir(cfg.vault_path)):
        return []
    er = transport(cfg)
    if connected(er):
        return []
    return [f"push queued: {missing_key_reason(cfg)}"]


def check(cfg: Config) -> tuple[bool, str]:
    """For `verify`: every bundle on the remote decrypts and is a bundle; the local vault
    holds every local backup on the remote. (ok, detail)"""
    er = transport(cfg)
    if not connected(er):
        return False, missing_key_reason(cfg)
    bad = er.verify()
    vault = Vault(cfg.vault_path, cfg.subdir, cfg.branch)
    waiting = unsent(vault)
    machines = len(os.listdir(os.path.join(er.transport, "machines"))) \
        if os.path.isdir(os.path.join(er.transport, "machines")) else 0
    if bad:
        return False, (f"{len(bad)} bundle(s) on the encrypted remote cannot be read (fetch skips them, the "
                       f"others still apply): {'; '.join(bad)}")
    said = f"every bundle of {machines} machine(s) on the encrypted remote decrypts and is a valid git bundle"
    if waiting:
        return False, f"{said}; {waiting} local backup(s) wait to be pushed (run `memvault sync`)"
    return True, said


# --- `memvault init` with vault.encrypt -------------------------------------------------------

def init_connect(cfg: Config, stack: contextlib.ExitStack[Any]) -> tuple[str, bool] | None:
    """Before init writes the vault: set up or join the encrypted remote in a temporary
    folder (kept open on `stack`); None when this vault is already connected to it."""
    if connected(transport(cfg)) and os.path.isdir(git_dir(cfg.vault_path)):
        return None
    url = remote.remote_url(cfg)
    fresh = remote_is_empty(url, cfg.timeout)
    phrase = crypt.passphrase(SETUP_PURPOSE if fresh else OPEN_PURPOSE, interactive=True, confirm=fresh)
    return stack.enter_context(connect(url, cfg.timeout, phrase, key_file=transport(cfg).key_file))


def init_finish(cfg: Config, vault: Vault, joining: tuple[str, bool] | None) -> bool:
    """Under the lock, the vault made: the key and transport moved in, the other machines'
    backups fetched and replayed. True when the vault now holds backups from the remote."""
    url = urls.mask(cfg.remote or "")
    if joining is not None:
        move_in(joining[0], vault.path)
        if joining[1]:
            print(f"memvault: set up the encrypted remote {url}: its key is kept in the vault, the "
                  "passphrase protects the copy on the remote; keep the passphrase safe (without it, "
                  "the remote copy cannot be read)")
            return False
        print(f"memvault: joined the encrypted remote {url} (the passphrase opened its key)")
    er = transport(cfg)
    if not connected(er):
        return False
    had = vault.head()
    skipped = integrate(cfg, vault, er)
    for line in skipped:
        print(f"memvault: warning: skipped a damaged bundle on the encrypted remote: {line}", file=sys.stderr)
    if vault.head() != had:
        print(f"memvault: fetched the backups on the encrypted remote {url}")
        return True
    return False
