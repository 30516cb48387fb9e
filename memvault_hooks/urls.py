"""Remote URLs: the one masking function for credentials, and how a URL is read.

`mask` is applied to every line memvault prints or logs (main.py wraps stdout and
stderr; logs.py masks what it writes), so `https://alice:token@host/x` is shown as
`https://alice:***@host/x` wherever it appears, in our words or in git's.
"""
from __future__ import annotations

import os
TYPE_CHECKING = False  # typing itself costs ~3 ms at start: only type checkers read what it guards

if TYPE_CHECKING:
    from typing import TextIO

# The userinfo of a URL: scheme://user[:password]@ (no '/', '@' or whitespace inside).
_USERINFO = r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:'\"]*)(?::(?P<password>[^/@\s'\"]*))?@"
# Schemes where a user name alone is often a token (`https://ghp_...@github.com/`).
_TOKEN_USER_SCHEMES = ("http://", "https://", "ftp://", "ftps://")


def mask(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***` (for http(s), a user
    name without a password too: it is usually a token). Cheap when there is no URL."""
    if "@" not in text or "://" not in text:
        return text
    import re

    def hide(m: re.Match[str]) -> str:
        scheme, user, password = m.group("scheme"), m.group("user"), m.group("password")
        if password is not None:
            return f"{scheme}{user}:***@"
        if scheme.lower() in _TOKEN_USER_SCHEMES and user:
            return f"{scheme}***@"
        return m.group(0)

    return re.sub(_USERINFO, hide, text)


class MaskedStream:
    """A text stream that masks what it writes (stdout and stderr of every command)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask(text))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def is_url(value: str) -> bool:
    """A URL (scheme://) or scp-like `host:path`; else a local path."""
    return "://" in value or ":" in value.split("/")[0]


def resolve(value: str, base: str | None = None) -> str:
    """A remote as git gets it: a URL or scp-like `host:path` as it is, a local path made
    absolute (a relative one is read from `base`, the project; else the working folder)."""
    if not value or is_url(value) or os.path.isabs(value):
        return value
    return os.path.normpath(os.path.join(base or os.getcwd(), os.path.expanduser(value)))


def same(a: str, b: str, base: str | None = None) -> bool:
    """Whether two remotes name the same repository: an existing local one by its real
    path, any other without a trailing `/` or `.git`."""
    def key(value: str) -> str:
        value = resolve(value, base)
        if not is_url(value) and os.path.exists(value):
            return os.path.realpath(value)
        return value.rstrip("/").removesuffix(".git").rstrip("/")

    return key(a) == key(b)


def local_path(value: str, project: str) -> str | None:
    """The folder a remote names on this machine (a relative path is read from the project,
    `file://` URLs too), or None when it names a network location."""
    if value.startswith("file://"):
        from urllib.parse import unquote

        rest = value[len("file://"):]
        return os.path.normpath(unquote(rest[rest.index("/"):] if "/" in rest else "/"))
    if is_url(value):
        return None
    return os.path.normpath(resolve(value, project))
