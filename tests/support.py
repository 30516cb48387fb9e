"""Helpers shared by the tests: real git, the real `memvault` command line, projects."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"
MEMVAULT = [sys.executable, "-m", "memvault_hooks"]


def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, check: bool = True,
        input: str | None = None) -> str:
    """Run git the way a user would (their own environment, a fixed identity)."""
    full_env = dict(os.environ if env is None else env)
    full_env.setdefault("GIT_AUTHOR_NAME", "Tester")
    full_env.setdefault("GIT_AUTHOR_EMAIL", "tester@example.invalid")
    full_env.setdefault("GIT_COMMITTER_NAME", "Tester")
    full_env.setdefault("GIT_COMMITTER_EMAIL", "tester@example.invalid")
    proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          env=full_env, input=input)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def memvault(*args: str, cwd: Path | str, env: dict[str, str] | None = None,
             input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real command line (python -m memvault_hooks) and capture its output."""
    return subprocess.run([*MEMVAULT, *args], cwd=str(cwd), capture_output=True, text=True,
                          env=env, input=input, timeout=timeout)


def wait_idle(vault: Path, timeout: float = 60) -> None:
    """Wait until no memvault run holds the vault lock and none is pending (detached hooks)."""
    import fcntl

    deadline = time.monotonic() + timeout
    lock = vault / ".memvault.lock"
    while time.monotonic() < deadline:
        if lock.exists():
            with open(lock, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    time.sleep(0.05)
                    continue
                fcntl.flock(f, fcntl.LOCK_UN)
        if not (vault / ".memvault-pending").exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"vault {vault} still busy after {timeout}s")


def vault_log(vault: Path, *paths: str) -> list[str]:
    """Full commit messages of the vault, newest first."""
    out = git(vault, "log", "--format=%H%x00%B%x01", "--", *paths)
    return [chunk.strip() for chunk in out.split("\x01") if chunk.strip()]



class Project:
    """A real git project with memory files and an explicit local vault."""

    def __init__(self, root: Path, vault: Path) -> None:
        self.root = root
        self.vault = vault

    @property
    def stored(self) -> Path:
        return self.vault / "rAgentShared"

    def run(self, *args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
        return memvault(*args, cwd=self.root, env=env, **kw)  # type: ignore[arg-type]

    def sync(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run("sync", *args, env=env)

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
        return path

    def config(self, text: str, allow: bool = True, env: dict[str, str] | None = None) -> None:
        """Write .memvault.yaml as its user would, and allow what it sets outside the
        project (`memvault allow`, needed after every change to those settings)."""
        (self.root / ".memvault.yaml").write_text(text)
        if allow:
            proc = self.run("allow", env=env)
            assert proc.returncode == 0 or "Fix:" in proc.stderr, proc.stdout + proc.stderr  # or a config error

    def log(self, *paths: str) -> list[str]:
        return vault_log(self.vault, *paths) if (self.vault / ".git").exists() else []


def make_project(base: Path, files: tuple[str, ...] = ("memory.json", "gpt4o_memories.json")) -> Project:
    root = base / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name in files:
        shutil.copy(DATA / name, root / name)
    (root / "README.md").write_text("a project whose agents keep memory files\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    vault = base / "vault"
    (root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  path: {vault}\n")
    return Project(root, vault)


def run_in_pty(argv: list[str], answers: list[bytes], env: dict[str, str], cwd: Path | None = None) -> bytes:
    """Run argv (in `cwd`) on a pseudo-terminal of its own, typing each answer after each
    prompt (a chunk asking for a passphrase, or for it again); its output. It must exit 0."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        if cwd is not None:
            os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    out = b""
    pending = list(answers)
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 20)
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if pending and (b"assphrase" in chunk or b"again" in chunk):
                os.write(fd, pending.pop(0))
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out
