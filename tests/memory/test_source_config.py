"""The `sources` key: every bad entry is a configuration error naming the file and the key
(exit 2 on the command line), a good one becomes a source that waits for `memvault allow`."""
from __future__ import annotations

from pathlib import Path

import pytest

from memvault_hooks import config
from memvault_hooks.errors import ConfigError
from support import Project


def _load(project: Project, sources_yaml: str, presets: str = "[]") -> config.Config:
    (project.root / ".memvault.yaml").write_text(
        f"version: 1\nvault:\n  path: {project.vault}\npresets: {presets}\nsources:\n{sources_yaml}")
    return config.load(str(project.root))


@pytest.mark.parametrize("entry, key, words", [
    ("  - {name: Notes, dir: /tmp/n, files: ['*.md']}", "sources[0].name", "not a source name"),
    ("  - {name: -x, dir: /tmp/n, files: ['*.md']}", "sources[0].name", "not a source name"),
    ("  - {name: notes, dir: /tmp/n, files: ['../x']}", "sources[0].files[0]", "escapes the source's dir"),
    ("  - {name: notes, dir: /tmp/n, files: ['a/../../x.md']}", "sources[0].files[0]", "escapes"),
    ("  - {name: notes, dir: /tmp/n, files: ['/etc/passwd']}", "sources[0].files[0]", "is absolute"),
    ("  - {name: notes, dir: /tmp/n, files: '*.md'}", "sources[0].files", "is a string"),
    ("  - {name: notes, dir: /tmp/n, files: []}", "sources[0].files", "is empty"),
    ("  - {name: notes, dir: 3, files: ['*.md']}", "sources[0].dir", "is a whole number"),
    ("  - {name: notes, files: ['*.md']}", "sources[0].dir", "is missing"),
    ("  - {name: notes, dir: /tmp/n, files: ['*.md'], extra: 1}", "sources[0].extra", "unknown key"),
    ("  - notes", "sources[0]", "is a string"),
    ("  - {name: a, dir: /tmp/a, files: ['*']}\n  - {name: a, dir: /tmp/b, files: ['*']}",
     "sources[1].name", "already the name of sources[0]"),
])
def test_bad_entries_name_the_key(project: Project, entry: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(project, entry + "\n")
    text = str(caught.value)
    assert key in text and words in text and str(project.root / ".memvault.yaml") in text, text


def test_a_dir_inside_the_vault_is_refused(project: Project) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(project, f"  - {{name: notes, dir: {project.vault}/x, files: ['*.md']}}\n")
    assert "sources[0].dir" in str(caught.value) and "overlaps the vault" in str(caught.value)


def test_a_preset_name_is_taken_while_the_preset_is_on(project: Project) -> None:
    entry = "  - {name: claude-code, dir: /tmp/n, files: ['*.md']}\n"
    with pytest.raises(ConfigError) as caught:
        _load(project, entry, presets="[claude-code]")
    assert "sources[0].name" in str(caught.value) and "preset claude-code" in str(caught.value)
    assert _load(project, entry).sources[0][0] == "@claude-code/"  # the preset off: the name is free


def test_a_source_resolves_and_waits_for_allow(project: Project, isolated_home: Path) -> None:
    cfg = _load(project, "  - {name: notes, dir: ~/agent-notes, files: ['**/*.md']}\n"
                         "  - {name: rel, dir: ../beside, files: [a.txt]}\n")
    assert cfg.sources == (("@notes/", str(isolated_home / "agent-notes"), ("**/*.md",)),
                           ("@rel/", str(project.root.parent / "beside"), ("a.txt",)))
    keys = [key for key, *_ in cfg.outside]
    assert keys == ["sources.notes", "sources.rel"]
    assert "read **/*.md from " + str(isolated_home / "agent-notes") in cfg.outside[0][2]


def test_bad_entries_exit_2_on_the_command_line(project: Project) -> None:
    project.config(f"version: 1\nvault:\n  path: {project.vault}\n"
                   "sources:\n  - {name: notes, dir: /tmp/n, files: ['../x']}\n", allow=False)
    for args in (("sync",), ("status",), ("allow",)):
        proc = project.run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "sources[0].files[0]" in proc.stderr and "Traceback" not in proc.stderr
    hook = project.run("hook", "post-commit")
    assert hook.returncode == 0 and "sources[0].files[0]" in hook.stderr  # git is never failed
