"""`memvault show`: not built yet."""
from __future__ import annotations

import argparse

from memvault_hooks.errors import MemvaultError


def run(args: argparse.Namespace) -> int:
    raise MemvaultError("'show' is not built yet")
