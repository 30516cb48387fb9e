"""The encrypted transport: a git remote that holds only age-encrypted git bundles.

Contract (SPEC "Encrypted remote"): the local vault stays a plain git repository; its
remote (any git URL) is a repository of opaque files, one branch `main`:

    README.md                           how to decrypt everything by hand (age CLI + git)
    keys/<key id>.age                   the vault key, wrapped by the user's passphrase
    machines/<machine id>/<seq>.bundle.age       an incremental `git bundle` of new commits
    machines/<machine id>/<seq>.full.bundle.age  a full bundle (every FULL_EVERY pushes)

Machine ids are random, files are only added (never rewritten), so machines never overwrite
each other; every commit there says "add bundle" (or "add key"), by "memvault", dated
2000-01-01, so no host name, file name, commit message, time of a backup or content is
readable on the remote (the host still sees when pushes arrive, and their sizes). A full
bundle every FULL_EVERY pushes bounds the chain a new machine reads: it starts at each
machine's latest full bundle (at the one before, should that one be damaged). A remote
that holds anything else (a plain vault's history) is refused, never mixed in.

Kept locally, in the vault's git dir, owner-only: `memvault-key` (the vault key, 0600),
`memvault-transport/` (a clone of the remote), `memvault-machine` (this machine's id),
`memvault-applied` (the bundles already fetched).

Functions (one `EncryptedRemote` for a vault's git dir and the remote URL):
- `setup(passphrase)`: first machine: a new vault key (kept locally, 0600), wrapped into
  keys/, README, pushed. Refuses a remote that already holds a key (that is `join`).
- `join(passphrase)`: another machine: fetch the wrapped key and open it. A wrong passphrase
  raises `crypt.WrongPassphrase` and writes nothing (the transport clone and the key are
  moved into place only after it opened).
- `push(branch)`: bundle the commits of `refs/heads/<branch>` that were not sent yet (not
  under `refs/memvault/pushed`, nor fetched from other machines), encrypt, add, push; no
  fetch first (this machine's folder is its own): when another machine pushed first, the
  push is rejected, rebased and retried. No new commits: nothing. Needs no passphrase.
- `fetch()`: decrypt the other machines' bundles not applied yet and `git fetch` each into
  `refs/memvault/machines/<machine id>/<branch>`, the refs the caller replays from exactly
  as from a plain remote's branches. A corrupted or truncated bundle is reported in the
  result and skipped; the others still apply (one whose prerequisites are missing waits).
- `verify()`: decrypt and check every bundle on the remote; returns the problems.

Git calls go through `gitenv.run_git` (scrubbed hook environment, no prompts), with `--`
before every URL. Wiring (for the integrator): remote.py calls `push` instead of
`git push` when `vault.encrypt` is true and `fetch` instead of `git fetch`, then replays
from `fetch().refs`; init/recover call `setup`/`join` with `crypt.passphrase(...)`;
`verify` adds `EncryptedRemote.verify()` problems to its checks.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile

from memvault_hooks.vault import crypt
from memvault_hooks.errors import MemvaultError
from memvault_hooks.vault.gitenv import run_git
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

REMOTE_BRANCH = "main"
FULL_EVERY = 16
PUSHED_REF = "refs/memvault/pushed"
MACHINES_REFS = "refs/memvault/machines"
NETWORK_TIMEOUT = 300.0
PUSH_ATTEMPTS = 4
MAX_KEY_FILE = 64 * 1024  # a wrapped key is ~300 bytes; the remote is not trusted
_BUNDLE_NAME = re.compile(r"(?P<seq>[0-9]{8})(?P<full>\.full)?\.bundle\.age\Z")
_MACHINE_ID = re.compile(r"[0-9a-f]{16}\Z")
_NEUTRAL = {
    "GIT_AUTHOR_NAME": "memvault", "GIT_AUTHOR_EMAIL": "memvault@localhost",
    "GIT_COMMITTER_NAME": "memvault", "GIT_COMMITTER_EMAIL": "memvault@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}

README = """\
# An encrypted memvault remote

Everything here is encrypted with [age](https://age-encryption.org). Nothing in this
repository names a file, a machine or a commit of the vault.

- `keys/<id>.age`: the vault key, encrypted with your passphrase.
- `machines/<machine>/<seq>.bundle.age`: a `git bundle` of one push from one machine,
  encrypted to the vault key; `<seq>.full.bundle.age` holds that machine's whole history.

## Decrypt by hand (age and git only)

    age -d -o vault-key.txt keys/<id>.age             # asks for the passphrase
    git init vault
    # for each machine folder: its latest *.full.bundle.age, then every later bundle, in order
    age -d -i vault-key.txt -o 1.bundle machines/<machine>/<seq>.full.bundle.age
    git -C vault fetch "$PWD/1.bundle" "refs/heads/*:refs/remotes/<machine>/*"
    git -C vault log --all                            # the history; check out any commit

Delete `vault-key.txt` and the `*.bundle` files afterwards: they are not encrypted.
"""


class RemoteError(MemvaultError):
    pass


class FetchResult:
    """What `fetch` did: bundles applied, bundles skipped (name, reason), refs to replay."""

    __slots__ = ("applied", "skipped", "refs")

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.skipped: list[tuple[str, str]] = []
        self.refs: list[str] = []


class EncryptedRemote:
    def __init__(self, git_dir: str, url: str, timeout: float = NETWORK_TIMEOUT) -> None:
        """`git_dir`: the local vault's git directory; `url`: vault.remote; `timeout`:
        seconds allowed to each network operation (vault.timeout)."""
        self.git_dir = os.path.abspath(git_dir)
        self.url = url
        self.timeout = timeout
        self.transport = os.path.join(self.git_dir, "memvault-transport")
        self.key_file = key_path(self.git_dir)
        self.machine_file = os.path.join(self.git_dir, "memvault-machine")
        self.applied_file = os.path.join(self.git_dir, "memvault-applied")

    # --- set-up ---------------------------------------------------------------------

    def setup(self, phrase: str) -> None:
        """The first machine: a new key, wrapped on the remote with the passphrase."""
        with self._staging() as stage:
            self._clone(stage)
            if self._wrapped_keys(stage):
                raise RemoteError("the encrypted remote already holds a vault key: run "
                                  "`memvault init --remote URL` to join it with its passphrase")
            self._refuse_plain(stage)
            key = crypt.load_key(self.key_file) if os.path.exists(self.key_file) else crypt.new_key()
            os.makedirs(os.path.join(stage, "keys"), exist_ok=True)
            with open(os.path.join(stage, "keys", f"{crypt.key_id(key)}.age"), "wb") as f:
                f.write(crypt.wrap_key(key, phrase))
            with open(os.path.join(stage, "README.md"), "w", encoding="utf-8") as f:
                f.write(README)
            self._commit_and_push(stage, "add key")
            crypt.save_key(self.key_file, key)
            self._install(stage)

    def join(self, phrase: str) -> None:
        """Another machine: open the remote's key with the passphrase (WrongPassphrase:
        nothing written)."""
        with self._staging() as stage:
            self._clone(stage)
            wrapped = self._wrapped_keys(stage)
            if not wrapped:
                self._refuse_plain(stage)
                raise RemoteError(f"{self.url} holds no vault key: it is not an encrypted memvault "
                                  "remote yet; run `memvault init` with vault.encrypt: true to set it up")
            with open(wrapped[0], "rb") as f:
                key = crypt.unwrap_key(f.read(MAX_KEY_FILE), phrase)
            crypt.save_key(self.key_file, key)
            self._install(stage)

    def _wrapped_keys(self, stage: str) -> list[str]:
        folder = os.path.join(stage, "keys")
        if not os.path.isdir(folder) or os.path.islink(folder):
            return []
        return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                      if n.endswith(".age") and _regular(os.path.join(folder, n)))

    def _refuse_plain(self, stage: str) -> None:
        """A remote that holds anything but this layout is a plain vault (or something
        else): never mixed with encrypted bundles."""
        others = set(os.listdir(stage)) - {".git", "README.md", "keys", "machines"}
        if others:
            raise RemoteError(f"{self.url} holds a plain (unencrypted) vault or other files: its clear "
                              "history stays readable there. Use a new, empty repository as vault.remote "
                              "for the encrypted vault, and delete the old one (rotate any secret it held)")

    def _staging(self) -> _Staging:
        return _Staging(self.git_dir)

    def _clone(self, stage: str) -> None:
        run_git(self.git_dir, "clone", "-q", "--no-checkout", "--", self.url, stage, timeout=self.timeout)
        if run_git(stage, "rev-parse", "-q", "--verify", f"origin/{REMOTE_BRANCH}", check=False).returncode == 0:
            run_git(stage, "checkout", "-q", "-B", REMOTE_BRANCH, f"origin/{REMOTE_BRANCH}")
        else:
            run_git(stage, "checkout", "-q", "--orphan", REMOTE_BRANCH)

    def _install(self, stage: str) -> None:
        if os.path.exists(self.transport):
            shutil.rmtree(self.transport)
        os.replace(stage, self.transport)

    # --- push -----------------------------------------------------------------------

    def machine_id(self) -> str:
        try:
            with open(self.machine_file, encoding="ascii") as f:
                mid = f.read().strip()
            if _MACHINE_ID.match(mid):
                return mid
        except FileNotFoundError:
            pass
        import secrets

        from memvault_hooks.atomic import write_atomic

        mid = secrets.token_hex(8)
        write_atomic(self.machine_file, (mid + "\n").encode(), 0o600, durable=True)
        return mid

    def push(self, branch: str) -> str | None:
        """Send the commits of `branch` not sent yet as one encrypted bundle; its remote
        path, or None when there was nothing new. Needs no fetch first: this machine's
        folder is written by this machine alone (another machine's push first only makes
        the push retry after a rebase)."""
        key = crypt.load_key(self.key_file)
        self._require_transport()
        refs = run_git(self.git_dir, "for-each-ref", "--format=%(objectname) %(refname)",
                       f"refs/heads/{branch}", PUSHED_REF, MACHINES_REFS).stdout.decode().split("\n")
        pairs = [line.split(" ", 1) for line in refs if line]
        tips = [sha for sha, ref in pairs if ref == f"refs/heads/{branch}"]
        if not tips:
            raise RemoteError(f"the vault has no branch {branch} to push")
        tip = tips[0]
        sent = sorted({sha for sha, ref in pairs if ref != f"refs/heads/{branch}"})
        if tip in sent:
            return None
        mid = self.machine_id()
        folder = os.path.join(self.transport, "machines", mid)
        os.makedirs(folder, exist_ok=True)
        seqs = sorted(_bundles(folder, self._links()))
        seq = (seqs[-1][0] + 1) if seqs else 1
        full = not seqs or (seq - max((s for s, f in seqs if f), default=0)) >= FULL_EVERY
        if full and sent:  # a full bundle is never empty: is anything new at all?
            new = run_git(self.git_dir, "rev-list", "--count", tip, *(f"^{sha}" for sha in sent)).stdout
            if int(new.decode().strip() or "0") == 0:
                return None
        name = f"{seq:08d}{'.full' if full else ''}.bundle.age"
        with tempfile.TemporaryDirectory(dir=self.git_dir, prefix="memvault-bundle-") as tmp:
            plain = os.path.join(tmp, "b.bundle")
            proc = run_git(self.git_dir, "bundle", "create", "-q", plain, f"refs/heads/{branch}",
                           *([] if full else [f"^{sha}" for sha in sent]), check=False)
            if proc.returncode != 0:
                if b"empty bundle" in proc.stderr:
                    return None
                raise RemoteError(f"git bundle create failed: {proc.stderr.decode(errors='replace').strip()}")
            crypt.encrypt_file(plain, os.path.join(folder, name), key)
        rel = f"machines/{mid}/{name}"
        self._commit_and_push(self.transport, "add bundle", rel)
        run_git(self.git_dir, "update-ref", PUSHED_REF, tip)
        return rel

    def _commit_and_push(self, repo: str, message: str, *paths: str) -> None:
        run_git(repo, "add", "-A", "--", *(paths or (".",)))
        run_git(repo, "commit", "-q", "--no-verify", "-m", message, env=_NEUTRAL)
        for attempt in range(PUSH_ATTEMPTS):
            proc = run_git(repo, "push", "-q", "--", self.url, f"HEAD:refs/heads/{REMOTE_BRANCH}",
                           timeout=self.timeout, check=attempt == PUSH_ATTEMPTS - 1)
            if proc.returncode == 0:
                return
            self._pull(repo)  # another machine pushed first: its files are in other folders

    def _pull(self, repo: str | None = None) -> None:
        repo = repo or self.transport
        # by URL, not by the clone's "origin": always vault.remote as configured now
        run_git(repo, "fetch", "-q", "--", self.url, f"+refs/heads/{REMOTE_BRANCH}:refs/remotes/origin/{REMOTE_BRANCH}",
                timeout=self.timeout)
        if run_git(repo, "rev-parse", "-q", "--verify", f"origin/{REMOTE_BRANCH}", check=False).returncode != 0:
            return
        run_git(repo, "rebase", "-q", f"origin/{REMOTE_BRANCH}", env=_NEUTRAL)

    def _require_transport(self) -> None:
        if not os.path.isdir(self.transport):
            raise RemoteError("this vault is not set up for its encrypted remote; run `memvault init` "
                              "(first machine) or `memvault init --remote URL` (another machine)")

    # --- fetch ----------------------------------------------------------------------

    def fetch(self) -> FetchResult:
        """Apply the other machines' new bundles; see the module doc."""
        key = crypt.load_key(self.key_file)
        self._require_transport()
        self._pull()
        result = FetchResult()
        applied = self._applied()
        mine = self.machine_id()
        pending: list[tuple[str, str]] = []  # (machine id, bundle path)
        fallbacks: dict[str, list[str]] = {}  # the first bundle of a chain -> the chain before it
        for mid, names in self._machines():
            if mid == mine:
                continue
            chain, fallback = self._chain(mid, names, applied)
            pending.extend((mid, path) for path in chain)
            if chain and fallback:
                fallbacks[chain[0]] = fallback
        with tempfile.TemporaryDirectory(dir=self.git_dir, prefix="memvault-fetch-") as tmp:
            progress = True
            while pending and progress:
                progress = False
                waiting: list[tuple[str, str]] = []
                for mid, path in pending:
                    rel = os.path.relpath(path, self.transport)
                    plain = os.path.join(tmp, "b.bundle")
                    try:
                        crypt.decrypt_file(path, plain, key)
                        prereqs = _prerequisites(plain)
                    except MemvaultError as exc:
                        result.skipped.append((rel, str(exc)))
                        applied.add(rel)  # reported once; verify reports it again
                        waiting.extend((mid, earlier) for earlier in fallbacks.pop(path, []))
                        progress = True
                        continue
                    if not all(self._has_commit(sha) for sha in prereqs):
                        waiting.append((mid, path))
                        continue
                    proc = run_git(self.git_dir, "fetch", "-q", "--no-tags", "--", plain,
                                   f"+refs/heads/*:{MACHINES_REFS}/{mid}/*", check=False)
                    if proc.returncode != 0:
                        result.skipped.append((rel, proc.stderr.decode(errors="replace").strip()))
                    else:
                        result.applied.append(rel)
                    applied.add(rel)
                    progress = True
                pending = waiting
        for mid, path in pending:
            result.skipped.append((os.path.relpath(path, self.transport),
                                   "its prerequisite commits are in no bundle that applied"))
        self._save_applied(applied)
        out = run_git(self.git_dir, "for-each-ref", "--format=%(refname)", MACHINES_REFS).stdout
        result.refs = out.decode().split()
        return result

    def _machines(self) -> Iterator[tuple[str, list[tuple[int, bool]]]]:
        root = os.path.join(self.transport, "machines")
        if not os.path.isdir(root):
            return
        links = self._links()
        for mid in sorted(os.listdir(root)):
            if _MACHINE_ID.match(mid):
                yield mid, sorted(_bundles(os.path.join(root, mid), links))

    def _links(self) -> set[str]:
        """Paths the remote holds as symlinks: the vault's git writes them out as plain files
        (core.symlinks=false), so only the index tells them apart; they are ignored."""
        out = run_git(self.transport, "ls-files", "-s", "-z", "--", "machines").stdout
        return {os.path.join(self.transport, entry.split(b"\t", 1)[1].decode(errors="replace"))
                for entry in out.split(b"\0") if entry.startswith(b"120000 ")}

    def _chain(self, mid: str, names: list[tuple[int, bool]], applied: set[str]) -> tuple[list[str], list[str]]:
        """The bundles of one machine to apply, in order, and those to fall back on.

        When none of its bundles applied yet, the chain starts at its latest full bundle
        (that bounds what a new machine reads); should that one not decrypt, the fallback
        is the chain from the full bundle before it."""
        def path(seq: int, full: bool) -> str:
            return os.path.join(self.transport, "machines", mid, f"{seq:08d}{'.full' if full else ''}.bundle.age")

        todo = [(s, f) for s, f in names if os.path.relpath(path(s, f), self.transport) not in applied]
        fallback: list[tuple[int, bool]] = []
        fulls = [s for s, f in names if f]
        if len(todo) == len(names) and fulls:
            start = fulls[-1]
            before = fulls[-2] if len(fulls) > 1 else 0
            fallback = [(s, f) for s, f in todo if before <= s < start]
            todo = [(s, f) for s, f in todo if s >= start]
        return [path(s, f) for s, f in todo], [path(s, f) for s, f in fallback]

    def _has_commit(self, sha: str) -> bool:
        return run_git(self.git_dir, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0

    def _applied(self) -> set[str]:
        try:
            with open(self.applied_file, encoding="utf-8") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def _save_applied(self, applied: set[str]) -> None:
        from memvault_hooks.atomic import write_atomic

        write_atomic(self.applied_file, "".join(f"{a}\n" for a in sorted(applied)).encode(), 0o600,
                     durable=True)

    # --- verify ---------------------------------------------------------------------

    def verify(self) -> list[str]:
        """One line for each bundle on the remote that does not decrypt or is no bundle."""
        key = crypt.load_key(self.key_file)
        self._require_transport()
        self._pull()
        problems: list[str] = []
        with tempfile.TemporaryDirectory(dir=self.git_dir, prefix="memvault-verify-") as tmp:
            for mid, names in self._machines():
                for seq, full in names:
                    rel = f"machines/{mid}/{seq:08d}{'.full' if full else ''}.bundle.age"
                    plain = os.path.join(tmp, "b.bundle")
                    try:
                        crypt.decrypt_file(os.path.join(self.transport, rel), plain, key)
                        _prerequisites(plain)
                    except MemvaultError as exc:
                        problems.append(f"{rel}: {exc}")
        return problems


def key_path(git_dir: str) -> str:
    """Where the vault key is kept: in the vault's git dir, 0600."""
    return os.path.join(git_dir, "memvault-key")


def _bundles(folder: str, links: set[str]) -> Iterator[tuple[int, bool]]:
    """(seq, full) of each bundle file in a machine's folder (regular files only: the
    remote is not trusted, a symlink there is ignored)."""
    if os.path.islink(folder):
        return
    for name in os.listdir(folder):
        m = _BUNDLE_NAME.match(name)
        path = os.path.join(folder, name)
        if m and _regular(path) and path not in links:
            yield int(m.group("seq")), bool(m.group("full"))


def _regular(path: str) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _prerequisites(bundle: str) -> list[str]:
    """The commits a bundle needs (its "-<sha>" header lines); RemoteError if it is no bundle."""
    needs: list[str] = []
    with open(bundle, "rb") as f:
        first = f.readline()
        if first not in (b"# v2 git bundle\n", b"# v3 git bundle\n"):
            raise RemoteError("not a git bundle")
        for _ in range(100000):
            line = f.readline()
            if line in (b"\n", b""):
                return needs
            if line.startswith(b"-"):
                needs.append(line[1:].split()[0].decode("ascii"))
    raise RemoteError("a git bundle header without an end")


class _Staging:
    """A temporary folder in the vault's git dir, removed unless moved into place."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self.path = ""

    def __enter__(self) -> str:
        self.path = tempfile.mkdtemp(dir=self.git_dir, prefix="memvault-stage-")
        os.rmdir(self.path)  # git clone wants to create it
        return self.path

    def __exit__(self, *exc: object) -> None:
        if os.path.exists(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


def holds_encrypted_layout(repo: str, rev: str) -> bool:
    """True when commit `rev` (in the repository at `repo`) is an encrypted remote's tree
    (`keys/` beside `README.md`): a plain vault must never be mixed with it, nor pushed in clear there."""
    proc = run_git(repo, "ls-tree", "--name-only", "-z", rev, check=False)
    names = set(proc.stdout.split(b"\0")) if proc.returncode == 0 else set()
    return {b"keys", b"README.md"} <= names


ENCRYPTED_FIX = ("it is an encrypted memvault remote: set `vault.encrypt: true` in .memvault.yaml, run "
                 "`memvault allow`, then `memvault init` (it asks for the passphrase); nothing was pushed in clear")
