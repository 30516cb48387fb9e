"""Memory-loss alerts during a sync (SPEC "Memory-loss alerts"), on memory/alerts.py.

Only a sync that found something changed looks: each memory file it is about to back up
(and each that was emptied into invalid content, or vanished) is measured against the
vault's latest version, which is the file in the vault's work tree (streamed: memory
stays bounded), or the measure the sync that committed it kept. A new alert goes into the commit that backs up the shrunken content
(`Memvault-Alert:` trailer), onto stderr (also in a quiet run: cron mails it) and into the
logs; the record of active alerts is what `status` and `ack` read.
"""
from __future__ import annotations

import os
import stat as stat_mod
import sys

from memvault_hooks.config import Config
from memvault_hooks.memory import alerts
from memvault_hooks.ui import logs
from memvault_hooks.vault.vault import Vault

# Files up to this size are always measured; a larger one only when it got smaller in bytes.
MEASURED_UP_TO = 2 << 20


class LossWatch:
    """One sync's look at what the memory files lost; nothing is read until `look`."""

    def __init__(self, cfg: Config, vault: Vault) -> None:
        self.cfg = cfg
        self.vault = vault
        self.raised: list[alerts.Alert] = []
        self._record: alerts.Record | None = None
        self._head: str | None = None
        self._taken: dict[str, tuple[str, int]] = {}  # rel -> (kind, measure) of the copy to commit

    def look(self, rel: str, live_copy: str | None, emptied: bool = False) -> None:
        """Measure `rel`: its captured content at `live_copy`, None when the file is gone
        (`emptied`: it is there but empty, and no copy of it was taken)."""
        stored = self.vault.stored_path(rel)
        try:
            held = os.lstat(stored)
        except OSError:
            return  # the vault does not hold it: nothing to lose
        if not stat_mod.S_ISREG(held.st_mode):
            return
        if self._record is None:
            self._record = alerts.Record.load(self.vault.path)
            self._head = self.vault.head()
        kind = alerts.kind_for(rel, stored)
        if (live_copy is not None and not emptied and kind != "sqlite" and held.st_size > MEASURED_UP_TO
                and rel not in self._record.alerts and os.path.getsize(live_copy) >= held.st_size):
            # A large file no smaller than the vault's version is not measured (two full
            # parses: 11 s for 256 MB of JSON). What that misses is a rewrite that keeps its
            # size and loses half its values; with an alert open, every version is measured
            # (to end it). A database keeps its size when it loses rows: always measured.
            return
        if emptied:
            after: int | None = 0
        elif live_copy is None:
            after = None
        else:
            after = alerts.measure_file(live_copy, kind)
            if after is None:
                return  # not measurable for its kind (a restore's unvalidated copy): no verdict
            self._taken[rel] = (kind, after)  # the vault's version after the commit (`committed`)
        if not self._head:
            return
        before = self._record.measure_of(rel, held, kind)
        if before is None:
            before = alerts.measure_file(stored, kind)
        alert = self._record.update(rel, before, after, self.cfg.alert_shrink, good_rev=self._head,
                                    now=logs.utc_now(), kind=kind)
        if alert is not None:
            self.raised.append(alert)

    def trailers(self, changes: list[tuple[str, str]]) -> list[str]:
        """The `Memvault-Alert:` lines of the commit that holds `changes`."""
        changed = {path for path, _ in changes}
        return [a.trailer() for a in self.raised if a.path in changed and a.kind != "vanished"]

    def committed(self, rev: str, changes: list[tuple[str, str]]) -> None:
        """The commit is made: note the alerts it carries, and keep the measure of each
        version it put in the vault's work tree (the next sync's `before`, not read again)."""
        if self._record is None:
            return
        for path, change in changes:
            if any(a.path == path for a in self.raised):
                self._record.committed(path, rev)
            taken = self._taken.get(path)
            if change == "deleted" or taken is None:
                self._record.measures.pop(path, None)
                continue
            try:
                st = os.lstat(self.vault.stored_path(path))
            except OSError:
                continue
            self._record.keep_measure(path, st, *taken)

    def finish(self) -> None:
        """Keep the record; say each new alert on stderr and in the logs."""
        if self._record is None:
            return
        try:
            self._record.save(self.vault.path)
        except OSError as exc:
            sys.stderr.write(f"memvault: could not save the memory-loss alerts in {self.vault.path}: {exc.strerror}\n")
        to_error_log = not _stderr_is(self.cfg.error_log)  # a hook's detached sync writes stderr there
        for alert in self.raised:
            said = alert.message()
            sys.stderr.write(said + "\n")
            logs.log(self.cfg.log_file, said.removeprefix("memvault: "))
            if to_error_log:
                logs.error(self.cfg.error_log, said.removeprefix("memvault: "))


def _stderr_is(path: str) -> bool:
    try:
        mine, there = os.fstat(sys.stderr.fileno()), os.stat(path)
    except (OSError, ValueError, AttributeError):
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)
