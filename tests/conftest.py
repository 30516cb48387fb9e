"""Fixtures shared by every test: a private HOME/XDG so no test touches the user's own
files, and a real git project with memory files and a local vault."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import Project
from support import make_project


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and XDG dirs for every test; git identity for test commits."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_CONFIG_HOME", ".config")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("MEMVAULT_CONFIG", raising=False)
    for var in list(os.environ):
        if var.startswith(("GIT_", "PRE_COMMIT")):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (home / ".gitconfig").write_text("[user]\n\tname = Tester\n\temail = tester@example.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n")
    return home


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)
