"""The vault key, its passphrase wrapping and streamed age encryption (real pyrage; the age
CLI, where installed, proves the formats are plain age)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from memvault_hooks.vault import crypt
from support import run_in_pty


def test_key_kept_private_and_loaded_back(tmp_path: Path) -> None:
    key = crypt.new_key()
    assert key.startswith("AGE-SECRET-KEY-1")
    path = tmp_path / "git" / "memvault-key"
    crypt.save_key(str(path), key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypt.load_key(str(path)) == key
    assert crypt.recipient(key).startswith("age1")
    assert key not in crypt.key_id(key) and len(crypt.key_id(key)) == 16


def test_missing_or_damaged_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(crypt.CryptError, match="vault key is missing.*init --remote"):
        crypt.load_key(str(tmp_path / "none"))
    (tmp_path / "bad").write_text("not a key\n")
    with pytest.raises(crypt.CryptError, match="damaged"):
        crypt.load_key(str(tmp_path / "bad"))


def test_wrapped_key_opens_with_the_passphrase_only() -> None:
    key = crypt.new_key()
    wrapped = crypt.wrap_key(key, "correct horse")
    assert key.encode() not in wrapped and wrapped.startswith(b"age-encryption.org/v1")
    assert crypt.unwrap_key(wrapped, "correct horse") == key
    with pytest.raises(crypt.WrongPassphrase, match="wrong passphrase.*nothing was written") as exc:
        crypt.unwrap_key(wrapped, "wrong horse")
    assert exc.value.exit_code == 1


def test_streamed_round_trip_and_no_output_on_failure(tmp_path: Path) -> None:
    key = crypt.new_key()
    plain = tmp_path / "plain"
    plain.write_bytes(os.urandom(5_000_000) + b"memory content")
    enc, dec = tmp_path / "enc.age", tmp_path / "dec"
    crypt.encrypt_file(str(plain), str(enc), key)
    assert b"memory content" not in enc.read_bytes()
    crypt.decrypt_file(str(enc), str(dec), key)
    assert dec.read_bytes() == plain.read_bytes()
    assert stat.S_IMODE(dec.stat().st_mode) == 0o600
    truncated = tmp_path / "truncated.age"
    truncated.write_bytes(enc.read_bytes()[:-1000])
    for bad_src, bad_key in ((truncated, key), (enc, crypt.new_key())):
        out = tmp_path / "out"
        with pytest.raises(crypt.CryptError, match="could not decrypt"):
            crypt.decrypt_file(str(bad_src), str(out), bad_key)
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dec", "enc.age", "plain", "truncated.age"]


def test_passphrase_from_environment_never_prompts_in_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMVAULT_PASSPHRASE", "from env")
    assert crypt.passphrase("open the vault key", interactive=False) == "from env"
    monkeypatch.delenv("MEMVAULT_PASSPHRASE")
    with pytest.raises(crypt.PassphraseNeeded, match=r"MEMVAULT_PASSPHRASE.*hooks and cron never ask"):
        crypt.passphrase("push to the encrypted remote", interactive=False)
    # interactive, but stdin is no terminal (a cron job, CI): still no prompt
    code = ("import sys; from memvault_hooks.vault import crypt\n"
            "try:\n crypt.passphrase('x', interactive=True)\n"
            "except crypt.PassphraseNeeded: sys.exit(3)\n")
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_PASSPHRASE"}
    proc = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, env=env, timeout=30)
    assert proc.returncode == 3


def test_passphrase_typed_at_a_terminal(tmp_path: Path) -> None:
    code = "from memvault_hooks.vault import crypt; print('GOT', crypt.passphrase('x', interactive=True, confirm=True))"
    env = {k: v for k, v in os.environ.items() if k != "MEMVAULT_PASSPHRASE"}
    out = run_in_pty([sys.executable, "-c", code], [b"typed one\n", b"typed one\n"], env)
    assert b"GOT typed one" in out


@pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed (.ci/run installs Debian's age)")
def test_age_cli_opens_what_pyrage_wrote(tmp_path: Path) -> None:
    key = crypt.new_key()
    key_file = tmp_path / "key.txt"
    crypt.save_key(str(key_file), key)
    (tmp_path / "plain").write_bytes(b"hello vault\n")
    crypt.encrypt_file(str(tmp_path / "plain"), str(tmp_path / "enc.age"), key)
    out = subprocess.run(["age", "-d", "-i", str(key_file), str(tmp_path / "enc.age")],
                         capture_output=True, check=True, timeout=30).stdout
    assert out == b"hello vault\n"
    (tmp_path / "wrapped.age").write_bytes(crypt.wrap_key(key, "pass phrase"))
    typed = run_in_pty(["age", "-d", "-o", str(tmp_path / "unwrapped.txt"), str(tmp_path / "wrapped.age")],
                        [b"pass phrase\n"], dict(os.environ))
    assert crypt.load_key(str(tmp_path / "unwrapped.txt")) == key, typed
