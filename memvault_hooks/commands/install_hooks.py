"""`memvault install-hooks`: not built yet."""
from __future__ import annotations

import argparse

from memvault_hooks.errors import MemvaultError


def run(args: argparse.Namespace) -> int:
    raise MemvaultError("'install-hooks' is not built yet")
