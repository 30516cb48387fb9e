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


def _reference_depth(text: bytes) -> tuple[int, bool, int]:
    """(depth at the end, inside a string at the end, deepest), one byte at a time."""
    depth = deepest = 0
    inside = escaped = False
    for byte in text:
        ch = bytes([byte])
        if inside:
            if escaped:
                escaped = False
            elif ch == b"\\":
                escaped = True
            elif ch == b'"':
                inside = False
        elif ch == b'"':
            inside = True
        elif ch in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in b"]}":
            depth -= 1
    return depth, inside, deepest


def test_depth_scan_agrees_with_a_byte_by_byte_reading_wherever_the_pieces_are_cut() -> None:
    import random

    from memvault_hooks.memory import formats

    rng = random.Random(5)
    outside = [b"[", b"]", b"{", b"}", b"1", b" ", b",", b":"]
    inside = [b"a", b"[", b"]", b"{", b"}", b"\\\\", b'\\"', b"\\n", b"1"]
    for _ in range(20000):
        parts = []
        count = rng.randint(0, 12)
        for i in range(count):
            if rng.random() < 0.4:   # a string; only the last may stay open
                body = b"".join(rng.choice(inside) for _ in range(rng.randint(0, 5)))
                parts.append(b'"' + body + (b'"' if i < count - 1 or rng.random() < 0.7 else b""))
            else:
                parts.append(rng.choice(outside))
        if rng.random() < 0.1:
            parts.insert(0, b"[" * rng.randint(505, 515))
        text = b"".join(parts)
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(0, 5))))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        depth, open_string, deepest = _reference_depth(text)
        scan = formats.DepthScan()
        fed = all([scan.feed(piece) for piece in pieces])
        assert fed == (deepest <= formats.MAX_DEPTH), text
        if fed:
            assert (scan.depth, bool(scan.carry)) == (depth, open_string), text
