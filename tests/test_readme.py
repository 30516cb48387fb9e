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
