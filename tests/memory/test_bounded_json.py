"""bounded_json: the parser sees long tokens cut short, and a document is valid through it
exactly when json.loads finds it valid, wherever the pieces are cut."""
from __future__ import annotations

import io
import json
import random
from collections import deque

import pytest

from memvault_hooks.memory.bounded_json import BoundedJson
from memvault_hooks.memory.bounded_json import Invalid
from memvault_hooks.memory.formats import _ijson


def _valid_by_json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"), parse_int=len)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _valid_through(data: bytes, chunk: int) -> bool:
    from ijson.common import JSONError  # type: ignore[import-untyped]

    try:
        deque(_ijson().items(BoundedJson(io.BytesIO(data), chunk), "\x00", use_float=True, buf_size=chunk),
              maxlen=0)
    except (Invalid, JSONError):
        return False
    return True


CASES = [
    b'{"a": "plain"}', b'["esc \\" quote", "back\\\\slash", "\\u00e9\\n\\t\\/"]', b'"\\u12"',
    b'"bad \\x escape"', b'"\\\\"', b'"\\\\\\"', b'"raw \x01 control"', b'"\xc3\xa9 utf8"',
    b'"\xc3 cut"', b'"\xff"', b'["unterminated', b'[12345678901234567890123]', b'[0123]',
    b'[-0.000012345e-000099]', b'[1e999]', b'[1.5E+400, -9223372036854775809]', b'[1.]', b'[.5]',
    b'[00]', b'["digits 1234567890 in a string"]', b'{"k\\"ey": [true, false, null]}',
    b'[1] x', b'["a" "b"]', b'{"x": "' + b"y" * 300 + b'"}',
    b'{"long": "' + b"\\\\" * 40 + b'\\"' * 40 + b'\\u0041' * 20 + b'"}',
    b'{"long": "' + b"z" * 200 + b'\\q"}', b'{"long": "' + b"z" * 200 + b'\\u00"}',
    b'["' + b"\xe2\x82\xac" * 80 + b'"]', b'["' + b"\xe2\x82" * 80 + b'"]',
    b'[' + b"7" * 500 + b']', b'[0' + b"7" * 500 + b']', b'[1.' + b"0" * 300 + b'e' + b"9" * 300 + b']',
]


@pytest.mark.parametrize("data", CASES)
def test_valid_through_the_wrapper_exactly_when_json_says_so(data: bytes) -> None:
    expected = _valid_by_json(data)
    for chunk in (1, 2, 3, 5, 7, 16, 64, 1 << 20):
        assert _valid_through(data, chunk) is expected, (data[:60], chunk)


def test_random_documents_with_long_tokens_agree_with_json() -> None:
    rng = random.Random(10)
    alphabet = [b"a", b"\\\\", b'\\"', b"\\n", b"\\u00e9", b"\xc3\xa9", b"1", b"\\", b"\x02", b'"', b"\\u0"]
    for _ in range(300):
        body = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        digits = b"".join(rng.choice([b"0", b"1", b"9"]) for _ in range(rng.randint(1, 40)))
        data = b'{"k": ["' + body + b'", ' + digits + b"]}"
        expected = _valid_by_json(data)
        for chunk in (1, 3, 8, 29):
            assert _valid_through(data, chunk) is expected, (data, chunk)


def test_the_parser_never_holds_a_long_string_or_number() -> None:
    data = b'{"s": "' + b"x" * 100_000 + b'", "n": ' + b"5" * 100_000 + b"}"
    out = BoundedJson(io.BytesIO(data), 4096).read()
    assert out == b'{"s": "", "n": 55}'   # the string's content is checked here, not handed on
    events = list(_ijson().basic_parse(BoundedJson(io.BytesIO(data), 4096), use_float=True))
    assert [e for e, _ in events] == ["start_map", "map_key", "string", "map_key", "number", "end_map"]


def test_risky_finds_exactly_the_numbers_the_parser_cannot_hold() -> None:
    """19 digits in a row, or an exponent of 3 digits after a digit, in the text (or any
    exponent of 3 digits across the seam with what came before): a regular expression says
    the same, on random text."""
    import random
    import re

    from memvault_hooks.memory import bounded_json

    expected = re.compile(rb"[0-9]{19}|[0-9][eE][+-]?[0-9]{3}")
    seam_expected = re.compile(rb"[0-9]{19}|[eE][+-]?[0-9]{3}")   # `before` may be cut short
    rng = random.Random(3)
    alphabet = b"0123456789eE+-a ,."
    for _ in range(50000):
        text = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        before = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
        want = bool(expected.search(text)) or bool(seam_expected.search(before + text[:8]))
        assert bounded_json.risky(text, before) == want, (text, before)
    many_small = b"1e1 " * 100   # more digit-then-e than are looked at one by one
    assert not bounded_json.risky(many_small)
    assert bounded_json.risky(many_small + b"1e123")
    assert bounded_json.risky(many_small + b"2E-308")
