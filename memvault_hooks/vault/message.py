"""The vault commit message (SPEC "Vault commits"): writing it, and reading it back."""
from __future__ import annotations

from memvault_hooks import triggers
from memvault_hooks.ui.pathquote import quote
from memvault_hooks.ui.pathquote import unquote

SUBJECT_PREFIX = "memvault: "
TRAILER_TRIGGER = "Memvault-Trigger"
TRAILER_HOST = "Memvault-Host"
TRAILER_SOURCE = "Memvault-Source-Commit"
TRAILER_ALERT = "Memvault-Alert"  # memory/alerts.py writes and reads its value
CHANGES = ("added", "modified", "deleted")


class Parsed:
    """A commit message read back."""

    __slots__ = ("subject", "files", "trailers", "alerts")

    def __init__(self, subject: str, files: list[tuple[str, str]], trailers: dict[str, str],
                 alerts: list[str] | None = None) -> None:
        self.subject = subject
        self.files = files          # (path relative to source_dir, change)
        self.trailers = trailers
        self.alerts = alerts or []  # the values of its Memvault-Alert trailers (one a file)


def build(when: str, trigger: str, host: str, source_commit: str | None,
          files: list[tuple[str, str]], extra: list[str] | None = None) -> str:
    """`files` holds (path, change) pairs with change one of added/modified/deleted;
    `extra` more trailer lines (`Memvault-Alert: ...`, alerts.Alert.trailer).

    Raises ValueError for a trigger that `triggers.valid` rejects: it goes into the
    subject and a trailer line, where a newline or a space would break the message."""
    if not triggers.valid(trigger):
        raise ValueError(f"{trigger!r} is not a trigger name")
    counts = [f"{sum(1 for _, c in files if c == change)} {change}"
              for change in CHANGES if any(c == change for _, c in files)]
    lines = [f"{SUBJECT_PREFIX}{when} {trigger}: {', '.join(counts)}", ""]
    lines += [f"{change}: {quote(path)}" for path, change in files]  # a newline cannot forge a line
    lines += ["", f"{TRAILER_TRIGGER}: {trigger}", f"{TRAILER_HOST}: {host}"]
    if source_commit:
        lines.append(f"{TRAILER_SOURCE}: {source_commit}")
    lines += [line for line in extra or () if "\n" not in line]
    return "\n".join(lines) + "\n"


def parse(message: str) -> Parsed:
    lines = message.strip("\n").splitlines()
    subject = lines[0] if lines else ""
    files: list[tuple[str, str]] = []
    trailers: dict[str, str] = {}
    alerts: list[str] = []
    for line in lines[1:]:
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        if key in CHANGES:
            files.append((unquote(value), key))
        elif key == TRAILER_ALERT:
            alerts.append(value.strip())
        elif key.startswith("Memvault-"):
            trailers[key] = value.strip()
    return Parsed(subject, files, trailers, alerts)
