"""`--help` of every command, as a user runs it: every option described, WHEN's forms shown."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from support import memvault

from memvault_hooks import cli
from memvault_hooks import when


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for name, sub in _subparsers(cli.build_parser()).items():
        found.append(((name,), sub))
        found += [((name, action), subsub) for action, subsub in _subparsers(sub).items()]
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_command_is_in_the_tree() -> None:
    names = {words for words, _ in _commands()}
    commands = ("init", "sync", "hook", "install-hooks", "cron", "status",
                "log", "show", "diff", "restore", "recover", "verify", "allow")
    assert {(c,) for c in commands} <= names
    assert {("cron", "install"), ("cron", "remove"), ("cron", "status")} <= names


@pytest.mark.parametrize("words", [words for words, _ in _commands()], ids=" ".join)
def test_help_describes_every_option(words: tuple[str, ...], tmp_path: Path) -> None:
    parser = dict(_commands())[words]
    proc = memvault(*words, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = _flat(proc.stdout)
    assert out.startswith(f"usage: memvault {' '.join(words)}")
    assert parser.description and _flat(parser.description) in out
    described = 0
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        name = action.option_strings[0] if action.option_strings else action.metavar or action.dest
        assert action.help and len(action.help) > 10, f"{' '.join(words)} {name} has no description"
        assert _flat(action.help) in out, f"{' '.join(words)} --help does not show {name}'s description"
        described += 1
    assert described >= 3  # -h, -C, --config at least


def test_top_level_help_describes_every_command(tmp_path: Path) -> None:
    out = _flat(memvault("--help", cwd=tmp_path).stdout)
    for name, sub in _subparsers(cli.build_parser()).items():
        assert f"{name} {_flat(sub.description or '')}"[:60] in out


@pytest.mark.parametrize("command", ["show", "diff", "restore", "recover"])
def test_when_forms_with_examples_that_really_parse(command: str, tmp_path: Path) -> None:
    out = memvault(command, "--help", cwd=tmp_path).stdout
    # (as shown, as a user types it): every form the help shows is one when.py accepts
    examples = [("2026-11-26T12:00:00Z", "2026-11-26T12:00:00Z"), ("'2026-11-26 12:00'", "2026-11-26 12:00"),
                ("2026-11-26T13:00:00+01:00", "2026-11-26T13:00:00+01:00"), ("2026-11-26", "2026-11-26"),
                ("'2 hours ago'", "2 hours ago"), ("3d ago", "3d ago"), ("2h,", "2h ago"),
                ("2.hours.ago", "2.hours.ago"), ("'an hour ago'", "an hour ago"), ("yesterday", "yesterday"),
                ("now", "now"), ("@1795000000", "@1795000000")]
    for shown, typed in examples:
        assert shown in out, f"{command} --help lacks {shown}"
        when.parse(typed)
    assert "local time" in out
    if command != "recover":
        assert "REV" in out and "memvault log" in out


def test_hook_help_prints_help_and_runs_no_hook(tmp_path: Path) -> None:
    for flag in ("--help", "-h"):
        proc = memvault("hook", flag, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("usage: memvault hook") and "post-rewrite" in proc.stdout
        assert proc.stderr == ""
    assert not (tmp_path / ".memvault.yaml").exists()
