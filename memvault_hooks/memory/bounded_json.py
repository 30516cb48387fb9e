"""A JSON text as a streaming parser may see it without ever holding one huge token.

A streaming parser (ijson's yajl) keeps a whole token in memory: one string of 200 MB is
200 MB (and yajl's C backend crashes when that memory is refused), one number of a
million digits takes seconds. `BoundedJson` wraps a binary stream and hands the parser
the same document with two kinds of token cut short, each checked here instead:

- a string still open at the end of a piece read: its content from there on is checked
  here (UTF-8, no raw control character, only JSON's escapes) and dropped, so the parser
  sees a shorter string that is valid exactly when the whole one is;
- a run of digits longer than DIGITS (two): the rest of the run is dropped. A run of two
  digits is a valid part of a number exactly when the long one is (its first digit, which
  decides whether a leading 0 is wrong, stays), and the parser never meets a number it
  cannot hold: yajl refuses integers past 2**63 and doubles past 1e308 ("overflow"), which
  JSON allows and json.loads reads.

Strings that open and close inside one piece pass untouched: the wrapper costs one C
regex scan a piece. A problem found here raises `Invalid` (a ValueError) naming the byte.
"""
from __future__ import annotations

import codecs
import io
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any
    from typing import BinaryIO

DIGITS = 2
# Outside strings and whole strings, from the start of a piece: where it ends is where an
# unterminated string opens (or the piece's end). Each quote is consumed one way only.
_CLOSED = re.compile(rb'[^"]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"]*)*', re.DOTALL)
# A string's content up to its closing quote (or the piece's end, or a lone last backslash).
_CONTENT = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_ESCAPE = re.compile(rb'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')
_OPEN_ESCAPE = re.compile(rb'\\(?:u[0-9a-fA-F]{0,3})?\Z')
_CONTROL = re.compile(rb'[\x00-\x1f]')
# A run of digits past DIGITS, cut; an escape (\uXXXX above all) is passed over whole, so
# that the digits of an escape are never cut.
_LONG_DIGITS = re.compile(rb'(\\[^u]|\\u[0-9A-Fa-f]{4})|([0-9]{%d})[0-9]+' % DIGITS)
_LEADING_DIGITS = re.compile(rb'[0-9]*')
# Digits read as 1, e/E as 3, signs as 4 (and bytes 1-4 as 5): where a number may be too
# big for the parser shows as one of _RISKS.
_CLASSES = bytes.maketrans(b"0123456789eE+-\x01\x02\x03\x04", b"\x01" * 10 + b"\x03\x03\x04\x04" + b"\x05" * 4)
_RISKS = (b"\x01" * 19, b"\x03\x01\x01\x01", b"\x03\x04\x01\x01\x01")
_AFTER_DIGIT = b"\x01\x03"


class Invalid(ValueError):
    """The document is not valid JSON (found by the wrapper, not the parser)."""


class _StringCheck:
    """The content of one long string, checked piece by piece in memory of one piece."""

    def __init__(self) -> None:
        self.utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self.escape = b""   # an escape the last piece left unfinished

    def feed(self, data: bytes, at: int) -> None:
        """`at`: the file offset of data[0], for messages."""
        bad = _CONTROL.search(data)
        if bad:
            raise Invalid(f"control character in a string at byte {at + bad.start()}")
        try:
            self.utf8.decode(data)
        except UnicodeDecodeError as exc:
            raise Invalid(f"not UTF-8 ({exc.reason}) in a string near byte {at + exc.start}") from None
        text = self.escape + data
        left = _ESCAPE.sub(b"", text) if b"\\" in text else text
        self.escape = b""
        if b"\\" in left:
            tail = _OPEN_ESCAPE.search(left)
            if tail is None or b"\\" in left[:tail.start()]:
                raise Invalid(f"invalid escape in a string near byte {at}")
            self.escape = tail.group()

    def close(self, at: int) -> None:
        if self.escape:
            raise Invalid(f"invalid escape in a string near byte {at}")
        try:
            self.utf8.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise Invalid(f"not UTF-8 ({exc.reason}) in a string near byte {at}") from None


def unterminated(data: bytes, pos: int) -> int:
    """Where, from `pos` (outside strings), a string opens that this piece does not close;
    len(data) when there is none."""
    if data.find(b'\\"', pos) < 0:   # no quote is escaped: quotes alternate (counted in C)
        return data.rfind(b'"', pos) if data.count(b'"', pos) % 2 else len(data)
    return _CLOSED.match(data, pos).end()  # type: ignore[union-attr]


class BoundedJson(io.RawIOBase):
    """`f` (a binary stream, read in `chunk`-sized pieces) with long tokens cut short."""

    def __init__(self, f: BinaryIO, chunk: int = 1 << 20) -> None:
        self._f = f
        self._chunk = chunk
        self._offset = 0                    # file offset of the next piece read
        self._string: _StringCheck | None = None   # inside a long string
        self._digits = 0                    # digits already handed on in the current run
        self._tail = b""                    # the end of what was handed on last, outside strings
        self._out = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(self._chunk), b""))
        while not self._out:
            data = self._f.read(self._chunk)
            if not data:
                self._string = None   # an unterminated string: the parser reports it
                return b""
            at = self._offset
            self._offset += len(data)
            self._out = self._piece(data, at)
        if size < len(self._out):
            out, self._out = self._out[:size], self._out[size:]
            return out
        out, self._out = self._out, b""   # the whole piece, not copied
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def _piece(self, data: bytes, at: int) -> bytes:
        out = []
        pos = 0
        if self._string is not None:
            start = 1 if self._string.escape == b"\\" else 0   # the byte a lone backslash escapes
            end = _CONTENT.match(data, start).end()  # type: ignore[union-attr]
            if end == len(data) or data[end:end + 1] == b"\\":   # still open after this piece
                self._string.feed(data, at)
                return b""
            self._string.feed(data[:end], at)
            self._string.close(at + end)
            self._string = None
            out.append(b'"')   # the closing quote
            pos = end + 1
        closed = unterminated(data, pos)
        out.append(self._numbers(data[pos:closed]))
        if closed < len(data):   # a string opens here and runs past this piece
            self._digits = 0
            self._tail = b""
            out.append(b'"')
            self._string = _StringCheck()
            self._string.feed(data[closed + 1:], at + closed + 1)
        return b"".join(out)

    def _numbers(self, text: bytes) -> bytes:
        """`text` (outside strings or whole strings) with each run of digits cut to DIGITS."""
        if self._digits:   # a run the last piece ended in goes on
            lead = _LEADING_DIGITS.match(text).end()  # type: ignore[union-attr]
            keep = max(0, DIGITS - self._digits)
            if lead == len(text):
                self._digits += min(lead, keep)
                return text[:keep]
            text = text[:min(lead, keep)] + text[lead:]
        if self._risky(text):
            text = _LONG_DIGITS.sub(rb'\1\2', text)
        self._digits = len(text) - len(text.rstrip(b"0123456789"))
        self._tail = text[-4:]
        return text

    def _risky(self, text: bytes) -> bool:
        return risky(text, self._tail)


def risky(text: bytes, before: bytes = b"") -> bool:
    """Whether `text` (what follows `before`) may hold a number the parser cannot hold (19
    digits in a row, an exponent of 3 digits): found in C (translate, find), as the cut
    itself costs a regex substitution a digit run."""
    classes = text.translate(_CLASSES)
    seam = (before + text[:8]).translate(_CLASSES)
    if any(pattern in seam for pattern in _RISKS):   # (what came before may be cut short)
        return True
    return _RISKS[0] in classes or _exponent_risk(classes)


def _exponent_risk(classes: bytes) -> bool:
    """Whether `classes` holds an exponent of 3 digits. An exponent follows a digit, and
    a digit followed by e/E is rare enough to look at each (a search for the patterns
    themselves meets every e of the text); past a few dozen, those searches it is."""
    at = classes.find(_AFTER_DIGIT)
    for _ in range(64):
        if at < 0:
            return False
        at += len(_AFTER_DIGIT)
        if classes.startswith(b"\x01\x01\x01", at) or classes.startswith(b"\x04\x01\x01\x01", at):
            return True
        at = classes.find(_AFTER_DIGIT, at)
    return any(pattern in classes for pattern in _RISKS[1:])
