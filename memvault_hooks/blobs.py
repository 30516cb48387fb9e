"""git's blob id of content, computed without git (the same SHA-1 git stores it under)."""
from __future__ import annotations

import hashlib
import os


def blob_id(path: str) -> str:
    """The blob id of a file, streamed."""
    size = os.stat(path).st_size
    digest = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def blob_id_of(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
