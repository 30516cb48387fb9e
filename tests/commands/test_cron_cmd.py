"""`memvault cron`: the real `crontab` command, the line run in cron's bare environment,
and the real cron daemon. The user's own crontab is saved and put back around each test."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Project
from support import make_project
from trigger_support import commit_count
from trigger_support import settle
from trigger_support import stored
from trigger_support import trailers

from memvault_hooks import config

OTHER_LINES = (
    "# the user's own table: every byte of it must survive\n"
    "MAILTO=\"\"\n"
    "0  *\t* * *   /usr/bin/true   # odd spacing, a tab\n"
    "@reboot /bin/true\n"
    "*/5 * * * * echo '\\%' >/dev/null\n"
    "\n"
)


def _table() -> str:
    proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    if proc.returncode != 0:
        assert "no crontab for" in proc.stderr, proc.stderr
        return ""
    return proc.stdout


def _set_table(text: str) -> None:
    if text:
        subprocess.run(["crontab", "-"], input=text, text=True, check=True)
    else:
        subprocess.run(["crontab", "-r"], capture_output=True)


@pytest.fixture
def user_crontab() -> Iterator[None]:
    """The real user's crontab, set to OTHER_LINES for the test and restored afterwards."""
    if shutil.which("crontab") is None:
        pytest.skip("crontab is not installed (.ci/run installs Debian's cron)")
    saved = _table()
    _set_table(OTHER_LINES)
    try:
        yield
    finally:
        _set_table(saved)


def _ours(table: str) -> list[str]:
    return [line for line in table.splitlines() if "# memvault-hooks cron " in line]


def _command_of(line: str) -> str:
    """What cron hands to /bin/sh for a 5-field line (cron turns `\\%` into `%`)."""
    return line.split(None, 5)[5].replace("\\%", "%")


def test_install_status_remove(project: Project, user_crontab: None) -> None:
    proc = project.run("cron", "install")
    assert proc.returncode == 0, proc.stderr
    table = _table()
    assert table.startswith(OTHER_LINES)
    (line,) = _ours(table)
    assert table == OTHER_LINES + line + "\n"
    assert line.startswith("*/15 * * * * ")  # the config's default schedule
    assert f"-C {project.root}" in line and "--trigger cron --quiet" in line
    assert os.path.abspath(sys.executable) in line

    proc = project.run("cron", "install")
    assert proc.returncode == 0 and "already installed" in proc.stdout
    assert _table() == table  # idempotent

    proc = project.run("cron", "install", "--schedule", "*/5  *  * * *")
    assert proc.returncode == 0, proc.stderr
    (line,) = _ours(_table())
    assert line.startswith("*/5 * * * * ")
    assert _table() == OTHER_LINES + line + "\n"  # replaced where it was

    proc = project.run("cron", "status")
    assert proc.returncode == 0 and line in proc.stdout  # SPEC: 0 when installed
    assert json.loads(project.run("status", "--json").stdout)["cron_installed"] is True

    (project.root.parent / "second").mkdir()
    other = make_project(project.root.parent / "second")
    assert other.run("cron", "install").returncode == 0
    assert len(_ours(_table())) == 2  # one line a project

    proc = project.run("cron", "remove")
    assert proc.returncode == 0, proc.stderr
    assert len(_ours(_table())) == 1
    assert other.run("cron", "remove").returncode == 0
    assert _table() == OTHER_LINES  # every other byte untouched
    proc = project.run("cron", "remove")
    assert proc.returncode == 0 and "no cron entry" in proc.stdout
    proc = project.run("cron", "status")
    assert proc.returncode == 1 and "no cron entry" in proc.stdout  # SPEC: 1 when not
    assert "memvault cron install" in proc.stdout
    assert json.loads(project.run("status", "--json").stdout)["cron_installed"] is False


@pytest.mark.parametrize("bad", ["61 * * * *", "* * *", "@daily", "* * * * * *", "every hour", "*/0 * * * *"])
def test_invalid_schedule_is_a_usage_error(project: Project, user_crontab: None, bad: str) -> None:
    proc = project.run("cron", "install", "--schedule", bad)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--schedule" in proc.stderr
    assert _table() == OTHER_LINES


@pytest.mark.parametrize("bad, said", [("61 * * * *", "minute field: 61 is out of range 0-59"),
                                       ("0 0 31 2 *", "never fires"), ("0 0 30 2 *", "never fires")])
def test_bad_field_and_never_firing_schedule_refused(project: Project, user_crontab: None, bad: str, said: str) -> None:
    proc = project.run("cron", "install", "--schedule", bad)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr
    project.config(f"version: 1\nvault:\n  path: {project.vault}\nschedule: '{bad}'\n")
    proc = project.run("cron", "install")
    assert proc.returncode == 2 and said in proc.stderr and "schedule" in proc.stderr, proc.stderr
    assert _table() == OTHER_LINES


def test_schedule_from_config(project: Project, user_crontab: None) -> None:
    project.config(f"version: 1\nvault:\n  path: {project.vault}\nschedule: '7 */2 * * 1-5'\n")
    assert project.run("cron", "install").returncode == 0
    (line,) = _ours(_table())
    assert line.startswith("7 */2 * * 1-5 ")
    project.config(f"version: 1\nvault:\n  path: {project.vault}\nschedule: '7 25 * * *'\n")
    proc = project.run("cron", "install")
    assert proc.returncode == 2
    assert ".memvault.yaml" in proc.stderr and "schedule" in proc.stderr
    assert _ours(_table()) == [line]


def test_config_schedule_validation() -> None:
    from memvault_hooks.errors import ConfigError

    raw = {"schedule": "0   12 * * mon"}
    assert config._build("/tmp/p", "/tmp/p/.memvault.yaml", raw).schedule == "0 12 * * mon"
    with pytest.raises(ConfigError, match="schedule"):
        config._build("/tmp/p", "/tmp/p/.memvault.yaml", {"schedule": "0 12 * * mon extra"})
    with pytest.raises(ConfigError, match="schedule"):
        config._build("/tmp/p", "/tmp/p/.memvault.yaml", {"schedule": "0 12 32 * *"})


def test_missing_crontab_is_a_clear_error(project: Project, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin-without-crontab"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    env = dict(os.environ, PATH=str(bin_dir))
    for action in ("install", "status", "remove"):
        proc = project.run("cron", action, env=env)
        assert proc.returncode == 1, proc.stderr
        assert "crontab" in proc.stderr and "not installed" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(project.run("status", "--json", env=env).stdout)["cron_installed"] is False


def _cron_home() -> str:
    return pwd.getpwuid(os.getuid()).pw_dir


@pytest.mark.parametrize("folder", ["plain", "it's 100% mine"])
def test_line_works_in_crons_bare_environment(tmp_path: Path, user_crontab: None, folder: str) -> None:
    """No vault path in the config: the defaults come from the test's private XDG folders,
    which cron's environment does not have; the line must carry them. Quotes, spaces and
    `%` (a newline to cron) in the project's path survive."""
    (tmp_path / folder).mkdir()
    project = make_project(tmp_path / folder)
    project.config("version: 1\n")
    assert project.run("cron", "install").returncode == 0
    cfg = config.load(str(project.root))
    vault = Path(cfg.vault_path)
    assert str(vault).startswith(os.environ["XDG_DATA_HOME"])
    (line,) = _ours(_table())
    proc = subprocess.run(["env", "-i", f"HOME={_cron_home()}", "PATH=/usr/bin:/bin", "SHELL=/bin/sh",
                           "sh", "-c", _command_of(line)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert trailers(vault)["Memvault-Trigger"] == "cron"
    assert stored(vault, "memory.json") == (project.root / "memory.json").read_bytes()
    log = Path(cfg.log_file)
    assert "trigger=cron ok" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


def _cron_running() -> bool:
    """A cron daemon the machine already runs (it would refuse a second one)."""
    try:
        pid = int(Path("/run/crond.pid").read_text().split()[0])
        return Path(f"/proc/{pid}/comm").read_text().strip() == "cron"
    except (OSError, ValueError, IndexError):
        return False


@pytest.mark.slow
def test_real_cron_daemon_runs_the_entry(project: Project, user_crontab: None) -> None:
    daemon = shutil.which("cron") or ("/usr/sbin/cron" if os.path.exists("/usr/sbin/cron") else None)
    if daemon is None:
        pytest.skip("the cron daemon is not installed (.ci/run installs Debian's cron)")
    if os.getuid() != 0:
        pytest.skip("the cron daemon runs as root")
    assert project.run("cron", "install", "--schedule", "* * * * *").returncode == 0
    cron_daemon = None
    if not _cron_running():
        cron_daemon = subprocess.Popen([daemon, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and commit_count(project.vault) == 0:
            if cron_daemon is not None:
                assert cron_daemon.poll() is None, cron_daemon.stderr.read() if cron_daemon.stderr else ""
            time.sleep(1)
    finally:
        if cron_daemon is not None:
            os.killpg(cron_daemon.pid, signal.SIGTERM)
            cron_daemon.wait(timeout=30)
    settle(project.vault)
    assert commit_count(project.vault) >= 1, "cron did not run the entry within 150 s"
    assert trailers(project.vault)["Memvault-Trigger"] == "cron"
    assert stored(project.vault, "memory.json") == (project.root / "memory.json").read_bytes()
