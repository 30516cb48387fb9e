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
