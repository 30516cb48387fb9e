"""File names as logs and commit messages show them: git's C quoting, the one way.

A name that holds a control character (a newline could forge a line), a quote, a
backslash or bytes that are not UTF-8 (held as surrogate escapes, as `os` reads them) is
written as git writes it with `core.quotePath=false`: in double quotes, with `\\n`, `\\t`,
`\\"`, `\\\\` and octal escapes (`\\351`). Any other name is shown as it is.
"""
from __future__ import annotations

_NAMED = {7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 34: '"', 92: "\\"}
_UNNAMED = {value: key for key, value in _NAMED.items()}


def _needs(name: str) -> bool:
    return any(ord(c) < 0x20 or c in '"\\\x7f' or 0xDC80 <= ord(c) <= 0xDCFF for c in name)


def quote(name: str) -> str:
    """`name` as git shows it: as it is, or C-quoted."""
    if not _needs(name):
        return name
    out = ['"']
    for byte in name.encode("utf-8", errors="surrogateescape"):
        if byte in _NAMED:
            out.append("\\" + _NAMED[byte])
        elif byte < 0x20 or byte == 0x7F:
            out.append(f"\\{byte:03o}")
        else:
            out.append(chr(byte))  # placeholder: bytes >= 0x80 are decoded below
    text = "".join(out) + '"'
    # Bytes >= 0x80: valid UTF-8 stays as it is, anything else becomes octal.
    raw = text.encode("latin-1")
    result = []
    for piece in raw.decode("utf-8", errors="surrogateescape"):
        code = ord(piece)
        result.append(f"\\{code - 0xDC00:03o}" if 0xDC80 <= code <= 0xDCFF else piece)
    return "".join(result)


def unquote(text: str) -> str:
    """What `quote` wrote, back to the name (surrogate escapes for bytes that are not UTF-8)."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body = text[1:-1]
    raw = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            raw += c.encode("utf-8", errors="surrogateescape")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _UNNAMED:
            raw.append(_UNNAMED[nxt])
            i += 2
        elif body[i + 1:i + 4].isdigit() and len(body[i + 1:i + 4]) == 3:
            raw.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            raw += c.encode()
            i += 1
    return raw.decode("utf-8", errors="surrogateescape")
