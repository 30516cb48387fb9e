"""main.py: the command line's entry runs the no-change paths without the cyclic collector,
and leaves the collector as it found it when called in a process that goes on."""
from __future__ import annotations

import gc
import json
import sys

import pytest

from memvault_hooks.main import main
from support import Project


@pytest.mark.parametrize("changed", [False, True])
def test_main_in_process_leaves_the_collector_as_it_was(project: Project, monkeypatch: pytest.MonkeyPatch,
                                                        changed: bool) -> None:
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() wraps them; put them back afterwards
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    assert project.sync().returncode == 0
    if changed:
        project.write("memory.json", json.dumps({"changed": True}))
    frozen = gc.get_freeze_count()
    for args in (["sync", "--quiet"], ["hook", "post-commit"]):
        assert main(["-C", str(project.root), *args]) == 0
        assert gc.isenabled() and gc.get_freeze_count() == frozen, args
