"""The purge primitive: a file version with its held secrets replaced by `[REDACTED <kind>]`.

Contract: `redact(data, path, findings)` returns the bytes with each value of those
findings (of this path) replaced by `[REDACTED <kind>]`. The findings hold no values: each
is found again by scanning. In JSON and JSON Lines each string literal that holds one is
decoded, redacted and written again, so the file stays valid JSON and every other literal
keeps its bytes; in text the value is replaced where it stands. `RedactionError` (never
quoting a value) if a value is still found afterwards. "unscanned" findings cannot be
redacted (there is no value): the caller has them removed or allowed.

Wiring (for the integrator): `secrets purge` rewrites each commit not pushed yet, blob by
blob, through `redact`, then releases the push.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

from memvault_hooks.errors import MemvaultError
from memvault_hooks.memory.secret_scan import UNSCANNED
from memvault_hooks.memory.secret_scan import Finding
from memvault_hooks.memory.secret_scan import dedupe
from memvault_hooks.memory.secret_scan import finding_id
from memvault_hooks.memory.secret_scan import hits
from memvault_hooks.memory.secret_scan import is_json_path
from memvault_hooks.memory.secret_scan import is_jsonl_path
from memvault_hooks.memory.secret_scan import value_digest


class RedactionError(MemvaultError):
    """A held value could not be replaced (the message never quotes it)."""


def redact(data: bytes, path: str, findings: Iterable[Finding]) -> bytes:
    """`data` with each value of `findings` (of this path) replaced by `[REDACTED <kind>]`.

    A value is found again by scanning (the findings hold no values) and replaced where it
    stands: in JSON, each string literal that holds one is decoded, redacted and written
    again, so JSON stays valid and every other literal keeps its bytes. "unscanned" findings cannot be redacted
    (there is no value): the caller removes or allows them."""
    wanted = {f.id for f in findings if f.path == path and f.kind != UNSCANNED}
    if not wanted:
        return data
    text = data.decode("utf-8", "surrogateescape")
    values: dict[str, str] = {}
    for kind, _, value in dedupe(hits(data, path)):
        if finding_id(kind, value_digest(value), path) in wanted:
            values.setdefault(value, kind)
    ordered = sorted(values.items(), key=lambda vk: -len(vk[0]))
    if is_json_path(path) or is_jsonl_path(path):
        text = _redact_json_strings(text, ordered)
    for value, kind in ordered:  # text, and JSON that did not parse
        text = text.replace(value, f"[REDACTED {kind}]")
    out = text.encode("utf-8", "surrogateescape")
    left = {finding_id(kind, value_digest(value), path) for kind, _, value in hits(out, path)}
    if left & wanted:
        raise RedactionError(f"{path}: a held value is written in a form that could not be replaced; "
                             "edit the file by hand, then run `memvault secrets purge` again")
    return out


_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _redact_json_strings(text: str, values: list[tuple[str, str]]) -> str:
    """Each JSON string literal that holds a value, decoded, redacted and written again
    (the literals that hold none keep their bytes, escapes included)."""
    import json

    def one(m: re.Match[str]) -> str:
        literal = m.group(0)
        try:
            decoded = json.loads(literal)
        except ValueError:
            return literal
        redacted = decoded
        for value, kind in values:
            redacted = redacted.replace(value, f"[REDACTED {kind}]")
        return literal if redacted == decoded else json.dumps(redacted, ensure_ascii=False)

    return _JSON_STRING.sub(one, text)
