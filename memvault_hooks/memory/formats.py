"""What a memory file must look like to be committed: JSON parses, JSON Lines parse line by line.

A `.json` file above STREAM_ABOVE bytes is never read whole: it is parsed as a stream
(ijson, with its C backend where installed) in 1 MB pieces, so memory stays flat for a
file of any size; smaller files take json.loads, the fastest path for them. Either way
the whole document must parse, and nothing but white space may follow it.
"""
from __future__ import annotations

import array
import itertools
import json
import os
from typing import Any
from typing import BinaryIO

STREAM_ABOVE = 2 << 20
CHUNK = 1 << 20
BOM = b"\xef\xbb\xbf"
# Deeper documents are reported, not parsed: json's C parser recurses (RecursionError
# near 1000 levels) and a streaming parser's memory grows with the depth squared.
MAX_DEPTH = 512
TOO_DEEP = f"too deeply nested (more than {MAX_DEPTH} levels)"
# Every byte but quotes and brackets, deleted in C to leave a document's structure.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_NESTING = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class DepthScan:
    """The nesting depth of a JSON text read piece by piece, in memory of about one piece.

    Strings are skipped (a bracket inside one is no nesting), across piece boundaries too.
    `feed` returns False once the depth passed MAX_DEPTH. Every step runs in C over the
    whole piece (replace, translate, count): no Python object a string."""

    __slots__ = ("depth", "carry", "long_token", "_tail")

    def __init__(self) -> None:
        self.depth = 0
        self.carry = b""    # the start of a string the last piece left open
        # Whether a token too long for a streaming parser to hold may be there: a string
        # that runs through a whole piece, a number yajl cannot hold (bounded_json.risky,
        # asked of the whole piece: digits inside strings count too, which only costs speed).
        self.long_token = False
        self._tail = b""

    def feed(self, data: bytes) -> bool:
        text = self.carry + data
        flat = text
        if b"\\" in text:
            # Escapes live inside strings only, and each run of backslashes starts one: pairs
            # taken from the left are escaped backslashes, a backslash left before a quote
            # escapes it. Without both, every quote left opens or closes a string.
            flat = text.replace(b"\\\\", b"").replace(b'\\"', b"")
        structure = flat.translate(None, _NOT_STRUCTURE)
        quotes = structure.count(b'"')
        inside_at_end = quotes % 2 == 1     # the text starts outside a string (carry reopens one)
        # Two quotes in a row enclose nothing but quoted text, or nothing at all: dropping them
        # changes no bracket's side. What is left holds a quote only around a quoted bracket.
        structure = structure.replace(b'""', b"")
        if b'"' in structure:
            structure = b"".join(structure.split(b'"')[0::2])
        if not self.long_token:
            from memvault_hooks.memory.bounded_json import risky

            through = bool(self.carry) and quotes == 1
            self.long_token = through or risky(text, self._tail)
            self._tail = b"" if inside_at_end else text[-4:]   # a number may go on in the next piece
        if inside_at_end:   # a string runs on into the next piece: keep only what matters of it
            odd = (len(text) - len(text.rstrip(b"\\"))) % 2 == 1
            self.carry = b'"\\' if odd else b'"'
        else:
            self.carry = b""
        opened = structure.count(b"[") + structure.count(b"{")
        net = 2 * opened - len(structure)
        if self.depth + opened > MAX_DEPTH and self._may_pass(structure, opened):
            # it may pass the limit: follow it bracket by bracket
            steps = array.array("b", structure.translate(_NESTING))
            if max(itertools.accumulate(steps, initial=self.depth)) > MAX_DEPTH:
                return False
        self.depth += net
        return True

    def _may_pass(self, structure: bytes, opened: int) -> bool:
        """Whether the brackets `structure` may pass MAX_DEPTH, told by dropping the
        innermost pairs a few times (in C): a shallow piece is left with few openers. Each
        replace lowers the deepest point by one level at most."""
        lowered = 0
        while self.depth + opened + lowered > MAX_DEPTH and lowered < 16:
            reduced = structure.replace(b"[]", b"").replace(b"{}", b"")
            if len(reduced) == len(structure):
                return True
            structure, lowered = reduced, lowered + 2
            opened = structure.count(b"[") + structure.count(b"{")
        return self.depth + opened + lowered > MAX_DEPTH


def too_deep(data: bytes) -> bool:
    """Whether one JSON text (a whole document, a JSON Lines line) nests past MAX_DEPTH."""
    return not DepthScan().feed(data)


def _file_scan(path: str) -> DepthScan | None:
    """The file's DepthScan, or None when it nests past MAX_DEPTH."""
    scan = DepthScan()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if not scan.feed(chunk):
                return None
    return scan


def kind_of(rel: str) -> str:
    """'json', 'jsonl' or 'text', by the file's ending."""
    lower = rel.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "text"


def problem(path: str, kind: str) -> str | None:
    """Why the file at `path` is not valid for its kind, or None when it is."""
    if kind == "json":
        return _json_problem(path)
    if kind == "jsonl":
        return _jsonl_problem(path)
    return None


def _said(msg: str) -> str:
    """json's message without its own trailing "at" ("Unterminated string starting at"):
    the position follows as "at line N column M"."""
    return msg[:-3] if msg.endswith(" at") else msg


def _json_problem(path: str) -> str | None:
    scan = _file_scan(path)
    if scan is None:
        return f"invalid JSON: {TOO_DEEP}"
    if os.stat(path).st_size > STREAM_ABOVE:
        try:
            return _json_problem_streamed(path, scan.long_token)
        except ImportError:
            pass  # no streaming parser installed: json.loads still gives the right answer
    with open(path, "rb") as f:
        data = f.read()
    try:
        # parse_int: digits are checked, never made an int (past 4300 digits int() refuses)
        json.loads(data.decode("utf-8-sig"), parse_int=len)
    except RecursionError:  # not past MAX_DEPTH, but the stack was already deep
        return f"invalid JSON: {TOO_DEEP}"
    except UnicodeDecodeError as exc:
        return f"not UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {_said(exc.msg)} at line {exc.lineno} column {exc.colno}"
    return None


def _ijson() -> Any:
    import ijson  # type: ignore[import-untyped]

    for name in ("yajl2_c", "yajl2_cffi", "yajl2"):
        try:
            return ijson.get_backend(name)
        except ImportError:
            continue
    return ijson


def _json_problem_streamed(path: str, long_token: bool = True) -> str | None:
    """Validate a large JSON document in a stream of CHUNK-sized reads."""
    with open(path, "rb") as f:
        if f.read(len(BOM)) != BOM:
            f.seek(0)
        detail = _stream_problem(f, long_token)
    return None if detail is None else f"invalid JSON: {detail}"


def _stream_problem(f: BinaryIO, long_token: bool = True) -> str | None:
    """What is wrong with the one JSON text `f` holds (read in CHUNK pieces), or None.
    `long_token` False (DepthScan saw none) lets the parser read `f` itself: faster."""
    from collections import deque

    from ijson.common import JSONError  # type: ignore[import-untyped]

    from memvault_hooks.memory.bounded_json import BoundedJson
    from memvault_hooks.memory.bounded_json import Invalid

    ijson = _ijson()
    # An items() search for a prefix that is never built walks every event in C
    # without handing each one to Python: the fastest full parse ijson offers.
    # BoundedJson keeps every token the parser holds short (one huge string, one huge number).
    stream = BoundedJson(f, CHUNK) if long_token else f
    events = ijson.items(stream, "\x00", use_float=True, buf_size=CHUNK)
    try:
        deque(events, maxlen=0)
    except Invalid as exc:
        return str(exc)
    except JSONError as exc:
        detail = str(exc.args[0] if exc.args else exc)
        if isinstance(exc.args[0] if exc.args else None, bytes):
            detail = exc.args[0].decode("utf-8", errors="replace")
        return detail.strip().splitlines()[0] if detail.strip() else "parse error"
    return None


class _Line:
    """The rest of the line `f` stands in, read in pieces; `f` is left after its newline."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._done = False

    def read(self, size: int = CHUNK) -> bytes:
        if self._done:
            return b""
        start = self._f.tell()
        piece = self._f.readline(max(size, 1))
        if not piece or piece.endswith(b"\n"):
            self._done = True
            self._f.seek(start + len(piece))
            return piece.rstrip(b"\n")
        return piece


def _long_line_problem(f: BinaryIO, start: int, number: int) -> str | None:
    """A line longer than LINE_MAX from `start`, checked in pieces; leaves `f` after it."""
    scan = DepthScan()
    blank = True
    line = _Line(f)
    f.seek(start)
    while piece := line.read(CHUNK):
        blank = blank and not piece.strip()
        if not scan.feed(piece):
            return f"invalid JSON Lines: line {number}: {TOO_DEEP}"
    end = f.tell()
    if blank:
        return None
    f.seek(start)
    detail = _stream_problem(_Line(f))  # type: ignore[arg-type]
    f.seek(end)
    return None if detail is None else f"invalid JSON Lines: line {number}: {detail}"


# A JSON Lines line longer than this is checked in pieces, never read whole.
LINE_MAX = STREAM_ABOVE


def _jsonl_problem(path: str) -> str | None:
    with open(path, "rb") as f:
        number = 0
        while line := f.readline(LINE_MAX):
            number += 1
            if len(line) == LINE_MAX and not line.endswith(b"\n"):
                skip = len(BOM) if number == 1 and line.startswith(BOM) else 0
                long_problem = _long_line_problem(f, f.tell() - len(line) + skip, number)
                if long_problem:
                    return long_problem
                continue
            if not line.strip():
                continue
            if too_deep(line):
                return f"invalid JSON Lines: line {number}: {TOO_DEEP}"
            try:
                json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"), parse_int=len)
            except RecursionError:
                return f"invalid JSON Lines: line {number}: {TOO_DEEP}"
            except UnicodeDecodeError as exc:
                return f"line {number}: not UTF-8 ({exc.reason})"
            except json.JSONDecodeError as exc:
                return f"invalid JSON Lines: line {number}: {_said(exc.msg)} at column {exc.colno}"
    return None
