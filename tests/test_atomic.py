"""write_atomic: the whole new content or the old, exact mode, nothing left behind, no link followed."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from memvault_hooks.atomic import write_atomic


def test_replaces_the_file_with_exactly_the_mode_given(tmp_path: Path) -> None:
    path = tmp_path / "record"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    old_umask = os.umask(0o077)
    try:
        write_atomic(str(path), b"new", 0o755)
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o755
    write_atomic(str(path), b"private", durable=True)
    assert path.read_bytes() == b"private" and path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record"]


def test_streams_pieces_and_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    path = tmp_path / "memory.json"

    def pieces(write: Callable[[bytes], object]) -> None:
        for piece in (b"{", b'"a": 1', b"}"):
            write(piece)

    write_atomic(str(path), pieces)
    assert path.read_bytes() == b'{"a": 1}'

    def broken(write: Callable[[bytes], object]) -> None:
        write(b"half")
        raise OSError("the vault's blob could not be read")

    with pytest.raises(OSError):
        write_atomic(str(path), broken, durable=True)
    assert path.read_bytes() == b'{"a": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory.json"]


def test_a_link_or_file_at_the_temp_name_is_never_written_through(tmp_path: Path) -> None:
    path = tmp_path / "state"
    outside = tmp_path / "outside"
    outside.write_bytes(b"someone else's")
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    tmp.symlink_to(outside)  # planted, or left by a killed run that had our pid
    write_atomic(str(path), b"ours")
    assert path.read_bytes() == b"ours" and not path.is_symlink()
    assert outside.read_bytes() == b"someone else's"
    assert not os.path.lexists(tmp)
