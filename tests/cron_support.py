"""The real user crontab, saved and put back around a test; the real cron daemon."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator

import pytest


def table() -> str:
    proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    if proc.returncode != 0:
        assert "no crontab for" in proc.stderr, proc.stderr
        return ""
    return proc.stdout


def set_table(text: str) -> None:
    if text:
        subprocess.run(["crontab", "-"], input=text, text=True, check=True)
    else:
        subprocess.run(["crontab", "-r"], capture_output=True)


@pytest.fixture
def saved_crontab() -> Iterator[None]:
    """The user's crontab, emptied for the test and restored afterwards."""
    if shutil.which("crontab") is None:
        pytest.skip("crontab is not installed (.ci/run installs Debian's cron)")
    saved = table()
    set_table("")
    try:
        yield
    finally:
        set_table(saved)


def daemon_running() -> bool:
    """Seen independently of memvault's own check: `pgrep -x cron|crond`."""
    return subprocess.run(["pgrep", "-x", "cron|crond"], capture_output=True).returncode == 0


@contextlib.contextmanager
def cron_daemon() -> Iterator[None]:
    """A cron daemon running for the block: the machine's own, or one started (and stopped) here."""
    if daemon_running():
        yield
        return
    daemon = shutil.which("cron") or ("/usr/sbin/cron" if os.path.exists("/usr/sbin/cron") else None)
    if daemon is None or os.getuid() != 0:
        pytest.skip("no cron daemon to start (it is installed by .ci/run and runs as root)")
    proc = subprocess.Popen([daemon, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
