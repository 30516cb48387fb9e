"""What `hook` and `sync` import: never GitPython or YAML on the no-change path, and not on
the changed path either while the configuration cache is valid (python -X importtime); on
the no-change path (git waits for it) not even the standard modules that cost milliseconds.
The changed path, which nobody waits for, uses the standard library plainly (argparse)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from support import Project


def imported(project: Project, *args: str, python_args: tuple[str, ...] = ("-m", "memvault_hooks")) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", *python_args, *args],
                          cwd=project.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {m.group(1) for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", proc.stderr, re.M)}


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in ("git", "yaml", "platformdirs")}


# Each costs a few ms to import on this kind of machine (dataclasses: ~10, with inspect):
# the hook's no-change path, which git waits for, does without them.
SLOW_STDLIB = ("argparse", "subprocess", "dataclasses", "typing", "tempfile", "contextlib", "shutil", "hashlib",
               "zlib")   # (an extension module: a dlopen, ~0.3 ms)


def test_no_change_and_changed_paths_stay_light(project: Project) -> None:
    past = time.time() - 60  # out of git's racy window: the hook sees nothing changed
    for path in project.root.glob("*.json"):
        os.utime(path, (past, past))
    assert project.sync().returncode == 0  # parses .memvault.yaml once, caches it
    at_start = imported(project, python_args=("-c", "pass"))  # the start's own (an editable install's hook)
    for args in (("sync",), ("sync", "--trigger", "cron", "--quiet"), ("hook", "post-commit")):
        unchanged = imported(project, *args)
        assert heavy(unchanged) == set()
        assert sorted((unchanged - at_start) & set(SLOW_STDLIB)) == [], args
        assert "memvault_hooks.vault.backup" not in unchanged  # it really took the no-change path
        assert {m for m in unchanged if "secret" in m or m.startswith("memvault_hooks.vault.held")} == set()
    assert not (project.vault / ".memvault-pending").exists()  # the hook found nothing to do
    (project.root / "memory.json").write_text('{"changed": true}\n')
    changed = imported(project, "sync")
    assert "memvault_hooks.vault.backup" in changed  # it really took the changed path
    assert heavy(changed) == set()
    assert "changed" in (project.stored / "memory.json").read_text()
    assert "argparse" in changed  # its options are argparse's
    assert "memvault_hooks.memory.secret_scan" in changed  # what it committed was scanned
    assert "detect_secrets" not in changed  # its plugin patterns come from the scan cache


def test_the_changed_path_reads_its_flags_with_argparse(project: Project) -> None:
    assert project.sync().returncode == 0  # caches the configuration
    (project.root / "memory.json").write_text('{"changed": "again"}\n')
    changed = imported(project, "sync", "--trigger", "post-merge", "--quiet")
    assert "memvault_hooks.vault.backup" in changed and "argparse" in changed
    assert "Memvault-Trigger: post-merge" in project.log()[0]
    bad = subprocess.run([sys.executable, "-m", "memvault_hooks", "sync", "--trigger", "no spaces"],
                         cwd=project.root, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a trigger name" in bad.stderr  # argparse still judges mistakes
