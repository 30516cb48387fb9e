"""Large JSON files are validated as a stream: a 50 MB file commits, the same file
truncated does not (the last good version stays, exit 1), and memory stays flat."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from memvault_hooks.memory import formats
from support import Project
from support import git

ENTRY = json.dumps({"id": 0, "text": "the user prefers short answers and keeps a deadline list",
                    "score": 0.5, "tags": ["memory", "agent"]}).encode()


def write_big_json(path: Path, size: int) -> None:
    """A valid JSON document of at least `size` bytes, written in pieces."""
    block = b"," .join([ENTRY] * 1000)
    with open(path, "wb") as f:
        f.write(b'{"entries": [' + block)
        written = len(block)
        while written < size:
            f.write(b"," + block)
            written += len(block) + 1
        f.write(b"]}\n")


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every file, however small, down the streaming path."""
    monkeypatch.setattr(formats, "STREAM_ABOVE", 0)


@pytest.mark.parametrize("content, expected", [
    (b'{"a": [1, 2, {"b": null}]}', None),
    (b'{"a": [1, 2, {"b": null}]}\n\n', None),
    (b'\xef\xbb\xbf{"a": 1}', None),
    (b'{"a": [1, 2', "premature EOF"),
    (b'{"a": 1} trailing', "trailing garbage"),
    (b'{"a": 1}{"b": 2}', "trailing garbage"),
    (b'{"a": "\xff"}', "UTF8"),
    (b'{"a": 1,}', "invalid"),
])
def test_streamed_validation(tmp_path: Path, streamed: None, content: bytes, expected: str | None) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    problem = formats.problem(str(path), "json")
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem and problem.startswith("invalid JSON")


def test_small_files_keep_json_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b'{"a": 1} x')
    assert formats.STREAM_ABOVE >= 1 << 20
    assert "Extra data" in (formats.problem(str(path), "json") or "")  # json's own wording


def test_large_file_is_validated_in_flat_memory(tmp_path: Path) -> None:
    """A 50 MB file validates with the process's peak RSS far below the file's size."""
    path = tmp_path / "big.json"
    write_big_json(path, 50 << 20)
    # VmHWM is this process's own peak: ru_maxrss would also count the forked test runner.
    code = ("import sys; from memvault_hooks.memory import formats; "
            "p = formats.problem(sys.argv[1], 'json'); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]; "
            "print(p, hwm)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    problem, peak_kb = out.rsplit(" ", 1)
    assert problem == "None"
    assert int(peak_kb) < 45 * 1024  # json.loads would need several times the file's 50 MB


def test_50mb_file_commits_and_truncated_copy_does_not(project: Project) -> None:
    big = project.root / "memory.json"
    write_big_json(big, 50 << 20)
    first = project.sync()
    assert first.returncode == 0, first.stderr
    stored = project.stored / "memory.json"
    assert stored.read_bytes() == big.read_bytes()
    good = git(project.vault, "rev-parse", "HEAD:rAgentShared/memory.json").strip()

    with open(big, "r+b") as f:  # a writer caught mid-write: the document stops short
        f.truncate(big.stat().st_size - 1000)
    second = project.sync()
    assert second.returncode == 1
    assert "memory.json" in second.stderr and "invalid JSON" in second.stderr
    assert git(project.vault, "rev-parse", "HEAD:rAgentShared/memory.json").strip() == good
    assert len(project.log()) == 1


def test_depth_scan_skips_brackets_in_strings_across_pieces() -> None:
    from memvault_hooks.memory import formats

    text = b'{"a\\\\":["x\\"]",{"b":"[\\\\"}]}' + b'"' + b"[" * 600 + b'"'
    scan = formats.DepthScan()
    for i in range(len(text)):
        assert scan.feed(text[i:i + 1])
    assert scan.depth == 0
    assert formats.too_deep(b"[" * 513 + b"]" * 513)
    assert not formats.too_deep(b"[" * 512 + b"]" * 512)


def test_deep_files_are_reported_not_raised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from memvault_hooks.memory import formats

    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 990 + b"]" * 990)
    assert formats.problem(str(deep), "json") == f"invalid JSON: {formats.TOO_DEEP}"
    lines = tmp_path / "deep.jsonl"
    lines.write_bytes(b"{}\n" + b"{\"a\":" * 990 + b"1" + b"}" * 990 + b"\n")
    assert formats.problem(str(lines), "jsonl") == f"invalid JSON Lines: line 2: {formats.TOO_DEEP}"
