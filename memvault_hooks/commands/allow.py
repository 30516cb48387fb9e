"""`memvault allow`: show the settings of this project's config that reach outside it,
and allow them for this user on this machine (SPEC "Trust"; direnv's `allow` is the model)."""
from __future__ import annotations

import argparse

from memvault_hooks import config
from memvault_hooks import trust


HELP = ("show the settings of this project's config that reach outside it (a remote, log files, "
        "folders elsewhere), and allow them for this user; needed again after any change to them")
EPILOG = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond `-C` and `--config`."""


def run(args: argparse.Namespace) -> int:
    loaded = config.from_args(args.directory, args.config, trusted=False)
    for text in loaded.warnings:
        print(f"memvault: warning: {text}")
    cfg = loaded.to_dict()
    where = cfg["config_file"] or "the built-in defaults"
    if not cfg["outside"]:
        print(f"memvault: {where} sets nothing that reaches outside {cfg['project']}: nothing to allow")
        return 0
    already = not trust.waiting(cfg)
    print(f"memvault: {where} asks memvault to:")
    for line in trust.describe(cfg):
        print(f"  {line}")
    path = trust.allow(cfg)
    if already:
        print("memvault: these were already allowed; nothing changed")
    else:
        print(f"memvault: allowed for this user on this machine (recorded in {path}); "
              "a change to any of them needs `memvault allow` again")
    return 0
