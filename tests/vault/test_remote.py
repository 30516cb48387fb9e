"""The vault's remote: push on sync, the offline backlog, several machines on one remote,
crashes in the middle, and `check_tips`. Real remotes only (bare repos, git daemon)."""
from __future__ import annotations

import json
import os
import pty
import random
import select
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from memvault_hooks import config as config_mod
from memvault_hooks.vault import remote
from memvault_hooks.vault import vault
from remote_support import AUTH_REPLY
from remote_support import LoopbackServer
from remote_support import bare_remote
from remote_support import free_port
from remote_support import fsck
from remote_support import git_daemon  # noqa: F401  (fixture)
from remote_support import machine
from remote_support import set_remote
from remote_support import status
from remote_support import tip_content
from remote_support import versions
from remote_support import sync_side_by_side
from support import MEMVAULT
from support import Project
from support import git
from support import wait_idle


def _cfg(project: Project) -> config_mod.Config:
    return config_mod.load(str(project.root))


def _remote_head(repo: Path) -> str:
    return git(repo, "rev-parse", "refs/heads/main").strip()


def _vault_head(project: Project) -> str:
    return git(project.vault, "rev-parse", "HEAD").strip()


def _assert_clean(project: Project) -> None:
    assert git(project.vault, "status", "--porcelain") == ""
    assert git(project.vault, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    for name in ("rebase-merge", "rebase-apply", vault.RESET_MARKER, vault.REPLAY_INDEX):
        assert not (project.vault / ".git" / name).exists(), name


# --- push on sync, backlog -----------------------------------------------------------------

def test_every_committing_sync_pushes(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    assert _remote_head(origin) == _vault_head(a)
    a.write("memory.json", '{"second": true}')
    assert a.sync().returncode == 0
    assert _remote_head(origin) == _vault_head(a)
    assert tip_content(origin, "memory.json") == '{"second": true}'
    assert git(a.vault, "remote", "get-url", "origin").strip() == str(origin)
    assert status(a)["push_pending"] == 0
    fsck(origin)


def test_remote_away_for_three_syncs_then_back(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    assert a.sync().returncode == 0
    away = tmp_path / "elsewhere.git"
    origin.rename(away)
    for i in range(1, 4):
        a.write("memory.json", json.dumps({"offline": i}))
        proc = a.sync()
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "push to" in proc.stderr and f"{i} backup(s) kept" in proc.stderr
        assert "backed up" in proc.stdout  # the local commit was made
        report = status(a)
        assert report["push_pending"] == i
        assert report["ok"] is False and "push to" in report["last_error"]["message"]  # type: ignore[index]
    assert len(a.log()) == 4
    error_log = Path(_cfg(a).error_log).read_text()
    assert error_log.count("push to") == 3
    away.rename(origin)
    proc = a.sync()  # nothing new to commit: the backlog alone is pushed
    assert proc.returncode == 0, proc.stderr
    assert "nothing to back up" in proc.stdout
    assert _remote_head(origin) == _vault_head(a)
    assert versions(origin, "memory.json")[1:] == [json.dumps({"offline": i}) for i in range(1, 4)]
    assert a.run("ack", "memory.json").returncode == 0  # the seed's memory.json cut to one value: a loss alert
    report = status(a)
    assert report["push_pending"] == 0 and report["ok"] is True
    assert a.sync().returncode == 0  # and the fast path is back: nothing waits
    fsck(origin)


def _leave_unpushed(project: Project, origin: Path, content: str) -> None:
    """One backup the remote has not seen: made (exit 1, kept locally) while the remote is away."""
    away = origin.with_name("away.git")
    origin.rename(away)
    project.write("memory.json", content)
    assert project.sync().returncode == 1
    away.rename(origin)


def test_hook_pushes_the_backlog_with_nothing_new(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    assert a.sync().returncode == 0
    _leave_unpushed(a, origin, '{"queued": 1}')
    # as git runs it: from a parent process that returns (the detached sync waits for it)
    hook = " ".join(shlex.quote(arg) for arg in [*MEMVAULT, "hook", "post-commit"])
    proc = subprocess.run(["sh", "-c", hook], cwd=a.root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    wait_idle(a.vault)
    assert _remote_head(origin) == _vault_head(a)
    assert status(a)["push_pending"] == 0


def _run_detached_from_input(project: Project, timeout: float = 90) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run `sync` with a terminal (a pty) as stdin and controlling terminal that nobody
    types into; return the run and whatever it wrote to that terminal."""
    master, slave = pty.openpty()

    def _ctty() -> None:
        import fcntl
        import termios

        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        proc = subprocess.Popen([*MEMVAULT, "sync"], cwd=project.root, stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_ctty)
        out, err = proc.communicate(timeout=timeout)  # a hang guard, not a speed assertion
        written = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(master)
        os.close(slave)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), written


def test_closed_https_port_fails_without_reading_stdin(tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}/vault.git"
    a = machine(tmp_path, "a", url, timeout=10)
    proc = subprocess.Popen([*MEMVAULT, "sync"], cwd=a.root, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)  # stdin is a pipe nobody writes to
    assert proc.returncode == 1, out + err
    assert "push to https://127.0.0.1" in err and "1 backup(s) kept" in err
    assert len(a.log()) == 1 and status(a)["push_pending"] == 1
    # the same from a terminal: nothing is asked on it
    a.write("memory.json", '{"from": "a terminal"}')
    done, written = _run_detached_from_input(a)
    assert done.returncode == 1, done.stderr
    assert written == b""
    assert status(a)["push_pending"] == 2


def test_password_request_is_refused_not_prompted(tmp_path: Path) -> None:
    server = LoopbackServer(AUTH_REPLY)
    try:
        a = machine(tmp_path, "a", f"http://127.0.0.1:{server.port}/vault.git", timeout=10)
        done, written = _run_detached_from_input(a)
    finally:
        server.close()
    assert server.requests >= 1  # git did reach the server and was asked for credentials
    assert done.returncode == 1, done.stderr
    assert "push to http://127.0.0.1" in done.stderr
    assert written == b"" and b"Username" not in written
    assert status(a)["push_pending"] == 1


def test_silent_server_is_cut_off_by_vault_timeout(tmp_path: Path) -> None:
    server = LoopbackServer(None)  # accepts, then never answers
    try:
        a = machine(tmp_path, "a", f"http://127.0.0.1:{server.port}/vault.git", timeout=2)
        proc = a.sync()  # support.memvault's own 120 s timeout would fail the test on a hang
    finally:
        server.close()
    assert proc.returncode == 1, proc.stderr
    assert "timed out after 2s" in proc.stderr
    assert status(a)["push_pending"] == 1
    assert len(a.log()) == 1


def test_no_remote_means_no_push_and_nothing_pending(project: Project) -> None:
    assert project.sync().returncode == 0
    assert git(project.vault, "remote") == ""
    assert status(project)["push_pending"] == 0


# --- several machines ------------------------------------------------------------------------

def test_two_machines_in_parallel_eight_syncs_each(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", origin)
    written = sync_side_by_side(a, b, 8)
    assert set(written["a"]) <= set(versions(origin, "memory.json"))
    assert set(written["b"]) <= set(versions(origin, "gpt4o_memories.json"))
    # Commit times count seconds: each machine's first backup also holds the other's file
    # as it was, and within one second which is newer is not known (README). One more
    # round, a second later, must end with each machine's last write at the tip.
    time.sleep(1.1)
    for name, project, rel in (("a", a, "memory.json"), ("b", b, "gpt4o_memories.json")):
        last = json.dumps({"machine": name, "round": "last"})
        project.write(rel, last)
        written[name].append(last)
        assert project.sync().returncode == 0
    assert tip_content(origin, "memory.json") == written["a"][-1]
    assert tip_content(origin, "gpt4o_memories.json") == written["b"][-1]
    # linear history, no merge commits, nothing forced: both vaults are ancestors of the remote
    assert git(origin, "rev-list", "--merges", "main") == ""
    for project in (a, b):
        git(origin, "merge-base", "--is-ancestor", _vault_head(project), "main")
        assert status(project)["push_pending"] == 0
        _assert_clean(project)
    fsck(origin)


def test_same_file_newer_backup_pushed_second_wins(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", origin)
    assert a.sync().returncode == 0 and b.sync().returncode == 0
    a.write("memory.json", '{"by": "a"}')
    assert a.sync().returncode == 0
    time.sleep(1.1)  # commit times have one-second resolution
    b.write("memory.json", '{"by": "b"}')
    proc = b.sync()  # refused (a pushed), fetch, put b's backup on top, push again
    assert proc.returncode == 0, proc.stderr
    assert {'{"by": "a"}', '{"by": "b"}'} <= set(versions(origin, "memory.json"))
    assert tip_content(origin, "memory.json") == '{"by": "b"}'
    assert (b.stored / "memory.json").read_text() == '{"by": "b"}'
    _assert_clean(b)


def test_same_file_older_backup_pushed_later_keeps_newer_at_tip(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    link = tmp_path / "link.git"  # b reaches the shared remote through a link it can lose
    link.symlink_to(origin)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", link)
    assert a.sync().returncode == 0 and b.sync().returncode == 0
    link.unlink()
    b.write("memory.json", '{"by": "b", "offline": true}')
    assert b.sync().returncode == 1  # committed locally, push failed
    time.sleep(1.1)
    a.write("memory.json", '{"by": "a", "newer": true}')
    assert a.sync().returncode == 0
    link.symlink_to(origin)
    proc = b.sync()
    assert proc.returncode == 0, proc.stderr
    history = versions(origin, "memory.json")
    assert '{"by": "b", "offline": true}' in history and '{"by": "a", "newer": true}' in history
    assert tip_content(origin, "memory.json") == '{"by": "a", "newer": true}'
    assert git(origin, "log", "-1", "--format=%(trailers:key=Memvault-Trigger,valueonly)", "main").strip() == "merge"
    # b's vault follows the tip; b's own (older) file is not pushed again by later syncs
    assert (b.stored / "memory.json").read_text() == '{"by": "a", "newer": true}'
    _assert_clean(b)
    os.utime(b.root / "memory.json")  # stat changes, content does not: re-read, not re-committed
    head = _remote_head(origin)
    assert b.sync().returncode == 0
    assert _remote_head(origin) == head
    assert status(b)["changed"] == ["memory.json"]  # honest: b's live file differs from the tip


def test_machine_with_its_own_history_joins_a_shared_remote(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", None, files=("claude_opus_memories.json",))
    a.write("memory.json", '{"from": "a"}')
    assert a.sync().returncode == 0
    assert b.sync().returncode == 0 and b.sync().returncode == 0
    b.write("claude_opus_memories.json", '{"from": "b"}')
    assert b.sync().returncode == 0
    set_remote(b, origin)
    proc = b.sync()  # unrelated histories: b's backups go on top of a's
    assert proc.returncode == 0, proc.stderr
    assert tip_content(origin, "memory.json") == '{"from": "a"}'
    assert tip_content(origin, "claude_opus_memories.json") == '{"from": "b"}'
    assert len(versions(origin, "claude_opus_memories.json")) == 2
    assert (b.stored / "memory.json").read_text() == '{"from": "a"}'
    _assert_clean(b)


# --- crashes ---------------------------------------------------------------------------------

def test_kill9_during_fetch_and_integrate_then_clean_run(tmp_path: Path, isolated_home: Path) -> None:
    # Every fetch from the remote is slowed down, so kills land in it as well as in the replay.
    slow = isolated_home / "slow-pack-objects"
    slow.write_text('#!/bin/sh\nsleep 0.3\nexec "$@"\n')
    slow.chmod(0o755)
    with open(isolated_home / ".gitconfig", "a") as f:
        f.write(f"[uploadpack]\n\tpackObjectsHook = {slow}\n")
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", origin)
    assert a.sync().returncode == 0 and b.sync().returncode == 0
    rng = random.Random(5)
    for i in range(10):
        b.write("gpt4o_memories.json", json.dumps({"b": i}))
        assert b.sync().returncode == 0
        a.write("memory.json", json.dumps({"a": i, "pad": "x" * rng.randrange(50_000)}))
        proc = subprocess.Popen([*MEMVAULT, "sync"], cwd=a.root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.15, 0.9))  # from before the fetch to after the push
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    a.write("memory.json", json.dumps({"a": "final"}))
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    _assert_clean(a)
    fsck(a.vault)
    fsck(origin)
    assert _remote_head(origin) == _vault_head(a)
    assert tip_content(origin, "memory.json") == json.dumps({"a": "final"})
    # nothing lost: every b version, and every a version that a's branch ever held
    assert {json.dumps({"b": i}) for i in range(10)} <= set(versions(origin, "gpt4o_memories.json"))
    ever = set()
    for sha in git(a.vault, "rev-list", "--reflog").split():
        shown = subprocess.run(["git", "-C", str(a.vault), "show", f"{sha}:rAgentShared/memory.json"],
                               capture_output=True, text=True)
        if shown.returncode == 0:
            ever.add(shown.stdout)
    assert ever <= set(versions(origin, "memory.json"))


def test_vault_left_mid_rebase_is_recovered(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    assert a.sync().returncode == 0
    # someone left a conflicting `git rebase` in the vault
    git(a.vault, "checkout", "-q", "-b", "side", "HEAD")
    (a.stored / "memory.json").write_text('{"side": 1}')
    git(a.vault, "commit", "-qam", "side")
    git(a.vault, "checkout", "-q", "main")
    a.write("memory.json", '{"main": 1}')
    assert a.sync().returncode == 0
    git(a.vault, "checkout", "-q", "side")
    git(a.vault, "rebase", "main", check=False)
    assert (a.vault / ".git" / "rebase-merge").exists() or (a.vault / ".git" / "rebase-apply").exists()
    a.write("memory.json", '{"main": 2}')
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    _assert_clean(a)
    assert tip_content(origin, "memory.json") == '{"main": 2}'
    assert git(a.vault, "log", "-1", "--format=%s", "side").strip() == "side"  # nothing dropped
    fsck(a.vault)


def test_run_killed_while_moving_the_branch_is_finished_by_the_next(tmp_path: Path) -> None:
    a = machine(tmp_path, "a", bare_remote(tmp_path))
    assert a.sync().returncode == 0
    # what a run killed between `update-ref` and `reset --hard` leaves: a stale index
    git(a.vault, "read-tree", "--empty")
    (a.vault / ".git" / vault.RESET_MARKER).touch()
    a.write("gpt4o_memories.json", '{"next": 1}')
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    changed = git(a.vault, "show", "--name-status", "--format=", "HEAD").split()
    assert changed == ["M", "rAgentShared/gpt4o_memories.json"]  # memory.json was not deleted
    _assert_clean(a)


# --- the git protocol --------------------------------------------------------------------------

def test_git_daemon_round_trip(tmp_path: Path, git_daemon: tuple[Path, str]) -> None:  # noqa: F811
    served, base_url = git_daemon
    bare_remote(served, "vault.git")
    url = f"{base_url}/vault.git"
    a = machine(tmp_path, "a", url)
    a.write("memory.json", '{"over": "git://"}')
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    assert _remote_head(served / "vault.git") == _vault_head(a)
    b = machine(tmp_path, "b", url, files=("gpt4o_memories.json",))
    b.write("gpt4o_memories.json", '{"b": 1}')
    assert b.sync().returncode == 0  # refused, fetched over git://, integrated, pushed
    assert tip_content(served / "vault.git", "memory.json") == '{"over": "git://"}'
    assert tip_content(served / "vault.git", "gpt4o_memories.json") == '{"b": 1}'
    assert remote.check_tips(_cfg(b))[0] is True
    fsck(served / "vault.git")


# --- check_tips -----------------------------------------------------------------------------------

def test_check_tips_reports_agreement_and_disagreement(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", origin)
    assert a.sync().returncode == 0
    ok, detail = remote.check_tips(_cfg(a))
    assert ok is True and _vault_head(a)[:12] in detail and "agree" in detail

    b.write("gpt4o_memories.json", '{"b": 1}')
    assert b.sync().returncode == 0  # b's backups go on top: a's tip is behind, but on the remote
    ok, detail = remote.check_tips(_cfg(a))
    assert ok is True and "holds every local backup" in detail

    origin.rename(tmp_path / "away.git")
    ok, detail = remote.check_tips(_cfg(a))
    assert ok is False and "cannot be reached" in detail
    a.write("memory.json", '{"late": 1}')
    assert a.sync().returncode == 1
    (tmp_path / "away.git").rename(origin)
    ok, detail = remote.check_tips(_cfg(a))
    assert ok is False and "diverged" in detail

    assert a.sync().returncode == 0
    assert remote.check_tips(_cfg(a)) == (True, f"local and remote tips agree at {_vault_head(a)[:12]}")

    c = machine(tmp_path, "c", tmp_path / "empty.git")
    bare_remote(tmp_path, "empty.git")
    c.run("init")
    ok, detail = remote.check_tips(_cfg(c))
    assert ok is True and "no backups yet" in detail
    set_remote(c, None)
    assert remote.check_tips(_cfg(c))[0] is True


def test_check_tips_local_ahead(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    assert a.sync().returncode == 0
    _leave_unpushed(a, origin, '{"ahead": 1}')
    ok, detail = remote.check_tips(_cfg(a))
    assert ok is False and "1 backup(s) ahead" in detail


def test_rejections_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A remote that keeps moving: after MAX_ATTEMPTS the backups wait, nothing is forced."""
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    b = machine(tmp_path, "b", origin)
    assert a.sync().returncode == 0 and b.sync().returncode == 0
    b.write("gpt4o_memories.json", '{"b": "moved"}')
    assert b.sync().returncode == 0
    a.write("memory.json", '{"a": "waits"}')
    monkeypatch.setattr(remote, "MAX_ATTEMPTS", 1)
    from memvault_hooks.vault import backup

    result = backup.run_locked(_cfg(a), "manual")
    assert result.exit_code == 1
    assert "kept refusing" in result.errors[0]
    assert git(origin, "log", "-1", "--format=%s", "main") == git(b.vault, "log", "-1", "--format=%s")


def test_detached_vault_head_is_put_back_on_the_branch(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    assert a.sync().returncode == 0
    a.write("memory.json", '{"n": 2}')
    assert a.sync().returncode == 0
    git(a.vault, "checkout", "-q", "--detach", "HEAD~1")  # someone looked at an old backup
    a.write("memory.json", '{"n": 3}')
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    _assert_clean(a)
    assert versions(origin, "memory.json")[-2:] == ['{"n": 2}', '{"n": 3}']


def test_verify_reports_the_remote_tips(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    assert a.sync().returncode == 0

    def remote_row() -> tuple[int, dict[str, object]]:
        proc = a.run("verify", "--json")
        rows = {row["name"]: row for row in json.loads(proc.stdout)["checks"]}
        return proc.returncode, rows["remote"]

    code, row = remote_row()
    assert code == 0 and row["ok"] is True and _vault_head(a)[:12] in str(row["detail"])
    _leave_unpushed(a, origin, '{"unpushed": 1}')
    code, row = remote_row()
    assert code == 1 and row["ok"] is False and "ahead" in str(row["detail"])


def test_relative_remote_path_is_read_from_the_project(tmp_path: Path) -> None:
    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", "../../remote.git")  # the project is tmp_path/a/project
    proc = a.sync()
    assert proc.returncode == 0, proc.stderr
    assert _remote_head(origin) == _vault_head(a)
    assert remote.check_tips(_cfg(a))[0] is True


@pytest.mark.parametrize("how", ["core.sshCommand", "GIT_SSH"])
def test_users_ssh_command_is_kept_and_cannot_prompt(tmp_path: Path, isolated_home: Path, how: str) -> None:
    """The user's own ssh setup is used (not overridden by our batch-mode default), runs
    without stdin or a terminal, and its failure leaves a backlog."""
    seen = tmp_path / "ssh-called"
    fake = tmp_path / "fake-ssh"
    fake.write_text(f'#!/bin/sh\n[ "$1" = -G ] && exit 0  # git asking which ssh this is\n'
                    f'echo "$@" >> {seen}\ntest -t 0 && echo tty >> {seen}\n'
                    f'(: < /dev/tty) 2>/dev/null && echo ctty >> {seen}\nexit 255\n')
    fake.chmod(0o755)
    env = dict(os.environ)
    if how == "core.sshCommand":
        with open(isolated_home / ".gitconfig", "a") as f:
            f.write(f"[core]\n\tsshCommand = {fake}\n")
    else:
        env["GIT_SSH"] = str(fake)
    a = machine(tmp_path, "a", "ssh://git@127.0.0.1:1/vault.git", timeout=10)
    proc = a.sync(env=env)
    assert proc.returncode == 1, proc.stderr
    assert "1 backup(s) kept" in proc.stderr
    lines = seen.read_text().splitlines()
    assert "127.0.0.1" in lines[0] and "git-receive-pack" in lines[0]
    assert lines[1:] == []  # stdin is no terminal, and there is no controlling terminal


def test_sync_once_commits_and_the_caller_pushes(tmp_path: Path) -> None:
    """sync_once never reaches the network; push_now and run_locked push what waits."""
    from memvault_hooks.vault import backup
    from memvault_hooks.vault import file_lock
    from memvault_hooks.vault import state

    origin = bare_remote(tmp_path)
    a = machine(tmp_path, "a", origin)
    cfg = _cfg(a)
    a.write("memory.json", '{"n": 1}')
    with file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT):
        result = backup.sync_once(cfg, "manual")
    assert result.commit and result.errors == []
    assert git(origin, "for-each-ref").strip() == ""  # nothing pushed by the commit step
    assert state.load(cfg.vault_path)["push_pending"] == 1  # ... and the record says it waits
    with file_lock.locked(cfg.vault_path, backup.LOCK_TIMEOUT):
        assert backup.push_now(cfg) is None
    assert _remote_head(origin) == result.commit
    assert state.load(cfg.vault_path)["push_pending"] == 0
    a.write("memory.json", '{"n": 2}')
    file_lock.mark_pending(cfg.vault_path, "post-rewrite")  # a hook asked meanwhile: taken by this run
    pushes_before = len(git(a.vault, "reflog", "show", "--format=%gs", f"refs/remotes/origin/{cfg.branch}").split("\n"))
    total = backup.run_locked(cfg, "manual")
    assert total.errors == [] and _remote_head(origin) == _vault_head(a)
    reflog = git(a.vault, "reflog", "show", "--format=%gs", f"refs/remotes/origin/{cfg.branch}").split("\n")
    assert len(reflog) == pushes_before + 1  # one push for the run
    assert file_lock.read_pending(cfg.vault_path) is None


def test_a_remote_added_to_a_vault_with_backups_gets_them_at_the_next_sync(tmp_path: Path) -> None:
    """Backups made before `vault.remote` was set are pushed by the next sync, changed or not
    (a newcomer's dead end: "nothing to back up", push pending 0, verify FAIL)."""
    project = machine(tmp_path, "a", None)
    assert project.sync().returncode == 0
    project.write("memory.json", json.dumps({"second": True}))
    assert project.sync().returncode == 0
    local_tip = git(project.vault, "rev-parse", "HEAD").strip()
    bare = bare_remote(tmp_path)
    set_remote(project, bare)
    proc = project.sync()  # nothing changed in the memory files
    assert proc.returncode == 0, proc.stderr
    assert git(bare, "rev-parse", "main").strip() == local_tip
    assert status(project)["push_pending"] == 0
    assert project.run("verify").returncode == 0
    # and through the hook's no-change path, for a remote that changes once more
    other = bare_remote(tmp_path, "other.git")
    set_remote(project, other)
    proc = project.run("hook", "post-commit")
    assert proc.returncode == 0, proc.stderr
    wait_idle(project.vault)
    assert git(other, "rev-parse", "main").strip() == local_tip
