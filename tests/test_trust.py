"""trust.py: which settings reach outside the project, the record `allow` keeps, the check."""
from __future__ import annotations

import marshal
import os
import stat
from pathlib import Path

import platformdirs

from memvault_hooks import config
from memvault_hooks import dirs
from memvault_hooks import trust
from memvault_hooks import urls


def _cfg(root: Path, text: str) -> dict[str, object]:
    (root / ".memvault.yaml").write_text(text)
    return config.load(str(root)).to_dict()


def test_only_settings_that_reach_outside_need_allowing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    assert _cfg(root, "version: 1\nfiles: [a.json]\nsource_dir: sub\nvault:\n  path: /tmp/v\n")["outside"] == ()
    cfg = _cfg(root, "version: 1\nsource_dir: ~/.ssh\nlog_file: ~/.bashrc\nerror_log: /tmp/e\n"
                     "vault:\n  remote: https://alice:s3cret@example.invalid/v.git\n")
    keys = [key for key, *_ in cfg["outside"]]  # type: ignore[attr-defined]
    assert keys == ["vault.remote", "log_file", "error_log", "source_dir"]
    described = "\n".join(trust.describe(cfg))
    assert "s3cret" not in described and "https://alice:***@example.invalid/v.git" in described
    assert os.path.expanduser("~/.bashrc") in described and os.path.expanduser("~/.ssh") in described


def test_allow_records_privately_and_any_change_needs_it_again(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    cfg = _cfg(root, "version: 1\nvault:\n  remote: /srv/a.git\n")
    assert trust.waiting(cfg) == ["vault.remote"]
    try:
        trust.require(cfg)
        raise AssertionError("not raised")
    except trust.NotAllowed as exc:
        assert exc.exit_code == 2 and "vault.remote" in str(exc) and "memvault allow" in str(exc)
    path = trust.allow(cfg)
    assert trust.waiting(cfg) == []
    assert Path(path).parent == Path(dirs.state_dir()) / "allowed"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(Path(path).parent).st_mode) == 0o700
    changed = _cfg(root, "version: 1\nvault:\n  remote: /srv/b.git\n")
    assert trust.waiting(changed) == ["vault.remote"]
    assert "changed vault.remote since you allowed it" in trust.message(changed)
    added = _cfg(root, "version: 1\nlog_file: /tmp/x.log\nvault:\n  remote: /srv/a.git\n")
    assert trust.waiting(added) == ["log_file"]
    assert "sets log_file, which reaches outside the project and is not allowed yet" in trust.message(added)
    other = tmp_path / "q"
    other.mkdir()
    assert trust.waiting(_cfg(other, "version: 1\nvault:\n  remote: /srv/a.git\n")) == ["vault.remote"]


def test_the_hooks_state_dir_is_platformdirs_own() -> None:
    if dirs.fast_state_dir() is not None:
        assert dirs.fast_state_dir() == platformdirs.user_state_dir("memvault", appauthor=False)


def test_mask_hides_passwords_and_token_users() -> None:
    assert urls.mask("push to https://alice:ghp_abc@host/x.git failed") == "push to https://alice:***@host/x.git failed"
    assert urls.mask("'https://ghp_abc@github.com/x'") == "'https://***@github.com/x'"
    assert urls.mask("ssh://git@host:22/x and git@github.com:me/v.git") == "ssh://git@host:22/x and git@github.com:me/v.git"
    assert urls.mask("https://host:443/a@b") == "https://host:443/a@b"
    assert urls.mask("no url here") == "no url here"


def test_remote_that_is_an_option_or_inside_the_project_is_a_config_error(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "inner.git").mkdir(parents=True)
    for remote in ("--upload-pack=touch x;:", "-oProxyCommand=x", "inner.git", str(root / "inner.git"),
                   f"file://{root}/inner.git"):
        (root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  remote: '{remote}'\n")
        try:
            config.load(str(root))
            raise AssertionError(f"{remote} accepted")
        except config.ConfigError as exc:
            assert exc.key == "vault.remote" and "Fix:" in str(exc)
    (root / ".memvault.yaml").write_text(f"version: 1\nvault:\n  remote: '{tmp_path / 'outside.git'}'\n")
    assert config.load(str(root)).remote == str(tmp_path / "outside.git")


def test_a_hook_cache_written_before_the_rule_is_not_used(tmp_path: Path) -> None:
    from memvault_hooks import fastpath

    root = tmp_path / "p"
    root.mkdir()
    (root / ".memvault.yaml").write_text("version: 1\nvault:\n  remote: /srv/a.git\n")
    cfg = config.load(str(root))
    fastpath.save_config(str(root), None, cfg)
    assert fastpath.cached_config(str(root), None) == cfg
    assert fastpath.not_allowed(cfg)
    cache = fastpath._cache_file(fastpath._key(str(root), None))
    assert cache is not None
    with open(cache, "rb") as f:
        cached = marshal.loads(f.read())
    del cached["config"]["outside"]  # as the previous release cached it
    with open(cache, "wb") as f:
        f.write(marshal.dumps(cached))
    assert fastpath.cached_config(str(root), None) is None
