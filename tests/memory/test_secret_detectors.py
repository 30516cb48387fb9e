"""The detectors: imported lazily, gated so a clean file is never parsed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from memvault_hooks.memory import secret_scan
from memvault_hooks.memory.secret_scan import scan_blob


def test_the_scanner_is_imported_lazily() -> None:
    code = ("import sys, memvault_hooks.memory.secret_scan as s; "
            "assert 'detect_secrets' not in sys.modules and 'ijson' not in sys.modules; "
            "s.scan_blob(b'x', 'a.md'); assert 'detect_secrets' in sys.modules")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_a_clean_file_is_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def parsed(*args: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(secret_scan, "_hits_in_json", parsed)
    doc = {"entries": [{"id": i, "text": "a token of thanks, the key point", "score": 0.25} for i in range(500)]}
    assert scan_blob(json.dumps(doc).encode(), "memory.json") == []
