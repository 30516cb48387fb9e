"""The vault repository: create it, keep it sane, read its tip, commit into it, move its branch.

Every git call on the vault goes through `Vault.run` (`gitenv.run_git`: one process per
step, never one per file; bounded and in its own session for the network) and leans on
git's atomic primitives. `Vault` owns the questions every layer asks: `rev` (any ref, HEAD
among them), `blobs(rev)`, `zsplit` for git's NUL-separated output, the commit identity
(`commit_env`). GitPython serves the history walk (history.py) and is never imported here.
"""
from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Callable
from collections.abc import Iterable

from memvault_hooks import dirs
from memvault_hooks.vault import git_children
from memvault_hooks.vault import gitenv
from memvault_hooks import processes
from memvault_hooks.errors import MemvaultError
from memvault_hooks.memory.alerts import ALERTS_NAME
from memvault_hooks.vault.file_lock import LOCK_NAME
from memvault_hooks.vault.file_lock import PENDING_NAME
from memvault_hooks.vault.gitenv import Completed
from memvault_hooks.vault.gitenv import GitError
from memvault_hooks.vault.gitenv import run_git
from memvault_hooks.vault.snapshot import Capture
from memvault_hooks.vault.state import CHECKED_NAME
from memvault_hooks.vault.state import STATE_NAME
from memvault_hooks.vault.statcache import NAME as STATCACHE_NAME

TMP_NAME = ".memvault-tmp"
NEW_NAME = ".memvault-new"  # where `create` makes a vault's repository before it moves in
# Machine-local files that live in the vault folder and are never committed.
LOCAL_FILES = (LOCK_NAME, PENDING_NAME, STATE_NAME, f"{STATE_NAME}.*.tmp", f"{TMP_NAME}/", STATCACHE_NAME,
               f"{STATCACHE_NAME}.*.tmp", CHECKED_NAME, f"{CHECKED_NAME}.*.tmp", f"{NEW_NAME}/",
               ALERTS_NAME, f"{ALERTS_NAME}.*.tmp")
# Lock files a killed git process can leave behind; stale whenever we hold our own lock.
GIT_LOCKS = ("index.lock", "HEAD.lock", "packed-refs.lock", "config.lock", "shallow.lock")
# Settings written into every vault: a pack that grows with the deltas, not the snapshots.
VAULT_SETTINGS = (
    ("core.bigFileThreshold", "64m"),
    ("gc.auto", "1000"),
    ("gc.autoPackLimit", "20"),
    ("gc.autoDetach", "false"),
    ("core.logAllRefUpdates", "true"),
    ("core.symlinks", "false"),
)
# Written before the branch moves under the work tree, removed once they agree again.
RESET_MARKER = "memvault-reset-worktree"
# The one remote a vault knows (its URL is `vault.remote`'s, remote.py keeps it so).
REMOTE_NAME = "origin"
# The private index a replay (replay.py) builds its trees in; a killed run's is removed.
REPLAY_INDEX = "memvault-replay.index"
ZERO = "0" * 40


def zsplit(out: bytes) -> list[str]:
    """git's NUL-separated output (`-z`) as names, undecodable bytes kept (surrogateescape)."""
    return [field.decode("utf-8", errors="surrogateescape") for field in out.split(b"\0") if field]


def hostname() -> str:
    """This machine's name, as memvault's commits carry it (identity and Memvault-Host)."""
    return os.uname().nodename


def commit_env(when_epoch: int) -> dict[str, str]:
    """The identity every memvault commit carries: `memvault@<host>`, dated `when_epoch` (UTC)."""
    host = hostname()
    date = f"@{when_epoch} +0000"
    return {
        "GIT_AUTHOR_NAME": "memvault", "GIT_AUTHOR_EMAIL": f"memvault@{host}", "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": "memvault", "GIT_COMMITTER_EMAIL": f"memvault@{host}", "GIT_COMMITTER_DATE": date,
    }


class StoredCopy:
    """`git hash-object -w` of a copy, running while the copy is validated."""

    def __init__(self, vault_path: str, tmp_path: str) -> None:
        # Above core.bigFileThreshold git streams it into a pack: flat memory, zlib level 1.
        self._git = gitenv.Background(vault_path, "-c", "pack.compression=1", "hash-object", "-w",
                                      "--no-filters", "--", tmp_path)

    def result(self) -> str | None:
        done = self._git.wait()
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def cancel(self) -> None:
        self._git.kill()


class Vault:
    def __init__(self, path: str, subdir: str, branch: str) -> None:
        self.path = path
        self.subdir = subdir
        self.branch = branch
        self.tmp_dir = os.path.join(path, TMP_NAME)

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            timeout: float | None = None, check: bool = True) -> Completed:
        """git in the vault, through the one guarded runner (`timeout`: the network variant)."""
        return run_git(self.path, *args, input=input, env=env, timeout=timeout, check=check)

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            timeout: float | None = None) -> bytes:
        """git's output; GitError when it fails."""
        return self.run(*args, input=input, env=env, timeout=timeout).stdout

    def rev(self, ref: str, peel: str | None = "commit") -> str | None:
        """The object `ref` names (peeled to a commit unless `peel` says otherwise), or None."""
        return gitenv.rev(self.path, f"{ref}^{{{peel}}}" if peel else ref)

    def exists(self) -> bool:
        return os.path.isdir(os.path.join(self.path, ".git"))

    def foreign_entries(self) -> list[str]:
        """What the folder holds besides memvault's own machine-local files."""
        try:
            names = sorted(os.listdir(self.path))
        except FileNotFoundError:
            return []
        own = {name.rstrip("/").split(".*")[0] for name in LOCAL_FILES}
        return [n for n in names if n not in own and not n.startswith(f"{STATE_NAME}.")]

    def create(self) -> None:
        """`git init` a new vault (no template: no hooks run there). Call under the lock.

        The repository is made and marked (vaultmark.py) beside, and its `.git` renamed into
        place: a run that looks meanwhile never sees an unmarked repository there."""
        dirs.make_private_dir(self.path)
        staging = os.path.join(self.path, NEW_NAME)
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        dirs.make_private_dir(staging)
        new = Vault(staging, self.subdir, self.branch)
        new.git("init", "-q", "--template=", f"--initial-branch={self.branch}")
        new.configure()
        os.rename(os.path.join(staging, ".git"), os.path.join(self.path, ".git"))
        shutil.rmtree(staging, ignore_errors=True)

    def configure(self) -> None:
        """Settings, excludes and memvault's mark (vaultmark.py) every vault carries; idempotent."""
        from memvault_hooks.vault import vaultmark

        vaultmark.mark(self.path)
        for key, value in VAULT_SETTINGS:
            self.git("config", key, value)
        info = os.path.join(self.path, ".git", "info")
        os.makedirs(info, mode=0o700, exist_ok=True)
        exclude = os.path.join(info, "exclude")
        existing = ""
        if os.path.exists(exclude):
            with open(exclude, encoding="utf-8") as f:
                existing = f.read()
        missing = [f"/{name}" for name in LOCAL_FILES if f"/{name}" not in existing.splitlines()]
        if missing:
            with open(exclude, "a", encoding="utf-8") as f:
                f.write("".join(f"{line}\n" for line in missing))

    def prepare(self) -> None:
        """Under the lock: clear what a killed run may have left (temp copies, git locks)."""
        dirs.make_private_dir(self.path)
        if os.stat(self.path).st_mode & 0o077:
            os.chmod(self.path, 0o700)
        self._clear_tmp_dir()
        git_children.reap()  # the git processes of a killed run end before their locks go
        git_dir = os.path.join(self.path, ".git")
        for name in (*GIT_LOCKS, f"refs/heads/{self.branch}.lock"):
            lock = os.path.join(git_dir, name)
            if not os.path.lexists(lock):
                continue
            live = processes.holding(lock) or processes.git_working_in(self.path)
            if live:
                who = ", ".join(f"{pid} {processes.name_of(pid) or '?'}" for pid in live)
                raise MemvaultError(
                    f"{lock} is in use by a running process (pid {who}); it was left in place: "
                    "run `memvault sync` again once that process has finished")
            try:
                os.unlink(lock)
            except FileNotFoundError:
                pass

    def _clear_tmp_dir(self) -> None:
        """An empty private tmp_dir: the capture copies of a killed run go (they are
        plain files; anything else there is no copy of ours, and is removed whole)."""
        dirs.make_private_dir(self.tmp_dir)
        with os.scandir(self.tmp_dir) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    import shutil

                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)

    def setting(self, key: str) -> str | None:
        """A git config value of the vault (`remote.origin.url`, ...), or None when unset."""
        proc = self.run("config", "--get", key, check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def head(self) -> str | None:
        """HEAD's commit (gitenv.head: read from git's files, rev-parse when in doubt)."""
        return gitenv.head(self.path)

    def blobs(self, rev: str = "HEAD") -> dict[str, str]:
        """Blob id of every file `rev` holds under the subdir, keyed by path relative to
        source_dir; {} before the first commit."""
        prefix = f"{self.subdir}/"
        proc = self.run("ls-tree", "-r", "-z", "--full-tree", rev, "--", prefix, check=False)
        if proc.returncode != 0:
            if rev == "HEAD" and self.head() is None:
                return {}  # no commit yet
            raise GitError(["ls-tree", rev], proc.returncode, proc.stderr.decode(errors="replace"))
        blobs = {}
        for record in zsplit(proc.stdout):
            meta, _, path = record.partition("\t")
            blobs[path[len(prefix):]] = meta.split()[2]
        return blobs

    def blob_history(self, path: str, rev: str = "HEAD") -> set[str]:
        """Every blob id `path` (from the repository's root) has held in `rev`'s history."""
        out = self.git("log", "--format=", "--raw", "--no-abbrev", "--no-renames", "--full-history", rev, "--", path)
        blobs = set()
        for line in out.decode(errors="replace").splitlines():
            fields = line.split("\t", 1)[0].split()
            if len(fields) >= 4 and line.startswith(":"):
                blobs.add(fields[3])
        return blobs

    def stored_path(self, rel: str) -> str:
        return os.path.join(self.path, self.subdir, *rel.split("/"))

    def _make_folders(self, rel: str) -> None:
        """Real folders on the way to `rel`'s stored copy. Whatever a tree from a remote put
        where a folder belongs (a file, a symlink) is replaced by a folder, never followed,
        so no write lands outside the vault."""
        path = self.path
        for name in [*self.subdir.split("/"), *rel.split("/")[:-1]]:
            path = os.path.join(path, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o700)
                continue
            if stat_mod.S_ISDIR(st.st_mode):
                continue
            os.unlink(path)
            os.mkdir(path, 0o700)

    def commit(
        self,
        captures: Iterable[Capture],
        deleted: Iterable[str],
        message_for: Callable[[list[tuple[str, str]]], str],
        env: dict[str, str],
    ) -> tuple[str, list[tuple[str, str]]] | None:
        """Put the captured copies in place, commit; None when the tree did not change.

        `message_for(changes)` builds the message from the (path, change) pairs git
        reports, so the message says exactly what the commit holds.
        """
        paths = []
        entries = []  # blobs the object store holds already: named in the index, not hashed again
        for cap in captures:
            target = self.stored_path(cap.rel)
            self._make_folders(cap.rel)
            os.chmod(cap.tmp_path, 0o600)
            os.replace(cap.tmp_path, target)
            if cap.stored:
                entries.append(f"100644 {cap.blob}\t{self.subdir}/{cap.rel}\0")
            else:
                paths.append(f"{self.subdir}/{cap.rel}")
        for rel in deleted:
            self._make_folders(rel)  # never an unlink through a folder a remote made a link
            try:
                os.unlink(self.stored_path(rel))
            except FileNotFoundError:
                pass
            paths.append(f"{self.subdir}/{rel}")
        if not paths and not entries:
            return None
        if entries:
            self.git("update-index", "--add", "-z", "--index-info", input="".join(entries).encode())
        if paths:
            # Files above core.bigFileThreshold are streamed into a pack (flat memory); at
            # zlib level 1, as git writes loose objects, that is ~2.5x faster than level 6.
            self.git("-c", "pack.compression=1", "add", "-A", "--", *paths)
        fields = zsplit(self.git("diff", "--cached", "--name-status", "--no-renames", "-z"))
        kinds = {"A": "added", "M": "modified", "D": "deleted", "T": "modified"}
        prefix = f"{self.subdir}/"
        changes = []
        for status, path in zip(fields[0::2], fields[1::2]):
            changes.append((path[len(prefix):] if path.startswith(prefix) else path,
                            kinds.get(status[:1], "modified")))
        if not changes:
            return None
        message = message_for(changes)
        if not entries:
            # No `maintenance run --auto` process after each commit: packing.py keeps the
            # vault packed on its own budget (one git process fewer per sync).
            self.git("-c", "maintenance.auto=false", "commit", "-q", "--no-verify", "--cleanup=verbatim",
                     "-F", "-", input=message.encode(), env=env)
            return self.head() or "", changes
        # Plumbing: `git commit` would read every file's stat again, and hash again (deflating
        # it) the large file whose index entry names the blob the object store got early.
        parent = self.head()
        tree = self.git("write-tree").decode().strip()
        commit = self.git("commit-tree", tree, *(("-p", parent) if parent else ()), "-F", "-",
                          input=message.encode(), env=env).decode().strip()
        subject = message.split("\n", 1)[0]
        self.git("update-ref", "-m", f"commit: {subject}", f"refs/heads/{self.branch}", commit, parent or ZERO)
        return commit, changes

    def store(self, tmp_path: str) -> StoredCopy:
        """Start writing a captured copy into the object store (snapshot.capture's `store`)."""
        return StoredCopy(self.path, tmp_path)

    # -- the branch: moving it, and repairing what a killed run left ------------------------
    def move_branch(self, old: str | None, new: str, why: str) -> None:
        """Move the branch from `old` to `new` (compare-and-swap) and the work tree with it.

        A marker lies in `.git` while the two disagree: a run killed meanwhile leaves it,
        and the next one (`recover`) puts the work tree back on the tip."""
        self.set_marker()
        self.git("update-ref", "-m", why, f"refs/heads/{self.branch}", new, old or ZERO)
        self.git("reset", "-q", "--hard", new)
        self.clear_marker()

    def set_marker(self) -> None:
        fd = os.open(os.path.join(self.path, ".git", RESET_MARKER), os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)

    def clear_marker(self) -> None:
        try:
            os.unlink(os.path.join(self.path, ".git", RESET_MARKER))
        except FileNotFoundError:
            pass

    def recover(self) -> None:
        """Under the lock, on an existing vault: finish what a killed run left half done.

        Aborts a rebase or merge in progress (ours never start one, but a person or an older
        version may have), re-attaches HEAD to the branch (detached, or on another branch),
        and puts the index and work tree back on the tip when a run died while moving the
        branch. Costs a few stat calls when there is nothing to do.
        """
        git_dir = os.path.join(self.path, ".git")
        reset = os.path.exists(os.path.join(git_dir, RESET_MARKER))
        for name in ("rebase-merge", "rebase-apply"):
            state_dir = os.path.join(git_dir, name)
            if os.path.isdir(state_dir):
                import shutil

                self.run("rebase", "--abort", check=False)
                shutil.rmtree(state_dir, ignore_errors=True)
                reset = True
        for name in ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "AUTO_MERGE"):
            try:
                os.unlink(os.path.join(git_dir, name))
                reset = True
            except FileNotFoundError:
                pass
        for name in (REPLAY_INDEX, f"{REPLAY_INDEX}.lock", "FETCH_HEAD.lock",
                     os.path.join("refs", "remotes", REMOTE_NAME, f"{self.branch}.lock")):
            try:
                os.unlink(os.path.join(git_dir, name))
            except FileNotFoundError:
                pass
        branch_ref = f"refs/heads/{self.branch}"
        try:
            with open(os.path.join(git_dir, "HEAD"), encoding="utf-8", errors="replace") as f:
                head = f.read().strip()
        except OSError:
            head = ""
        if head != f"ref: {branch_ref}" and self.rev(branch_ref) is not None:
            self.git("symbolic-ref", "HEAD", branch_ref)  # detached or elsewhere: back
            reset = True
        if not reset:
            return
        if self.head() is not None:
            self.git("reset", "-q", "--hard", "HEAD")
        self.clear_marker()
