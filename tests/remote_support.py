"""Real remotes for the tests: bare repositories, machines sharing one, a `git daemon`
on 127.0.0.1, and small loopback servers that refuse, stall or ask for a password."""
from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Project
from support import git
from support import make_project


def bare_remote(base: Path, name: str = "remote.git") -> Path:
    path = base / name
    git(base, "init", "-q", "--bare", "-b", "main", str(path))
    return path


def machine(base: Path, name: str, remote: str | Path | None, timeout: float = 20,
            files: tuple[str, ...] = ("memory.json", "gpt4o_memories.json")) -> Project:
    """A project with its own vault (one "machine"), pushing to `remote`."""
    root = base / name
    root.mkdir()
    project = make_project(root, files)
    set_remote(project, remote, timeout)
    return project


def set_remote(project: Project, remote: str | Path | None, timeout: float = 20) -> None:
    value = json.dumps(str(remote)) if remote is not None else "null"
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n  remote: {value}\n  timeout: {timeout}\n")


def status(project: Project) -> dict[str, object]:
    return json.loads(project.run("status", "--json").stdout)  # type: ignore[no-any-return]


def versions(repo: Path, rel: str, rev: str = "main") -> list[str]:
    """Every content `rel` had in `rev`'s history, oldest first."""
    path = f"rAgentShared/{rel}"
    shas = git(repo, "log", "--reverse", "--format=%H", rev, "--", path).split()
    out = []
    for sha in shas:
        proc = subprocess.run(["git", "-C", str(repo), "show", f"{sha}:{path}"], capture_output=True, text=True)
        if proc.returncode == 0:
            out.append(proc.stdout)
    return out


def tip_content(repo: Path, rel: str, rev: str = "main") -> str:
    return git(repo, "show", f"{rev}:rAgentShared/{rel}")


def fsck(repo: Path) -> None:
    proc = subprocess.run(["git", "-C", str(repo), "fsck", "--full", "--strict", "--no-dangling"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"git daemon exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise AssertionError(f"git daemon did not listen on {port}")


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real `git daemon` on 127.0.0.1 (push enabled) serving a fresh folder: (folder, base URL)."""
    base = tmp_path / "served"
    base.mkdir()
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            ["git", "daemon", "--export-all", "--enable=receive-pack", "--reuseaddr", "--informative-errors",
             "--listen=127.0.0.1", f"--port={port}", f"--base-path={base}", str(base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_listening(port, proc)
            break
        except AssertionError:
            proc.kill()
            proc.wait()
    else:
        raise AssertionError("could not start git daemon")
    try:
        yield base, f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LoopbackServer:
    """A TCP server on 127.0.0.1 that answers every connection with `reply` (None: says
    nothing and keeps the connection open, a black hole)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.requests += 1
            if self.reply is None:
                self.held.append(conn)
                continue
            with conn:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


AUTH_REPLY = (b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"vault\"\r\n"
              b"Content-Length: 0\r\nConnection: close\r\n\r\n")


# --- two machines joining one vault (SPEC "Joining a shared vault") -----------------------

def home_env(base: Path, name: str) -> dict[str, str]:
    """The environment of a machine of its own: its own HOME and XDG folders."""
    import os

    home = base / f"home-{name}"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Tester\n\temail = tester@example.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n")
    env = dict(os.environ, HOME=str(home))
    for var, sub in (("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_CONFIG_HOME", ".config")):
        env[var] = str(home / sub)
    return env


def join(project: Project, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`memvault init` in a cloned project whose config names `vault.remote`, as a user
    runs it (README "Second machine"): `memvault allow` first (the remote came with the
    clone), then `memvault init`; both machines of `Joined` start with it."""
    allowed = project.run("allow", env=env)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    return project.run("init", env=env)


class Joined:
    """Machine A backed memory.json up as v1, v2, v3 to `remote`; machine B holds a clone
    of the project whose committed memory.json is v1 (and a file the vault never saw)."""

    def __init__(self, base: Path) -> None:
        self.remote = bare_remote(base)
        self.env_a = home_env(base, "a")
        self.env_b = home_env(base, "b")
        upstream = base / "upstream"
        upstream.mkdir()
        git(upstream, "init", "-q", "-b", "main")
        (upstream / "memory.json").write_text(self.version(1))
        (upstream / ".memvault.yaml").write_text(f"version: 1\nvault:\n  remote: {json.dumps(str(self.remote))}\n")
        git(upstream, "add", "memory.json", ".memvault.yaml")
        git(upstream, "commit", "-q", "-m", "a project with its agent's memory")
        self.a = self._clone(base, upstream, "a", self.env_a)
        for n in (1, 2, 3):
            self.a.write("memory.json", self.version(n))
            proc = self.a.sync(env=self.env_a) if n > 1 else join(self.a, self.env_a)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            if n == 1:
                proc = self.a.sync(env=self.env_a)
                assert proc.returncode == 0, proc.stdout + proc.stderr
        assert tip_content(self.remote, "memory.json") == self.version(3)
        self.b = self._clone(base, upstream, "b", self.env_b)
        self.b.write("gpt4o_memories.json", '{"only": "on machine B"}\n')

    @staticmethod
    def version(n: int) -> str:
        return json.dumps({"version": n, "facts": [f"fact {i}" for i in range(n)]}) + "\n"

    @staticmethod
    def _clone(base: Path, upstream: Path, name: str, env: dict[str, str]) -> Project:
        root = base / f"machine-{name}"
        git(base, "clone", "-q", str(upstream), str(root))
        data = Path(env["XDG_DATA_HOME"]) / "memvault" / "vaults"
        return Project(root, data)  # the vault is the default one under this machine's data dir

    def vault_b(self) -> Path:
        """B's vault (the default path, found once `init` made it)."""
        found = [p for p in self.b.vault.iterdir() if (p / ".git").exists()]
        assert len(found) == 1, found
        return found[0]

    def status_b(self) -> dict[str, object]:
        proc = self.b.run("status", "--json", env=self.env_b)
        return json.loads(proc.stdout)  # type: ignore[no-any-return]


def sync_side_by_side(a: Project, b: Project, rounds: int, newline: str = "") -> dict[str, list[str]]:
    """Machines a and b each write their own memory file (a: memory.json, b:
    gpt4o_memories.json) and sync, `rounds` times, both at once; every sync must succeed.
    The contents written, by machine."""
    written: dict[str, list[str]] = {"a": [], "b": []}
    codes: list[tuple[str, int, str]] = []

    def loop(name: str, project: Project, rel: str) -> None:
        for i in range(rounds):
            content = json.dumps({"machine": name, "round": i}) + newline
            project.write(rel, content)
            written[name].append(content)
            proc = project.sync()
            codes.append((name, proc.returncode, proc.stderr))

    threads = [threading.Thread(target=loop, args=("a", a, "memory.json")),
               threading.Thread(target=loop, args=("b", b, "gpt4o_memories.json"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [c for c in codes if c[1] != 0] == [], "\n".join(c[2] for c in codes)
    assert len(codes) == 2 * rounds
    return written

