"""Putting memory files back as a backup holds them.

Under the vault lock for the whole operation:
1. choose the version and plan each file (create / overwrite / unchanged) — any problem
   stops here, with nothing written;
2. back up the live content first, as it is, valid for its format or not (trigger
   `pre-restore`), and check that every file about to be replaced is now in the vault;
3. write each file atomically (temp file in the same folder, fsync, rename, fsync the
   folder), keeping the live file's mode;
4. record the restored state as a backup (trigger `restore`), so `log` tells the story and
   `restore --rev <the pre-restore rev>` undoes it.
`--dry-run` stops after 1; `--to DIR` writes into DIR and skips 2 and 4.
"""
from __future__ import annotations

import dataclasses
import os
import stat as stat_mod
import sys
import tempfile
from collections.abc import Callable
from collections.abc import Sequence

from memvault_hooks.memory import alerts
from memvault_hooks.memory import sqlite_store
from memvault_hooks.vault import backup
from memvault_hooks.vault import dbcapture
from memvault_hooks.vault import file_lock
from memvault_hooks.history import filearg
from memvault_hooks.memory import places
from memvault_hooks.memory import sources
from memvault_hooks.atomic import write_atomic
from memvault_hooks.history.blobs import blob_id
from memvault_hooks.history.blobs import digest_for
from memvault_hooks.config import Config
from memvault_hooks.errors import MemvaultError
from memvault_hooks.errors import UsageError
from memvault_hooks.history.history import History
from memvault_hooks.history.history import NoVersion
from memvault_hooks.history.history import Version
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.term import Painter

_ACTION_STYLE = {"create": "green", "overwrite": "yellow", "unchanged": "dim"}


@dataclasses.dataclass
class Item:
    rel: str
    blob: str
    target: str                 # the path written (a symlink inside source_dir: its target)
    live_blob: str | None       # None: no file there yet
    sig: sources.Signature | None = None   # the live file's stat once its content is in the vault
    database: bool = False      # a SQLite database: replaced by sqlite_store.replace

    @property
    def action(self) -> str:
        if self.live_blob is None:
            return "create"
        return "unchanged" if self.live_blob == self.blob else "overwrite"


def _default_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _write(path: str, data: bytes | Callable[[Callable[[bytes], object]], None]) -> None:
    """Replace `path` at once and durably, making its folders; the existing file's mode is
    kept (a new file gets the umask's default)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        mode = stat_mod.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = _default_mode()
    write_atomic(path, data, mode, durable=True)


def live_target(source_dir: str, rel: str, stored: str | None = None) -> str:
    """Where restoring `rel` writes: a symlink is followed only while it stays inside
    source_dir (or the source's dir, for `stored` = `@name/rel`)."""
    path = os.path.join(source_dir, *rel.split("/"))
    real = os.path.realpath(path)
    if not sources.inside(real, os.path.realpath(source_dir)):
        where = "source_dir" if stored in (None, rel) else "its source's dir"
        raise MemvaultError(f"{stored or rel}: {path} leads outside {where} {source_dir} (a symlink); not followed, "
                            "nothing restored")
    if os.path.isdir(real):
        raise MemvaultError(f"{rel}: {real} is a folder; nothing restored")
    return real


def allowed(cfg: Config, rel: str) -> bool:
    """Whether restore may write `rel`: only a path the config's `files` patterns name, or
    a source's patterns (a vault commit can come from a remote, and hold `.envrc` or
    `conftest.py`)."""
    return places.allowed(cfg, rel)


def plan(cfg: Config, hist: History, version: Version, names: Sequence[str], dest: str | None,
         skipped: list[str] | None = None) -> list[Item]:
    """What restoring `names` (all files when empty) from `version` writes; the paths left
    out because no `files` pattern names them go into `skipped`."""
    blobs = hist.blobs(version)
    for rel in names:
        if rel not in blobs:
            raise NoVersion(f"{rel} is not in the backup {version.describe()}; nothing restored"
                            f"{filearg.did_you_mean(rel, hist.known_paths())}")
    items = []
    for rel in names or list(blobs):
        if not allowed(cfg, rel):
            if skipped is not None:
                skipped.append(rel)
            continue
        if dest is None:
            folder, inner, _ = places.locate(cfg, rel)
            target = live_target(folder, inner, rel)
        else:
            target = os.path.join(dest, *rel.split("/"))
        digest = digest_for(hist.entry_size(blobs[rel]))
        head: list[bytes] = []

        def check(piece: bytes) -> None:
            if not head:
                head.append(piece[:len(sqlite_store.HEADER)])  # whether it is a database
            digest.update(piece)

        hist.copy_blob(blobs[rel], check)  # checked now, streamed: nothing written yet
        if digest.hexdigest() != blobs[rel]:
            raise MemvaultError(f"{rel}: the vault's copy does not match its id {blobs[rel]} (run `memvault verify`)")
        try:
            if dest is None:  # read as a sync reads it: a FIFO never blocks, no link leads out
                live: str | None = places.live_blob_id(cfg, rel)
            else:
                live = blob_id(target) if os.path.isfile(target) else None
        except FileNotFoundError:
            live = None
        except OSError as exc:
            raise MemvaultError(f"{rel}: cannot read {target}: {exc.strerror}; nothing restored") from None
        database = sqlite_store.is_database(rel) or sqlite_store.is_sqlite(b"".join(head)) or (
            dest is None and live is not None and dbcapture.is_database(*places.locate(cfg, rel)[:2]))
        items.append(Item(rel, blobs[rel], target, live, database=database))
    return items


def refuse_open_databases(items: Sequence[Item]) -> None:
    """A database another process holds open for writing is not replaced: say which
    process, before anything is written."""
    busy = []
    for item in items:
        if item.database and item.live_blob is not None:
            found = sqlite_store.writers(item.target)
            if found:
                busy.append(f"{quote(item.rel)} is open for writing by {', '.join(map(str, found))}")
    if busy:
        raise MemvaultError(f"{'; '.join(busy)}: a database is not replaced under the program that writes it; "
                            "quit that program and run the restore again; nothing restored")


def _live_sig(path: str) -> sources.Signature:
    return sources.with_wal(path, sources.signature(os.stat(path)))


def _check_dest(cfg: Config, dest: str) -> str:
    path = os.path.realpath(os.path.expanduser(dest))
    if path == os.path.realpath(cfg.source_dir):
        raise UsageError(f"--to {dest} is source_dir itself; leave out --to to restore the live files")
    if sources.inside(path, os.path.realpath(cfg.vault_path)):
        raise UsageError(f"--to {dest} is inside the vault {cfg.vault_path}; choose another folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--to {dest} exists and is not a folder")
    return path


class Restore:
    """One restore (or recover): `Restore(cfg, ...).run(choose)`; messages go to `out`."""

    def __init__(self, cfg: Config, names: Sequence[str] = (), dry_run: bool = False,
                 dest: str | None = None, trigger: str = "restore",
                 out: Callable[[str], None] = print) -> None:
        self.cfg = cfg
        self.names = list(dict.fromkeys(names))
        self.dry_run = dry_run
        self.dest = _check_dest(cfg, dest) if dest is not None else None
        self.trigger = trigger
        self.out = out
        self.painter = Painter()
        self.wrote = False   # whether the vault got backups the remote has yet to receive
        self._hist: History | None = None

    def run(self, choose: Callable[[History], Version]) -> int:
        if not os.path.isdir(os.path.join(self.cfg.vault_path, ".git")):
            raise NoVersion(f"there is no vault at {self.cfg.vault_path} yet, so nothing to restore")
        push_error = None
        try:
            with file_lock.locked(self.cfg.vault_path, backup.LOCK_TIMEOUT):
                code = self._locked(choose)
                # The live files are written: only now the network, once, bounded by vault.timeout
                # (by the pending backup's sync instead, when a hook left one: it pushes anyway).
                if self.wrote and file_lock.read_pending(self.cfg.vault_path) is None:
                    push_error = backup.push_now(self.cfg)
        except file_lock.LockTimeout as exc:
            raise MemvaultError(f"{exc}; nothing restored") from None
        push_error = self._run_pending() or push_error
        if push_error:
            raise MemvaultError(f"the restore is done (the files are written and backed up locally), "
                                f"but {push_error}; `memvault status` shows them as push pending")
        return code

    def _content(self, item: Item) -> Callable[[Callable[[bytes], object]], None]:
        hist = self._hist
        assert hist is not None
        return lambda write: hist.copy_blob(item.blob, write)

    def _locked(self, choose: Callable[[History], Version]) -> int:
        # The history stays open while files are written: they stream from the vault.
        with History(self.cfg) as hist:
            self._hist = hist
            try:
                return self._restore(hist, choose)
            finally:
                self._hist = None

    def _restore(self, hist: History, choose: Callable[[History], Version]) -> int:
        version = choose(hist)
        skipped: list[str] = []
        items = plan(self.cfg, hist, version, self.names, self.dest, skipped)
        where = f" into {self.dest}" if self.dest else ""
        verb = "would restore" if self.dry_run else "restoring"
        self.out(f"memvault: {verb} from {version.describe()}{where}")
        for item in items:
            action = self.painter.paint(f"{item.action:9}", _ACTION_STYLE[item.action])
            self.out(f"  {action} {quote(item.rel)}")
        for rel in skipped:
            self.out(f"  {self.painter.paint('skipped  ', 'dim')} {quote(rel)} "
                     "(no `files` pattern or source of the config names it; never written)")
        if skipped and not items:
            raise MemvaultError(f"nothing restored: {len(skipped)} file(s) of {version.describe()} match no "
                                "`files` pattern or source of the config; add a pattern to `files` (or a `sources` entry) "
                                "to restore them")
        if self.dry_run:
            self.out("memvault: dry run: nothing written")
            return 0
        todo = [item for item in items if item.action != "unchanged"]
        if not todo:
            self.out("memvault: every file is already as in that backup; nothing written")
            return 0
        if self.dest is not None:
            for item in todo:
                _write(item.target, self._content(item))
            self.out(f"memvault: wrote {len(todo)} file(s) into {self.dest}; the live files are untouched")
            return 0
        refuse_open_databases(todo)
        undo = self._back_up_live(todo)
        written: set[str] = set()
        try:
            for item in todo:
                self._write_live(item)
                written.add(item.rel)
        finally:  # record what was written, even when a later file stopped the restore
            self.wrote = True
            after = backup.sync_once(self.cfg, self.trigger, unvalidated=written, keep_local=written)
            for err in after.errors:
                sys.stderr.write(f"memvault: after the restore, backing up: {err}\n")
            if written:  # their memory-loss alerts end
                record = alerts.Record.load(self.cfg.vault_path)
                record.restored(written)
                record.save(self.cfg.vault_path)
        replaced = sum(1 for item in todo if item.live_blob is not None)
        said = f"restored {len(todo)} file(s)"
        if replaced:
            said += (f"; the live content they replaced is kept in {undo[:12]}"
                     f" (undo with: memvault restore --rev {undo[:12]})")
        self.out(f"memvault: {said}")
        return 0

    def _back_up_live(self, todo: list[Item]) -> str:
        """Back the live content up as it is; the rev that holds it. Nothing written on failure."""
        rels = {item.rel for item in todo}
        self.wrote = True
        result = backup.sync_once(self.cfg, "pre-restore", unvalidated=rels, keep_local=rels)
        vault = backup.vault_of(self.cfg)
        tip = vault.blobs()
        for item in todo:
            try:
                sig = _live_sig(item.target)
                live = places.live_blob_id(self.cfg, item.rel)
            except FileNotFoundError:
                item.live_blob = item.sig = None
                continue
            except OSError as exc:
                raise MemvaultError(f"{item.rel}: cannot read {item.target}: {exc.strerror}; nothing restored") from None
            if tip.get(item.rel) != live:
                why = "; ".join(result.errors) or f"{item.rel} is not among the configured memory files"
                raise MemvaultError(f"could not back up the live {item.rel} first ({why}); nothing restored")
            item.live_blob = live
            item.sig = sig
        return vault.head() or ""

    def _write_live(self, item: Item) -> None:
        try:
            now: sources.Signature | None = _live_sig(item.target)
        except FileNotFoundError:
            now = None
        if now != item.sig:  # written (or created) by someone else since its content was backed up
            raise MemvaultError(f"{item.rel} changed while being restored; left as it is (run the restore again)")
        if item.database:
            self._replace_database(item)
            return
        _write(item.target, self._content(item))

    def _replace_database(self, item: Item) -> None:
        """The database written beside its place, then swapped in (sqlite_store.replace:
        refused while another process writes it; its stale -wal and -shm removed)."""
        folder = os.path.dirname(item.target) or "."
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".memvault-restore-", suffix=".db")
        try:
            with os.fdopen(fd, "wb") as f:
                self._content(item)(f.write)
            if item.live_blob is None:
                os.chmod(tmp, _default_mode())
            sqlite_store.replace(item.target, tmp)
        except sqlite_store.DatabaseInUse as exc:
            raise MemvaultError(f"{exc}; {quote(item.rel)} left as it is") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _run_pending(self) -> str | None:
        """A hook that fired while we held the lock left its work pending: do it now (its
        sync pushes what waits). Why the backups still wait, or None."""
        if self.dry_run:
            return None
        pending = file_lock.read_pending(self.cfg.vault_path)  # file_lock owns the marker's format
        if pending is None:
            return None
        try:
            result = backup.run_locked(self.cfg, pending[0])
        except Exception as exc:  # the restore itself is done; the next run catches up
            sys.stderr.write(f"memvault: a pending backup did not run: {exc}\n")
            return None
        return "; ".join(result.errors) or None
