"""Where memvault keeps things of its own: vaults, logs, the hook's config cache."""
from __future__ import annotations

import os
import sys


def project_id(project: str) -> str:
    """A short stable name for a project folder: its basename and a checksum of its path."""
    name = os.path.basename(project.rstrip(os.sep)) or "root"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    import zlib  # not at the top: the hook's no-change path never needs it

    return f"{safe}-{zlib.crc32(project.encode()):08x}"


def find_project(directory: str | None = None) -> str:
    """`-C DIR` if given, else the git top level of the current folder, else the folder.

    The top level is the nearest folder holding `.git` (a folder, or the file of a
    linked worktree or submodule): no git process, no environment variables.
    """
    if directory is not None:
        return os.path.realpath(directory)
    start = os.path.realpath(os.getcwd())
    here = start
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return start
        here = parent


def data_dir() -> str:
    import platformdirs

    return platformdirs.user_data_dir("memvault", appauthor=False)


def state_dir() -> str:
    import platformdirs

    return platformdirs.user_state_dir("memvault", appauthor=False)


def fast_cache_dir() -> str | None:
    """The hook's config cache folder, found without importing anything.

    On Linux and other XDG systems it is platformdirs' user_cache_dir (a test checks
    that the two agree); elsewhere there is no cache and hooks take the full path.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not base:
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "memvault")


def fast_state_dir() -> str | None:
    """platformdirs' user_state_dir on Linux and other XDG systems, found without importing
    it (the hook's path checks the trust record there); None elsewhere."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "memvault")


def make_private_dir(path: str) -> None:
    """Create a folder (and parents) readable by its owner alone."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o700)
