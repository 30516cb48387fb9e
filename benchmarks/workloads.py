"""What the benchmark cases are made of: memory files, projects, vaults and git repos,
all built in private temporary folders, with the helpers that change them between runs."""
from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import subprocess
import sys
import time

from memvault_hooks.hook_scripts import ENTRY

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
# The `memvault` command; in the benchmark's venv, the console script pip writes for
# `[project.scripts]` (CONSOLE_SCRIPT: no runpy, which `python -m` adds, ~4 ms).
MEMVAULT = [PYTHON, "-m", "memvault_hooks"]
# The sync as the crontab line starts it (commands/cron.py): the entry itself, no runpy.
CRON_SYNC = [PYTHON, "-c", ENTRY]   # (without -I: the package may come from PYTHONPATH here)
# pip's console script for `memvault = "memvault_hooks.main:main"`, word for word.
CONSOLE_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from memvault_hooks.main import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def use_python(python: str) -> None:
    """Run everything with the benchmark venv's `python`, and `memvault` as its console script."""
    global PYTHON, MEMVAULT, CRON_SYNC
    PYTHON = python
    script = os.path.join(os.path.dirname(python), "memvault")
    with open(script, "w", encoding="utf-8") as f:
        f.write(CONSOLE_SCRIPT.format(python=python))
    os.chmod(script, 0o755)
    MEMVAULT = [script]
    CRON_SYNC = [python, "-I", "-c", ENTRY]


def plain_install(root: str) -> str | None:
    """A venv where memvault_hooks is a plain folder on sys.path, as in a regular install.

    An editable install (`pip install -e`) adds an import hook that costs every Python
    start ~10-20 ms (pathlib and friends); users' installs have none, and the benchmark
    should not charge it to either side. The venv borrows this interpreter's packages.
    """
    import site
    import sysconfig

    venv = os.path.join(root, "venv")
    proc = subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], capture_output=True)
    if proc.returncode != 0:
        return None
    python = os.path.join(venv, "bin", "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True).stdout.strip()
    if not purelib:
        return None
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    with open(os.path.join(purelib, "memvault-bench.pth"), "w", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in (REPO, *sorted(ours))))
    # Byte code compiled, as pip leaves an install (PYTHONDONTWRITEBYTECODE would have
    # every run compile the package anew).
    subprocess.run([python, "-m", "compileall", "-q", os.path.join(REPO, "memvault_hooks")], capture_output=True)
    return python
WORDS = ("memory agent context user prefers likes project deadline summary note token "
         "window recall fact tool answer style detail language reminder").split()
# Where the JSON files made here keep a fixed-width counter that edits overwrite in place.
STAMP = b'{"stamp": "'
STAMP_WIDTH = 10


def private_env(home: str) -> dict[str, str]:
    """A private HOME and XDG folders, a fixed git identity, no system git config."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
    }
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, ".gitconfig"), "w", encoding="utf-8") as f:
        f.write("[user]\n\tname = Bench\n\temail = bench@example.invalid\n"
                "[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n")
    return env


def run(argv: list[str], cwd: str, env: dict[str, str], input: bytes | None = None) -> bytes:
    proc = subprocess.run(argv, cwd=cwd, env=env, input=input, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def git(cwd: str, env: dict[str, str], *args: str) -> bytes:
    return run(["git", *args], cwd, env)


def json_bytes(size: int, seed: int) -> bytes:
    """A JSON document of about `size` bytes that looks like an agent's memory."""
    rng = random.Random(seed)
    parts = [STAMP + b"0" * STAMP_WIDTH + b'", "entries": [']
    total = len(parts[0])
    n = 0
    while total < size - 200:
        entry = json.dumps({"id": n, "text": " ".join(rng.choices(WORDS, k=12)),
                            "score": round(rng.random(), 6), "tags": rng.sample(WORDS, 3)}).encode()
        parts.append((b"," if n else b"") + entry)
        total += len(parts[-1])
        n += 1
    parts.append(b"]}")
    return b"".join(parts)


def write_json(path: str, size: int, seed: int = 1) -> None:
    """Write a large JSON file in pieces (never the whole document in memory)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    piece = 4 << 20
    with open(path, "wb") as f:
        if size <= piece:
            f.write(json_bytes(size, seed))
            return
        head = json_bytes(piece, seed)[:-2]       # '{"stamp": ..., "entries": [...' without ']}'
        f.write(head)
        written = len(head)
        filler = json_bytes(piece, seed + 1)
        body = filler[filler.index(b"[") + 1:-2]  # the entries alone
        while written + len(body) + 3 < size:
            f.write(b"," + body)
            written += len(body) + 1
        f.write(b"]}")


def bump(path: str, counter: int, at: int | None = None) -> None:
    """A small edit in place: overwrite the stamp (or the bytes at `at`) with a counter."""
    with open(path, "r+b") as f:
        f.seek(len(STAMP) if at is None else at)
        f.write(b"%0*d" % (STAMP_WIDTH, counter % 10**STAMP_WIDTH))


def text_offsets(path: str, count: int, seed: int) -> list[int]:
    """Offsets inside the "text" strings of a JSON file made here: digits written there keep it valid."""
    marker = b'"text": "'
    with open(path, "rb") as f:
        data = f.read()
    offsets = []
    at = data.find(marker)
    while at >= 0:
        offsets.append(at + len(marker))
        at = data.find(marker, at + 1)
    return random.Random(seed).sample(offsets, min(count, len(offsets)))


def loose_objects(git_dir: str) -> int:
    objects = os.path.join(git_dir, "objects")
    return sum(len(os.listdir(os.path.join(objects, d))) for d in os.listdir(objects)
               if len(d) == 2 and os.path.isdir(os.path.join(objects, d)))


def age(path: str, seconds: float = 120.0) -> None:
    """Set a file's times into the past, so a sync never sees it in git's racy window."""
    when = time.time() - seconds
    os.utime(path, (when, when))


def make_project(root: str, env: dict[str, str], files: dict[str, bytes] | None = None,
                 patterns: tuple[str, ...] | None = None) -> tuple[str, str]:
    """A git project with memory files and a vault beside it; returns (project, vault)."""
    project = os.path.join(root, "project")
    vault = os.path.join(root, "vault")
    os.makedirs(project)
    git(project, env, "init", "-q", "-b", "main")
    with open(os.path.join(project, "README.md"), "w", encoding="utf-8") as f:
        f.write("a project whose agents keep memory files\n")
    git(project, env, "add", "README.md")
    git(project, env, "commit", "-q", "-m", "initial")
    for rel, content in (files or {}).items():
        path = os.path.join(project, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        age(path)
    config = f"version: 1\nvault:\n  path: {json.dumps(vault)}\n"
    if patterns:
        config += "files:\n" + "".join(f"  - {json.dumps(p)}\n" for p in patterns)
    with open(os.path.join(project, ".memvault.yaml"), "w", encoding="utf-8") as f:
        f.write(config)
    age(os.path.join(project, ".memvault.yaml"))
    for base, _, _ in os.walk(project):
        if ".git" not in base.split(os.sep):
            age(base)
    return project, vault


def sync(project: str, env: dict[str, str]) -> None:
    run([*MEMVAULT, "-C", project, "sync", "--quiet"], project, env)


def plain_repo(root: str, env: dict[str, str], source: str | None = None) -> str:
    """A plain git repository, holding a copy of `source`'s files when given, committed."""
    repo = os.path.join(root, "plain")
    if source is not None:
        shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".git"))
    else:
        os.makedirs(repo)
    git(repo, env, "init", "-q", "-b", "main")
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "--allow-empty", "-m", "initial")
    return repo


def install_hook(project: str, name: str, body: str) -> None:
    hooks = os.path.join(project, ".git", "hooks")
    os.makedirs(hooks, exist_ok=True)
    path = os.path.join(hooks, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    os.chmod(path, 0o755)


def noop_hook() -> str:
    return f"#!/bin/sh\nexec '{PYTHON}' -c pass\n"


def wait_idle(vault: str, timeout: float = 120.0) -> None:
    """Until no memvault run holds the vault lock and none is pending (detached hook syncs)."""
    deadline = time.monotonic() + timeout
    lock = os.path.join(vault, ".memvault.lock")
    while time.monotonic() < deadline:
        busy = False
        if os.path.exists(lock):
            with open(lock, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(f, fcntl.LOCK_UN)
                except BlockingIOError:
                    busy = True
        if not busy and not os.path.exists(os.path.join(vault, ".memvault-pending")):
            return
        time.sleep(0.02)
    raise RuntimeError(f"vault {vault} still busy after {timeout}s")


def dir_size(path: str) -> int:
    """Bytes on disk (allocated blocks) under `path`, as `du` counts them."""
    total = 0
    for base, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(base, name)).st_blocks * 512
            except OSError:
                pass
    return total
