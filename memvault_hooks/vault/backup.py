"""One backup: compare the memory files with the vault, commit what changed.

Data flows one way: config -> sources -> snapshot -> vault -> state. Callers hold
the vault lock (see `run_locked`).
"""
from __future__ import annotations

import os
import time
from collections.abc import Collection
from typing import Any

from memvault_hooks.vault import behind
from memvault_hooks.vault import file_lock
from memvault_hooks.vault import gitenv
from memvault_hooks.ui import logs
from memvault_hooks.vault import losswatch
from memvault_hooks.vault import message
from memvault_hooks.vault import packing
from memvault_hooks.memory import places
from memvault_hooks.vault import remote
from memvault_hooks import processes
from memvault_hooks.vault import snapshot
from memvault_hooks.memory import sources
from memvault_hooks.vault import state
from memvault_hooks.vault import statcache
from memvault_hooks import urls
from memvault_hooks.config import Config
from memvault_hooks.errors import MemvaultError
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.memory.patterns import Expansion
from memvault_hooks.ui.progress import Progress
from memvault_hooks.vault.vault import Vault
from memvault_hooks.vault.vault import commit_env
from memvault_hooks.vault.vault import hostname

LOCK_TIMEOUT = float(os.environ.get("MEMVAULT_LOCK_TIMEOUT", "300"))
SCAN_FRESH = 1.0  # seconds: a handed scan older than this when the lock is taken is not used


class Result:
    """What one sync did: its commit, the (path, change) pairs in it, the files it failed on."""

    def __init__(self) -> None:
        self.commit: str | None = None
        self.changes: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.found = 0                       # memory files the patterns matched
        self.behind: list[str] = []       # files left out: an older version the vault holds
        self.newly_behind: list[str] = []  # ... of which this run found (the others: earlier runs)
        self.secrets: list[Any] = []      # held.Finding: possible secrets in this run's commit

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def vault_of(cfg: Config) -> Vault:
    return Vault(cfg.vault_path, cfg.subdir, cfg.branch)


def ensure_vault(cfg: Config) -> Vault:
    """The vault, created on first use; a folder that holds something else is refused."""
    vault = vault_of(cfg)
    if not vault.exists():
        foreign = vault.foreign_entries()
        if foreign:
            raise MemvaultError(
                f"vault.path {vault.path} exists and is not a vault (it holds {', '.join(foreign[:3])}); "
                "point vault.path at an empty or new folder")
        vault.prepare()
        vault.create()
    else:
        vault.prepare()
        vault.recover()
    return vault


class _Run:
    """One sync under the lock, one owner a step: `commit` (scan, capture, vault commit),
    `push` (the caller's choice), `finish` (state record, stat cache, log line)."""

    def __init__(self, cfg: Config, trigger: str, quiet: bool) -> None:
        self.cfg = cfg
        self.trigger = trigger
        self.quiet = quiet
        self.result = Result()
        self.vault = ensure_vault(cfg)
        self.record = state.load(self.vault.path)
        if not state.same_subdir(self.record, cfg.subdir):
            self.record["files"] = {}  # `vault.subdir` changed: nothing is backed up under the new one yet
        self.record["subdir"] = cfg.subdir
        files = self.record["files"]
        self.was_behind = {rel for rel, entry in files.items() if isinstance(entry, dict) and entry.get(behind.FLAG)}
        self.present: dict[str, sources.Signature] = {}
        self.expansion: Expansion | None = None
        self.losses = losswatch.LossWatch(cfg, self.vault)  # memory-loss alerts (reads only when asked)

    def commit(self, unvalidated: Collection[str] = (), progress: Progress | None = None,
               keep_local: bool | Collection[str] = False, scan: sources.Scan | None = None) -> None:
        cfg, vault, result = self.cfg, self.vault, self.result
        started = time.time()
        files = self.record["files"]
        if scan is None:
            hit = statcache.check(vault.path, cfg.source_dir, cfg.files, subdir=cfg.subdir,
                                  remote=state.remote_id(cfg.remote), roots=cfg.sources)
            # With the folders unchanged the cache names the same files a walk would find.
            scan = (hit[0], hit[1]) if hit is not None else places.scan(cfg)
        self.present, self.expansion = scan
        present = self.present
        result.found = len(present)
        tip_blobs: dict[str, str] | None = None

        def tip() -> dict[str, str]:
            nonlocal tip_blobs
            if tip_blobs is None:
                tip_blobs = vault.blobs()
            return tip_blobs

        def kept(rel: str) -> bool:
            return keep_local is True or (not isinstance(keep_local, bool) and rel in keep_local)

        captures: list[snapshot.Capture] = []
        cached = self.expansion if isinstance(self.expansion, statcache.Cached) else None
        changed = cached.changed if cached is not None and cached.vouches(vault.path) else None
        # The stat cache vouched for every file it did not find changed: its entry matches.
        looked_at: Collection[str] = changed if changed is not None and keep_local is False else present
        todo = [(rel, sig) for rel, sig in present.items() if rel in looked_at and (
                not state.entry_matches(files.get(rel), sig) or (files[rel].get(behind.FLAG) and kept(rel)))]
        if changed is not None:
            changed.update(rel for rel, _ in todo)  # their entries are written again
        if progress is not None:
            progress.start(len(todo), sum(sig[0] for _, sig in todo))
        for rel, sig in todo:
            if progress is not None:
                progress.advance(files=1)
            read_at = time.time_ns()
            try:
                cap = places.capture(cfg, rel, vault.tmp_dir, validate=rel not in unvalidated, progress=progress,
                                     store=vault.store)
            except snapshot.Unreadable as exc:
                result.errors.append(str(exc))
                if sig[0] == 0:
                    self.losses.look(rel, None, emptied=True)  # 0 bytes, not valid for its format
                continue
            entry = state.make_entry(cap.sig, cap.blob, read_at)
            known = files.get(rel)
            if behind.never_backed_up(known) and not kept(rel) and behind.is_behind(vault, rel, cap.blob,
                                                                                     tip().get(rel)):
                # Stat kept, so the no-change path stays fast; flagged: not a backup of ours.
                entry[behind.FLAG] = True
                files[rel] = entry
                os.unlink(cap.tmp_path)
                continue
            files[rel] = entry
            if (isinstance(known, dict) and known.get("blob") == cap.blob and not known.get("missing")
                    and not known.get(behind.FLAG)):
                # Touched but unchanged since this machine last backed it up. (When the tip
                # holds another machine's newer version, remote.integrated's, that one stays.)
                os.unlink(cap.tmp_path)
                continue
            # Otherwise `git add` decides: if the tip already holds it, no commit is made.
            captures.append(cap)
        for cap in captures:
            self.losses.look(cap.rel, cap.tmp_path)
        for rel, entry in files.items():
            if rel not in present:
                if not entry.get("missing") and not entry.get(behind.FLAG) \
                        and not os.path.lexists(places.path_of(cfg, rel)):
                    self.losses.look(rel, None)  # vanished since the last sync (not just left out of `files`)
                entry["missing"] = True
        deleted = sorted(rel for rel in tip() if rel not in present) if cfg.mirror_deletions else []

        if captures or deleted:
            when = int(started)
            source_commit = gitenv.head(cfg.project)
            if progress is not None:
                progress.phase(f"committing {len(captures) + len(deleted)} file(s)")
            done = vault.commit(
                captures, deleted,
                lambda changes: message.build(logs.utc_now(when), self.trigger, hostname(), source_commit, changes,
                                              self.losses.trailers(changes)),
                commit_env(when),
            )
            if done is not None:
                result.commit, result.changes = done
                self.losses.committed(result.commit, result.changes)
                self.record["last_commit"] = result.commit
                if cfg.remote:
                    self.record["push_pending"] = (self.record.get("push_pending") or 0) + 1  # until pushed
                packing.after_commit(vault.path, self.record, [cap.blob for cap in captures],
                                     [f"{cfg.subdir}/{path}" for path, _ in result.changes])
                from memvault_hooks.vault import held

                result.secrets = held.after_commit(cfg, vault, captures, result.changes)
        for rel in deleted:
            files.pop(rel, None)

    def push(self) -> None:
        """Push what waits (it may find more files behind the remote)."""
        error = remote.push_backlog(self.cfg, self.vault, self.record)
        if error:
            self.result.errors.append(error)

    def finish(self) -> Result:
        result, record, files = self.result, self.record, self.record["files"]
        result.behind = sorted(rel for rel, entry in files.items() if rel in self.present and entry.get(behind.FLAG))
        result.newly_behind = [rel for rel in result.behind if rel not in self.was_behind]
        now = logs.utc_now()
        record["last_run"] = now
        if result.errors:
            record["last_error"] = {"time": now, "trigger": self.trigger, "message": urls.mask("; ".join(result.errors))}
        else:
            record["last_sync"] = now
            record["last_error"] = None
        state.save(self.vault.path, record)
        self.losses.finish()
        if self.expansion is not None:
            statcache.save(self.vault.path, self.cfg.source_dir, self.cfg.files, self.present, self.expansion, record,
                           statcache.record_sig(self.vault.path), self.cfg.subdir,
                           state.remote_id(self.cfg.remote), self.cfg.sources)
        _log(self.cfg, self.trigger, result, self.quiet)
        return result


def sync_once(cfg: Config, trigger: str, unvalidated: Collection[str] = (),
              progress: Progress | None = None, keep_local: bool | Collection[str] = False,
              quiet: bool = False) -> Result:
    """Back up every changed memory file in one vault commit, and record the run. Call
    under the lock. It never pushes: the backups wait for the caller (`push_now`, or
    `run_locked`, which pushes once at its end).

    Files named in `unvalidated` are taken as they are, valid for their format or not
    (a restore backs up the live content it replaces, whatever it is). A file this
    machine never backed up whose content is an older version the vault holds is left
    out (*behind*), unless `keep_local` is True or names it. A quiet run (cron, hooks)
    logs nothing when it found nothing to back up."""
    run = _Run(cfg, trigger, quiet)
    run.commit(unvalidated, progress, keep_local)
    return run.finish()


def _log(cfg: Config, trigger: str, result: Result, quiet: bool = False) -> None:
    if quiet and not result.commit and not result.errors:
        return  # a quiet run that did nothing leaves no line (cron would add one every 15 minutes)
    if result.commit:
        what = f"committed {result.commit[:12]}: " + ", ".join(f"{c} {quote(p)}" for p, c in result.changes)
    else:
        what = "nothing to back up"
    status = "FAILED" if result.errors else "ok"
    if result.newly_behind:
        what += "; left out (behind the vault): " + ", ".join(map(quote, result.newly_behind))
    logs.log(cfg.log_file, f"sync trigger={trigger} {status} {what}")
    for err in result.errors:
        logs.error(cfg.error_log, f"sync trigger={trigger}: {err}")


def push_now(cfg: Config) -> str | None:
    """Under the lock: push the backups that wait (one attempt at the network, bounded by
    `vault.timeout` unless the remote moved); the reason they still wait, or None."""
    vault = vault_of(cfg)
    record = state.load(vault.path)
    error = remote.push_backlog(cfg, vault, record)
    if error:
        now = logs.utc_now()
        record["last_run"] = now
        record["last_error"] = {"time": now, "trigger": "push", "message": urls.mask(error)}
        logs.error(cfg.error_log, f"push: {error}")
    state.save(vault.path, record)
    return error


def record_failure(cfg: Config, trigger: str, reason: str) -> None:
    """A run that failed before it could finish: log it and keep it in the state record."""
    logs.log(cfg.log_file, f"sync trigger={trigger} FAILED {reason}")
    logs.error(cfg.error_log, f"sync trigger={trigger}: {reason}")
    if os.path.isdir(cfg.vault_path):
        record = state.load(cfg.vault_path)
        now = logs.utc_now()
        record["last_run"] = now
        record["last_error"] = {"time": now, "trigger": trigger, "message": urls.mask(reason)}
        try:
            state.save(cfg.vault_path, record)
        except OSError:
            pass


def run_locked(cfg: Config, trigger: str, lock_fd: int | None = None,
               progress: Progress | None = None, keep_local: bool = False, quiet: bool = False,
               after_pid: int | None = None, scan: sources.Scan | None = None) -> Result:
    """Take the lock (or use the one a hook handed over) and sync; then, while another
    run left the pending marker meanwhile, take the lock again and sync once more. The
    last sync pushes, once, before it lets the lock go.

    Each sync first takes the pending marker and waits (bounded) for the git command it
    names (and, the first time, for `after_pid`) to return: under pre-commit a running
    hook sees tracked memory files with their unstaged edits stashed away, and the live
    content is back only when that command returns. Its trigger is `trigger`, except on a
    lock a hook handed over and on every later round: then the latest marker's
    (`commit --amend` fires post-commit then post-rewrite: it is a rewrite)."""
    # A scan the caller made just before (the no-change check's) serves the first round,
    # unless the lock was long in coming: then the files are looked at again.
    asked = time.monotonic()
    if lock_fd is not None and not file_lock.is_lock_of(lock_fd, cfg.vault_path):
        file_lock.release(lock_fd)  # the hook locked the vault of a configuration since changed
        lock_fd = None
    fd = lock_fd if lock_fd is not None else file_lock.acquire(cfg.vault_path, LOCK_TIMEOUT)
    if time.monotonic() - asked > SCAN_FRESH:
        scan = None
    total = Result()
    first = True
    while True:
        try:
            waited = after_pid if first else None
            processes.wait_for_exit(waited)
            pending = file_lock.take_pending(cfg.vault_path)
            if pending is not None and pending[1] and pending[1] != waited:
                waited = pending[1]
                processes.wait_for_exit(waited)
                pending = file_lock.take_pending(cfg.vault_path) or pending  # the latest hook names the run
            name = pending[0] if pending is not None and (lock_fd is not None or not first) else trigger
            run = _Run(cfg, name, quiet)
            run.commit(progress=progress, keep_local=keep_local and first, scan=scan if first else None)
            again = os.path.exists(os.path.join(cfg.vault_path, file_lock.PENDING_NAME))
            if not again:
                run.push()  # a round to come pushes instead (or the run that holds the lock then)
            result = run.finish()
        finally:
            file_lock.release(fd)
        first = False
        total.commit = result.commit or total.commit
        total.changes += result.changes
        total.errors = result.errors
        total.found = result.found
        total.behind = result.behind
        total.newly_behind += result.newly_behind
        total.secrets += result.secrets
        if not os.path.exists(os.path.join(cfg.vault_path, file_lock.PENDING_NAME)):
            return total  # (a round that left the push to the next: whoever took the marker pushes)
        next_fd = file_lock.try_acquire(cfg.vault_path)
        if next_fd is None:
            return total  # the run holding the lock now will see the marker
        fd = next_fd
