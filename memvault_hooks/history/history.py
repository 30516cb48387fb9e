"""The vault's history: versions, picking one, reading its files.

A thin reader over `Vault` (which resolves refs and lists a version's blobs, through the
one git runner); GitPython walks the history and streams blobs, where its object model helps.

A *version* is a vault commit on the configured branch. Times are the commit times
(memvault sets them to the moment the sync started, the same second as the subject).
GitPython is imported here, lazily, and only ever runs with git's hook variables
scrubbed from the environment (`gitenv.git_env()`): GitPython reads GIT_DIR and
GIT_WORK_TREE from the process environment itself, so the scrub covers `os.environ`
for as long as the history is open.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from memvault_hooks.vault import gitenv
from memvault_hooks.vault import message
from memvault_hooks.history import when as when_mod
from memvault_hooks.config import Config
from memvault_hooks.errors import MemvaultError
from memvault_hooks.errors import UsageError
from memvault_hooks.vault.vault import Vault

_HEX = re.compile(r"[0-9a-fA-F]{4,40}")


class NoVersion(MemvaultError):
    """There is no backup for what was asked: exit 1, nothing changed."""


@dataclasses.dataclass(frozen=True)
class Version:
    rev: str
    time: dt.datetime                       # aware, UTC
    trigger: str | None
    host: str | None
    source_commit: str | None
    files: tuple[tuple[str, str], ...]      # (path relative to source_dir, change)
    alerts: tuple[str, ...] = ()            # its Memvault-Alert trailers' values (memory-loss alerts)

    @property
    def short(self) -> str:
        return self.rev[:12]

    def describe(self) -> str:
        """`a1b2c3d4e5f6 (2026-11-26 13:34:56+01:00, post-commit)` for messages."""
        return f"{self.short} ({when_mod.local(self.time)}, {self.trigger or 'unknown trigger'})"

    def to_json(self) -> dict[str, Any]:
        return {
            "rev": self.rev,
            "time": when_mod.iso_utc(self.time),
            "trigger": self.trigger,
            "host": self.host,
            "source_commit": self.source_commit,
            "files": [{"path": path, "change": change} for path, change in self.files],
            # a commit that carries memory-loss alerts (only then: SPEC's shape stays as it is)
            **({"alert": True, "alerts": [_alert_json(value) for value in self.alerts]} if self.alerts else {}),
        }


def _alert_json(value: str) -> dict[str, Any]:
    from memvault_hooks.memory import alerts

    parsed = alerts.parse_trailer(value)
    if parsed is None:
        return {"text": value}
    path, kind, before, after = parsed
    return {"path": path, "kind": kind, "before": before, "after": after}


@contextlib.contextmanager
def scrubbed_environ() -> Iterator[None]:
    """os.environ as `gitenv.git_env()` gives it (no hook variables, no prompts), restored after."""
    saved = dict(os.environ)
    clean = gitenv.git_env()
    os.environ.clear()
    os.environ.update(clean)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class History:
    """Open with `with History(cfg) as hist:`; an absent or empty vault has no versions."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.prefix = f"{cfg.subdir}/"
        self.vault = Vault(cfg.vault_path, cfg.subdir, cfg.branch)
        self._repo: Any = None
        self._stack = contextlib.ExitStack()
        self._all: list[Version] | None = None

    def __enter__(self) -> History:
        self._stack.enter_context(scrubbed_environ())
        from memvault_hooks.vault import vaultmark

        vaultmark.check(self.cfg.vault_path)  # never read a repository memvault did not make as a vault
        if os.path.isdir(os.path.join(self.cfg.vault_path, ".git")):
            import git

            self._repo = git.Repo(self.cfg.vault_path)
            self._stack.callback(self._repo.close)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # -- the list of versions -------------------------------------------------------------
    def _tip(self) -> str | None:
        """The branch's tip (HEAD when the branch is unborn); None in an empty vault."""
        if self._repo is None:
            return None
        return self.vault.rev(f"refs/heads/{self.cfg.branch}") or self.vault.rev("HEAD")

    def versions(self, rel: str | None = None, limit: int | None = None) -> list[Version]:
        """Newest first (git's own order); with `rel`, only versions that changed it."""
        if rel is None and self._all is not None:
            return self._all[:limit] if limit is not None else list(self._all)
        ref = self._tip()
        if ref is None:
            return []
        kwargs: dict[str, Any] = {}
        if rel is not None:
            kwargs["paths"] = f"{self.prefix}{rel}"
        if limit is not None:
            kwargs["max_count"] = limit
        found = [self._version(commit, rel) for commit in self._repo.iter_commits(ref, **kwargs)]
        if rel is None and limit is None:
            self._all = found
        return found

    def _version(self, commit: Any, rel: str | None) -> Version:
        parsed = message.parse(commit.message if isinstance(commit.message, str)
                               else commit.message.decode("utf-8", "replace"))
        files = parsed.files or self._changes_from_tree(commit)
        if rel is not None:
            files = [(path, change) for path, change in files if path == rel]
        trailers = parsed.trailers
        return Version(
            rev=commit.hexsha,
            time=dt.datetime.fromtimestamp(commit.committed_date, dt.timezone.utc),
            trigger=trailers.get(message.TRAILER_TRIGGER),
            host=trailers.get(message.TRAILER_HOST),
            source_commit=trailers.get(message.TRAILER_SOURCE),
            files=tuple(files),
            alerts=tuple(a for a in parsed.alerts if rel is None or _alert_json(a).get("path") == rel),
        )

    def _changes_from_tree(self, commit: Any) -> list[tuple[str, str]]:
        """What a commit not written by memvault changed under the subdir (from its diff)."""
        import git

        if commit.parents:
            diffs = commit.parents[0].diff(commit)
        else:
            diffs = commit.diff(git.NULL_TREE, R=True)
        kinds = {"A": "added", "D": "deleted"}
        changes = []
        for d in diffs:
            path = d.b_path or d.a_path
            if path and path.startswith(self.prefix):
                changes.append((path[len(self.prefix):], kinds.get(d.change_type, "modified")))
        return changes

    # -- choosing one version --------------------------------------------------------------
    def first(self) -> Version | None:
        found = self.versions()
        return min(reversed(found), key=lambda v: v.time) if found else None

    def latest(self) -> Version:
        found = self.versions(limit=1)
        if not found:
            raise NoVersion(self.no_backup_yet())
        return found[0]

    def no_backup_yet(self) -> str:
        return f"there is no backup yet in the vault {self.cfg.vault_path} (run `memvault sync`)"

    def _first_said(self) -> str:
        first = self.first()
        if first is None:
            return self.no_backup_yet()
        return (f"the first backup was made at {when_mod.local(first.time)} ({when_mod.iso_utc(first.time)}, "
                f"{first.short}); `memvault log` lists every backup")

    def at(self, moment: dt.datetime) -> Version:
        """The newest version at or before `moment` (by time; ties go to the later commit)."""
        best: Version | None = None
        for version in self.versions():
            if version.time <= moment and (best is None or version.time > best.time):
                best = version
        if best is None:
            raise NoVersion(f"no backup at or before {when_mod.local(moment)}; {self._first_said()}")
        return best

    def rev(self, rev: str) -> Version:
        """A vault commit named any way git reads it (full or abbreviated sha, main~3, …)."""
        if not rev or rev.startswith("-") or any(c.isspace() for c in rev):
            raise UsageError(f"{rev!r} is not a revision; give a vault commit such as the rev `memvault log` shows")
        if self._repo is None:
            raise NoVersion(f"no backup {rev!r}: {self.no_backup_yet()}")
        try:
            commit = self._repo.commit(rev)
        except Exception:
            raise NoVersion(f"no backup {rev!r} in the vault; {self._first_said()}") from None
        return self._version(commit, None)

    def by_source_commit(self, sha: str) -> Version:
        """The first backup made while the project was at `sha` (full or abbreviated)."""
        if not _HEX.fullmatch(sha):
            raise UsageError(f"{sha!r} is not a commit id; give 4 to 40 hex digits of a project commit")
        sha = sha.lower()
        matches = [v for v in self.versions() if v.source_commit and v.source_commit.lower().startswith(sha)]
        names = {v.source_commit for v in matches}
        if len(names) > 1:
            listed = ", ".join(sorted(n[:12] for n in names if n))
            raise UsageError(f"{sha!r} is ambiguous: it names project commits {listed}; give more digits")
        if not matches:
            raise NoVersion(f"no backup was made at project commit {sha}; {self._first_said()}")
        return min(reversed(matches), key=lambda v: v.time)  # git lists newest first; ties: the older

    def known_paths(self) -> set[str]:
        """Every memory file the vault has ever held (for "did you mean" suggestions)."""
        known = {path for version in self.versions() for path, _ in version.files}
        latest = self.versions(limit=1)
        return known | (set(self.blobs(latest[0])) if latest else set())

    # -- reading a version ---------------------------------------------------------------
    def blobs(self, version: Version) -> dict[str, str]:
        """Blob id of every file the version holds, keyed by path relative to source_dir."""
        return dict(sorted(self.vault.blobs(version.rev).items()))

    def _blob(self, version: Version, rel: str) -> Any:
        """GitPython's blob of `rel` in the version, or None when it holds no such file."""
        try:
            blob = self._repo.commit(version.rev).tree[f"{self.prefix}{rel}"]
        except KeyError:
            return None
        return blob if blob.type == "blob" else None

    def read(self, version: Version, rel: str) -> bytes | None:
        """The exact bytes of `rel` in the version, or None when it holds no such file."""
        blob = self._blob(version, rel)
        if blob is None:
            return None
        data: bytes = blob.data_stream.read()
        return data

    def entry(self, version: Version, rel: str) -> tuple[str, int] | None:
        """(blob id, size) of `rel` in the version, without reading its content; None when absent."""
        blob = self._blob(version, rel)
        return None if blob is None else (blob.hexsha, int(blob.size))

    def entry_size(self, sha: str) -> int:
        """A blob's size, from git's object header (its content is not read)."""
        return int(self._repo.odb.info(bytes.fromhex(sha)).size)

    def copy_blob(self, sha: str, write: Callable[[bytes], object], chunk: int = 1 << 20) -> None:
        """Hand a blob's content to `write` piece by piece (memory of one piece)."""
        stream = self._repo.odb.stream(bytes.fromhex(sha))
        while piece := stream.read(chunk):
            write(piece)

    def blob_head(self, sha: str, size: int, chunk: int = 1 << 20) -> bytes:
        """The first `size` bytes of a blob (a file's header). The rest is read through in
        pieces: a stream left unread is drained at once, whole, when it is dropped."""
        stream = self._repo.odb.stream(bytes.fromhex(sha))
        data: bytes = stream.read(size)
        while stream.read(chunk):
            pass
        return data

    def read_blob(self, sha: str) -> bytes:
        data: bytes = self._repo.odb.stream(bytes.fromhex(sha)).read()
        return data
