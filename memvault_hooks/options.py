"""What every command's parser shares: `-C DIR` and `--config FILE`, the parser class whose
usage errors exit 2, and the help texts for WHEN and REV that several commands print."""
from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"memvault: error: {message}\n")


def add_common(p: argparse.ArgumentParser) -> None:
    """`-C` and `--config`, accepted before and after the command (unset: None)."""
    p.add_argument("-C", dest="directory", metavar="DIR", default=argparse.SUPPRESS,
                   help="run as if started in DIR (the project)")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                   help="the configuration file (default: $MEMVAULT_CONFIG, else <project>/.memvault.yaml)")


def add_command(sub: argparse._SubParsersAction[Parser], name: str, help: str,
                epilog: str | None = None) -> argparse.ArgumentParser:
    """A (sub)command's parser, with the common options."""
    p = sub.add_parser(name, help=help, description=help, epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common(p)
    return p


WHEN_HELP = """\
WHEN is a point in time; the version used is the newest backup at or before it:
  2026-11-26T12:00:00Z        ISO 8601 in UTC (also with an offset: 2026-11-26T13:00:00+01:00)
  '2026-11-26 12:00'          ISO 8601 without a zone: this machine's local time
  2026-11-26                  a date alone: local midnight
  '2 hours ago', 3d ago       relative: seconds, minutes, hours, days, weeks, months, years
                              (also 2h, 2.hours.ago, 'an hour ago')
  yesterday, now              yesterday is 24 hours ago, as git reads it
  @1795000000                 seconds since the epoch

"""
REV_HELP = """\
REV is a vault revision as `memvault log` prints it (full or abbreviated sha), or any name
git reads in the vault (main~3).

"""
