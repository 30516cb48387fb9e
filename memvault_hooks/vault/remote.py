"""The vault's remote: push every backup, keep a backlog while offline, share one
remote between several machines.

Under the vault lock, after a sync committed (or when backups wait): push the branch to
`vault.remote` (never forced). When the remote refuses because another machine pushed,
fetch, put the local backups on top of the remote tip (`replay.py`) and push again, a
bounded number of times. Every network operation runs through `Vault.run` with
`vault.timeout`, in a session without a terminal: it can neither hang nor prompt.

The branch moves with one compare-and-swap `update-ref`, never through `git rebase`: a
crash at any moment leaves the branch where it was or where it should be, and
`Vault.recover` (run by the next sync, under the lock) puts the work tree back on the tip.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from memvault_hooks.vault import gitenv
from memvault_hooks.ui import logs
from memvault_hooks.vault import replay
from memvault_hooks.vault import state
from memvault_hooks import urls
from memvault_hooks.vault.behind import FLAG as BEHIND_FLAG
from memvault_hooks.errors import MemvaultError
from memvault_hooks.vault.vault import REMOTE_NAME
from memvault_hooks.vault.vault import Vault

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from memvault_hooks.config import Config

# Push attempts after rejections (each rejection: fetch, integrate, push again).
MAX_ATTEMPTS = 8
# Seconds: the first wait after a refusal; it doubles each time (up to 2 s), randomised.
BACKOFF = 0.05
# The whole remote step of one sync may take this many `vault.timeout`s at most.
BUDGET_TIMEOUTS = 4


class RemoteError(MemvaultError):
    """The remote could not be reached or refused the backups; they wait locally."""


def tracking_ref(branch: str) -> str:
    return f"refs/remotes/{REMOTE_NAME}/{branch}"


def remote_url(cfg: Config) -> str:
    """`vault.remote`, a relative local path read from the project (like every path in
    the configuration), not from wherever git happens to run."""
    return urls.resolve(cfg.remote or "", cfg.project)


# --- small git helpers --------------------------------------------------------------------

def _is_ancestor(vault: Vault, older: str, newer: str) -> bool:
    return vault.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def _count(vault: Vault, *revs: str) -> int:
    return int(vault.git("rev-list", "--count", *revs).decode().strip() or 0)


def ensure_origin(vault: Vault, url: str) -> None:
    """`origin` in the vault points at `url` (for people who look; we push to the URL)."""
    current = vault.setting(f"remote.{REMOTE_NAME}.url")
    if current == url:
        return
    if current is None:
        vault.git("remote", "add", "--", REMOTE_NAME, url)
    else:
        vault.git("remote", "set-url", "--", REMOTE_NAME, url)


def ssh_env(vault: Vault) -> dict[str, str]:
    """Keep a `core.sshCommand` the user configured (an identity file, a jump host): the
    batch-mode GIT_SSH_COMMAND that `gitenv` sets by default would override it. Without a
    terminal or stdin, ssh cannot prompt either way."""
    if "GIT_SSH_COMMAND" in os.environ or "GIT_SSH" in os.environ:
        return {}
    command = vault.setting("core.sshCommand")
    return {"GIT_SSH_COMMAND": command} if command else {}


def backlog(vault: Vault) -> int:
    """Local backups the remote is not known to hold (commits ahead of origin/<branch>)."""
    head = vault.head()
    if head is None:
        return 0
    known = vault.rev(tracking_ref(vault.branch))
    return _count(vault, head, f"^{known}") if known else _count(vault, head)


# --- the network --------------------------------------------------------------------------

class _Clock:
    """Each network operation gets `vault.timeout`, and never more than what is left."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout * BUDGET_TIMEOUTS

    def next(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RemoteError(f"gave up after {self.timeout * BUDGET_TIMEOUTS:g}s")
        return min(self.timeout, left)


def _push(vault: Vault, url: str, sha: str, clock: _Clock, env: dict[str, str]) -> bool:
    """True when pushed; False when refused because the remote moved (another machine
    pushed first, or is pushing right now); RemoteError otherwise."""
    proc = vault.run("push", "--porcelain", "--no-verify", "--", url,
                   f"{sha}:refs/heads/{vault.branch}", env=env, timeout=clock.next(), check=False)
    if proc.returncode == 0:
        vault.git("update-ref", "-m", urls.mask(f"memvault: pushed to {url}"), tracking_ref(vault.branch), sha)
        return True
    refused = [line for line in proc.stdout.decode(errors="replace").splitlines() if line.startswith("!")]
    if any(_moved(line) for line in refused):
        return False
    said = proc.stderr.decode(errors="replace")
    reasons = [refused[0].split("\t")[-1]] if refused else []
    if said.strip() or not reasons:
        reasons.append(gitenv.reason(said, proc.returncode))
    raise RemoteError("; ".join(reasons))


def _moved(line: str) -> bool:
    """A porcelain refusal that means "the remote branch moved under you"."""
    if "[rejected]" in line:
        return True  # non-fast-forward, fetch first
    return "[remote rejected]" in line and any(
        hint in line for hint in ("cannot lock ref", "failed to update ref", "but expected", "incorrect old value"))


def _no_url_in_reflog(env: Mapping[str, str] | None) -> dict[str, str]:
    """git writes `fetch <its arguments>` into the reflog, the URL (and any credentials in
    it) included, unless GIT_REFLOG_ACTION names the action: then only that is written."""
    return {**(env or {}), "GIT_REFLOG_ACTION": "memvault fetch"}


def fetch(vault: Vault, url: str, timeout: float, env: dict[str, str] | None = None) -> str:
    """Fetch the remote branch into origin/<branch> (a local view, never pushed); its tip."""
    vault.run("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-gc", "--", url,
            f"+refs/heads/{vault.branch}:{tracking_ref(vault.branch)}", env=_no_url_in_reflog(env), timeout=timeout)
    tip = vault.rev(tracking_ref(vault.branch))
    if tip is None:
        raise RemoteError(f"fetched nothing for branch {vault.branch}")
    return tip


def push_backlog(cfg: Config, vault: Vault, record: state.Record) -> str | None:
    """Push the branch to `vault.remote` when backups wait; integrate and retry when
    another machine pushed first. Updates `push_pending` (and `last_commit` when the
    tip moved) in `record`; returns the reason the backups still wait, or None."""
    rid = state.remote_id(cfg.remote)
    if not cfg.remote or vault.head() is None:
        record["push_pending"] = 0
        record["remote"] = ""
        return None
    if cfg.encrypt:  # age-encrypted bundles instead of the branch itself
        from memvault_hooks.vault import encrypted_push

        return encrypted_push.push_backlog(cfg, vault, record)
    # A remote set or changed since the last push has yet to receive the whole branch.
    waiting = backlog(vault) if state.same_remote(record, rid) else _count(vault, vault.head() or "")
    if waiting == 0:
        record["push_pending"] = 0
        record["remote"] = rid
        return None
    from memvault_hooks.vault import held

    holding = held.check_push(cfg, vault, record)
    if holding:
        record["push_pending"] = waiting
        return holding
    url = remote_url(cfg)
    clock = _Clock(cfg.timeout)
    try:
        ensure_origin(vault, url)
        env = ssh_env(vault)
        target = vault.head() or ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # The integrated tip is pushed before the local branch moves to it: the
            # window in which another machine can get in first stays short.
            pushed = _push(vault, url, target, clock, env)
            head = vault.head()
            if target != head:
                vault.move_branch(head, target, "memvault: put local backups on top of the remote")
                record["last_commit"] = target
            if pushed:
                record["push_pending"] = 0
                record["remote"] = rid
                record["last_push"] = logs.utc_now()
                logs.log(cfg.log_file, f"push ok {waiting} backup(s) to {url} as {target[:12]}")
                return None
            logs.log(cfg.log_file, f"push refused: {url} moved on (attempt {attempt})")
            if attempt == MAX_ATTEMPTS:
                break
            # Back off a random, growing while: a machine pushing in a tight loop gets done.
            import random

            time.sleep(random.uniform(0.5, 1.0) * min(BACKOFF * 2 ** attempt, 2.0))
            late: list[str] = []
            upstream = fetch(vault, url, clock.next(), env)
            from memvault_hooks.vault import encrypted_remote

            if encrypted_remote.holds_encrypted_layout(vault.path, upstream):
                raise RemoteError(encrypted_remote.ENCRYPTED_FIX)
            target = integrated(vault, upstream, late)
            flag_behind(vault, record, late)
        raise RemoteError(f"the remote kept refusing after {MAX_ATTEMPTS} attempts")
    except MemvaultError as exc:
        detail = str(exc)
    pending = backlog(vault)
    record["push_pending"] = pending
    return (f"push to {url} failed ({detail}); {pending} backup(s) kept in the vault, "
            "the next run pushes them")


# --- integrating the remote's backups -----------------------------------------------------

def flag_behind(vault: Vault, record: state.Record, paths: list[str]) -> None:
    """Files the replay left out as behind the remote: no longer this machine's backups."""
    prefix = f"{vault.subdir}/"
    for path in paths:
        entry = record["files"].get(path[len(prefix):] if path.startswith(prefix) else path)
        if isinstance(entry, dict):
            entry[BEHIND_FLAG] = True


def integrated(vault: Vault, upstream: str, behind: list[str] | None = None) -> str:
    """The commit that holds the remote's backups and then the local ones on top.

    It is `upstream` itself when nothing local is missing there, HEAD when the remote has
    nothing new; otherwise the local backups replayed onto `upstream`. The branch does
    not move (`push_backlog` moves it once the result is pushed). Never drops a commit of
    either side.
    """
    head = vault.head()
    if head is None or _is_ancestor(vault, head, upstream):
        return upstream
    if _is_ancestor(vault, upstream, head):
        return head
    return replay.replay(vault, head, upstream, behind)


# --- agreement, for `verify` ---------------------------------------------------------------

def check_tips(cfg: Config) -> tuple[bool, str]:
    """Do the local vault and `vault.remote` agree? (ok, detail); time-bounded, read-only
    but for fetching objects (never a ref) when the remote tip is unknown here."""
    if not cfg.remote:
        return True, "no remote configured (vault.remote is null)"
    vault = Vault(cfg.vault_path, cfg.subdir, cfg.branch)
    if not vault.exists():
        return False, f"no vault at {cfg.vault_path}"
    local = vault.rev(f"refs/heads/{cfg.branch}")
    try:
        proc = vault.run("ls-remote", "--", remote_url(cfg), f"refs/heads/{cfg.branch}",
                       env=ssh_env(vault), timeout=cfg.timeout)
    except MemvaultError as exc:
        return False, f"remote {cfg.remote} cannot be reached: {exc}"
    fields = proc.stdout.decode().split()
    remote = fields[0] if fields else None
    if remote is None:
        if local is None:
            return True, "no backups yet, here or on the remote"
        return False, f"the remote has no branch {cfg.branch}; {_count(vault, local)} local backup(s) wait to be pushed"
    if local is None:
        return False, f"the local vault is empty; the remote tip is {remote[:12]}"
    if local == remote:
        return True, f"local and remote tips agree at {local[:12]}"
    if vault.rev(remote) is None:
        try:
            vault.run("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-gc", "--",
                    remote_url(cfg), f"refs/heads/{cfg.branch}", env=_no_url_in_reflog(ssh_env(vault)),
                    timeout=cfg.timeout)
        except MemvaultError as exc:
            return False, f"remote tip {remote[:12]} differs from local {local[:12]} and cannot be fetched: {exc}"
    if _is_ancestor(vault, local, remote):
        return True, (f"the remote ({remote[:12]}) holds every local backup (local tip {local[:12]}) "
                      f"and {_count(vault, remote, '^' + local)} newer one(s) from other machines")
    if _is_ancestor(vault, remote, local):
        return False, (f"local tip {local[:12]} is {_count(vault, local, '^' + remote)} backup(s) ahead of "
                       f"the remote ({remote[:12]}): they wait to be pushed")
    return False, (f"local {local[:12]} and remote {remote[:12]} diverged: "
                   f"{_count(vault, local, '^' + remote)} local backup(s) are not on the remote yet")
