from __future__ import annotations

import os
from pathlib import Path

import pytest

from memvault_hooks.memory import safe_open


def _read(root: Path, rel: str) -> bytes:
    fd = safe_open.open_inside(str(root), rel)
    with open(fd, "rb") as f:
        return f.read()


def test_plain_file_and_inside_symlinks_are_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    os.symlink("sub/a.json", tmp_path / "link.json")
    os.symlink("sub", tmp_path / "dirlink")
    assert _read(tmp_path, "sub/a.json") == b"{}"
    assert _read(tmp_path, "link.json") == b"{}"
    assert _read(tmp_path, "dirlink/a.json") == b"{}"


def test_outside_symlinks_fifos_and_dot_dot_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_text("key")
    os.symlink(tmp_path / "secret", root / "out.json")
    os.symlink(tmp_path, root / "up")
    os.mkfifo(root / "fifo.json")
    for rel in ("out.json", "up/secret", "../secret"):
        with pytest.raises(safe_open.NotAllowed):
            _read(root, rel)
    with pytest.raises(safe_open.NotAllowed, match="FIFO"):
        _read(root, "fifo.json")  # returns at once: O_NONBLOCK
