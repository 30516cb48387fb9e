"""Git's hook environment, scrubbed, and the one way this package runs git.

Inside a hook git exports GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE, ... which would
point any git call at the user's repository. Every git call here goes through
`run_git`, which drops them first (pre-commit's `no_git_env` is the model) and
disables prompts, so a call can never touch the project's index or hang on a tty.
"""
from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence

from memvault_hooks.errors import MemvaultError

_KEEP = frozenset({
    "GIT_EXEC_PATH",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY",
    "GIT_CONFIG_COUNT",
    "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_ALLOW_PROTOCOL",
    "GIT_ASKPASS",
})


def no_git_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without what git exports to hooks (keeps ssh/askpass/config)."""
    env = os.environ if env is None else env
    return {
        k: v for k, v in env.items()
        if not k.startswith("GIT_")
        or k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
        or k in _KEEP
    }


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A scrubbed environment that also never prompts for credentials."""
    env = no_git_env()
    env["GIT_TERMINAL_PROMPT"] = "0"
    if "GIT_SSH" not in env:  # GIT_SSH_COMMAND would silently override the user's GIT_SSH
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


# Settings every call on the vault carries, whatever the user's global config says.
VAULT_CONFIG = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "commit.gpgSign=false",
    "-c", "core.quotePath=false",
    "-c", "advice.detachedHead=false",
)


class GitError(MemvaultError):
    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {returncode}"
        super().__init__(f"git {' '.join(args[:2])} failed: {detail}")


def run_git(
    cwd: str,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C cwd args...` in a scrubbed environment; raise GitError on failure.

    With `timeout` (network operations) git runs in a session of its own, without a
    controlling terminal (so neither git, ssh nor a credential helper can prompt on it);
    its whole process group is killed when the time is up, and git itself (Linux) when
    this process dies, so a killed sync leaves no network git behind.
    """
    argv = ["git", "-C", cwd, *VAULT_CONFIG, *args]
    try:
        if timeout is not None:
            proc = _run_bounded(argv, input, git_env(env), timeout)
        else:
            proc = subprocess.run(
                argv,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                env=git_env(env),
                umask=0o077,  # vault objects, folders and files stay private to their owner
            )
    except subprocess.TimeoutExpired as exc:
        raise GitError(args, -1, f"timed out after {timeout:g}s") from exc
    except FileNotFoundError as exc:
        raise MemvaultError("git is not installed or not on PATH") from exc
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc


def _parent_death_signal() -> Callable[[], None] | None:
    """A function for the child, before exec, that has the kernel kill it when this
    process dies (Linux prctl PR_SET_PDEATHSIG); None elsewhere. Built in the parent."""
    if os.uname().sysname != "Linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def _set() -> None:
        prctl(1, signal.SIGKILL)

    return _set


def _run_bounded(argv: list[str], input: bytes | None, env: dict[str, str],
                 timeout: float) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        umask=0o077,
        start_new_session=True,
        preexec_fn=_parent_death_signal(),
    )
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.communicate(timeout=5)  # a stray grandchild may keep the pipes: do not wait on it
        except subprocess.TimeoutExpired:
            pass
        proc.kill()
        proc.wait()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def project_head(project: str) -> str | None:
    """The full sha of the project's HEAD (its own worktree's), or None outside git."""
    proc = run_git(project, "rev-parse", "--verify", "-q", "HEAD", check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None
