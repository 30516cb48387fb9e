"""The README documents every hook this repository offers to pre-commit."""
from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_readme_names_every_hook_id() -> None:
    readme = (REPO / "README.md").read_text()
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hooks, ".pre-commit-hooks.yaml declares no hook"
    for hook in hooks:
        assert f"id: {hook['id']}" in readme, f"README.md does not show the hook id {hook['id']}"


def test_readme_config_installs_every_stage_the_manifest_uses() -> None:
    readme = (REPO / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("default_install_hook_types: ["))
    installed = set(line.split("[", 1)[1].rstrip("]").replace(" ", "").split(","))
    for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text()):
        assert set(hook["stages"]) <= installed, hook["id"]


DEBIAN_SKEL_PROFILE = """\
# set PATH so it includes user's private bin if it exists
if [ -d "$HOME/bin" ] ; then
    PATH="$HOME/bin:$PATH"
fi

# set PATH so it includes user's private bin if it exists
if [ -d "$HOME/.local/bin" ] ; then
    PATH="$HOME/.local/bin:$PATH"
fi
"""


def _quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_quick_start_is_two_commands_and_ci_runs_the_test_command() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert "pytest" in commands[1]
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci, ".ci/run does not run the README's test command"


def test_quick_start_first_command_backs_up_a_project(tmp_path: Path) -> None:
    """The first command, run as written in a fresh project (installing from this checkout)."""
    import os
    import subprocess

    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "memory.json").write_text('{"user": {"likes": ["tea"]}}')
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "MEMVAULT_HOOKS": str(REPO),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
           "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    proc = subprocess.run(["bash", "-c", _quick_start()[0]], cwd=project, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (project / ".memvault.yaml").exists()
    stored = list((home / ".local/share/memvault/vaults").glob("*/rAgentShared/memory.json"))
    assert len(stored) == 1 and stored[0].read_text() == (project / "memory.json").read_text()
    assert "will back up 1 file" in proc.stdout and "memvault install-hooks" in proc.stdout

    # A new login shell of this user finds `memvault`: the bare environment of a fresh login
    # (env -i), the system's default PATH, and the ~/.profile a new Debian/Ubuntu user gets
    # from /etc/skel, which puts ~/.local/bin on PATH once it exists.
    (home / ".profile").write_text(DEBIAN_SKEL_PROFILE)
    login = subprocess.run(["env", "-i", f"HOME={home}", "PATH=/usr/local/bin:/usr/bin:/bin",
                            "sh", "-lc", "command -v memvault && memvault --version"],
                           cwd=project, capture_output=True, text=True)
    assert login.returncode == 0, login.stdout + login.stderr
    found, version = login.stdout.splitlines()
    assert found == str(home / ".local/bin/memvault")
    assert version.startswith("memvault-hooks ")
