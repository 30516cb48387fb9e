"""Remote URLs: the one normaliser (`resolve`, `same`); masking is tested with the trust rule."""
from __future__ import annotations

import os
from pathlib import Path

from memvault_hooks import urls


def test_resolve_reads_a_relative_path_from_the_base_and_leaves_urls_alone(tmp_path: Path) -> None:
    assert urls.resolve("../remote.git", str(tmp_path / "project")) == str(tmp_path / "remote.git")
    assert urls.resolve("~/vault.git", "/anywhere") == os.path.expanduser("~/vault.git")
    assert urls.resolve("/abs/vault.git", "/anywhere") == "/abs/vault.git"
    for url in ("https://host/x.git", "git@host:x.git", "ssh://host/x", ""):
        assert urls.resolve(url, "/anywhere") == url


def test_same_compares_local_repositories_by_real_path_and_urls_without_suffixes(tmp_path: Path) -> None:
    real = tmp_path / "remote.git"
    real.mkdir()
    (tmp_path / "link.git").symlink_to(real)
    assert urls.same(str(tmp_path / "link.git"), str(real))
    assert urls.same("remote.git", str(real), base=str(tmp_path))
    assert urls.same("https://host/x.git", "https://host/x/")
    assert not urls.same("https://host/x.git", "https://host/y.git")

