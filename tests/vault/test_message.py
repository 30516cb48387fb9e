"""The vault commit message: what it refuses to write."""
from __future__ import annotations

import pytest

from memvault_hooks.vault import message
from memvault_hooks import triggers


@pytest.mark.parametrize("trigger", ["post-commit\n99999", "post-commit 99999", "", "x" * 65, "a:b"])
def test_build_refuses_a_trigger_that_triggers_valid_rejects(trigger: str) -> None:
    assert not triggers.valid(trigger)
    with pytest.raises(ValueError):
        message.build("2026-11-26T12:34:56Z", trigger, "host", None, [("memory.json", "modified")])


def test_build_and_parse_agree_on_a_valid_trigger() -> None:
    text = message.build("2026-11-26T12:34:56Z", "post-commit", "host", "ab" * 20, [("memory.json", "modified")])
    parsed = message.parse(text)
    assert parsed.subject == "memvault: 2026-11-26T12:34:56Z post-commit: 1 modified"
    assert parsed.trailers[message.TRAILER_TRIGGER] == "post-commit"
    assert parsed.files == [("memory.json", "modified")]
