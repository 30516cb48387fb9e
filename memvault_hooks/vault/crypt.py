"""The vault key and age encryption (pyrage) for the encrypted remote.

Contract (SPEC "Encrypted remote"):
- The vault key is an age x25519 identity, generated once (`new_key`) and kept locally in
  one file readable by its owner alone (`save_key`: 0600, its folder 0700); pushes read it
  (`load_key`) and need no passphrase.
- On the remote the key travels wrapped by the user's passphrase (`wrap_key`, age's scrypt
  passphrase mode: `age -d` opens it by hand). `unwrap_key` with a wrong passphrase raises
  `WrongPassphrase`, a clear error, and the caller writes nothing.
- `encrypt_file` / `decrypt_file` stream through age (pyrage works on the files, in
  chunks: memory stays flat whatever the size) into a temporary file beside the target,
  renamed into place only when the whole file was done: a failed decryption (wrong key,
  corrupted or truncated input) leaves no output.
- `passphrase(purpose, interactive)` reads `$MEMVAULT_PASSPHRASE`, else asks at a
  terminal (getpass) only when `interactive` is true and stdin is a tty; hooks and cron
  pass interactive=False and get `PassphraseNeeded`, which the caller turns into
  "push queued: passphrase needed" in `status`.

Wiring (for the integrator): `init`, `init --remote` and `recover` call
`passphrase(..., interactive=True)` once when `vault.encrypt` is true and hand it to
`encrypted_remote.setup`/`join`; sync, hooks and cron never need it (the key file is
`encrypted_remote.key_path(git_dir)`). A passphrase given for a plain remote is ignored
with a note (the caller's job).
"""
from __future__ import annotations

import os

from memvault_hooks.errors import MemvaultError
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PASSPHRASE_ENV = "MEMVAULT_PASSPHRASE"
KEY_HEADER = "# memvault vault key (age identity): keep it secret\n"


class WrongPassphrase(MemvaultError):
    def __init__(self) -> None:
        super().__init__("the passphrase does not open the vault key on the remote (wrong passphrase); "
                         "nothing was written. Run the command again with the right passphrase "
                         f"(${PASSPHRASE_ENV} or typed at the terminal)")


class PassphraseNeeded(MemvaultError):
    def __init__(self, purpose: str) -> None:
        super().__init__(f"a passphrase is needed to {purpose}: set ${PASSPHRASE_ENV}, or run the "
                         "command in a terminal to type it (hooks and cron never ask)")


class CryptError(MemvaultError):
    pass


def passphrase(purpose: str, interactive: bool, confirm: bool = False) -> str:
    """The user's passphrase: $MEMVAULT_PASSPHRASE, else typed at a terminal (only when
    `interactive` and stdin is a tty; `confirm` asks twice, for a new one)."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    import sys

    if not interactive or not sys.stdin.isatty():
        raise PassphraseNeeded(purpose)
    import getpass

    first = getpass.getpass(f"Passphrase to {purpose}: ")
    if not first:
        raise CryptError("an empty passphrase protects nothing; run the command again and type one")
    if confirm and getpass.getpass("Same passphrase again: ") != first:
        raise CryptError("the two passphrases differ; run the command again")
    return first


def new_key() -> str:
    """A new vault key: an age identity, "AGE-SECRET-KEY-1..."."""
    import pyrage

    return str(pyrage.x25519.Identity.generate())


def recipient(key: str) -> str:
    """The public half of a key ("age1...")."""
    return str(_identity(key).to_public())


def key_id(key: str) -> str:
    """A name for the key that says nothing about it (a hash of its public half)."""
    import hashlib

    return hashlib.sha256(recipient(key).encode()).hexdigest()[:16]


def _identity(key: str) -> Any:
    import pyrage

    try:
        return pyrage.x25519.Identity.from_str(key.strip())
    except Exception:
        raise CryptError("the vault key is not an age identity (damaged key file)") from None


def _key_text(key: str) -> bytes:
    return (KEY_HEADER + key.strip() + "\n").encode()


def _key_from_text(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("AGE-SECRET-KEY-"):
            _identity(line)
            return line.strip()
    raise CryptError("no age identity in the vault key file (damaged key file)")


def save_key(path: str, key: str) -> None:
    """Keep the key at `path`, readable by its owner alone."""
    from memvault_hooks.atomic import write_atomic

    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    write_atomic(path, _key_text(key), 0o600, durable=True)


def load_key(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return _key_from_text(f.read())
    except FileNotFoundError:
        raise CryptError(f"the vault key is missing ({path}); run `memvault init --remote URL` "
                         "to fetch it from the encrypted remote with the passphrase") from None


def wrap_key(key: str, phrase: str) -> bytes:
    """The key encrypted with the passphrase (age's passphrase mode)."""
    import pyrage

    return bytes(pyrage.passphrase.encrypt(_key_text(key), phrase))


def unwrap_key(wrapped: bytes, phrase: str) -> str:
    """The key from `wrap_key`'s output; WrongPassphrase when the passphrase does not open it."""
    import pyrage

    try:
        text = bytes(pyrage.passphrase.decrypt(wrapped, phrase))
    except pyrage.DecryptError:
        raise WrongPassphrase() from None
    return _key_from_text(text.decode("utf-8", "replace"))


def encrypt_file(src: str, dst: str, key: str) -> None:
    """Encrypt `src` to the key's recipient into `dst` (streamed; dst appears whole or not)."""
    import pyrage

    rcpt = pyrage.x25519.Recipient.from_str(recipient(key))
    _through_temp(dst, lambda tmp: pyrage.encrypt_file(src, tmp, [rcpt]), "encrypt")


def decrypt_file(src: str, dst: str, key: str) -> None:
    """Decrypt `src` with the key into `dst`; CryptError (and no dst) when it is not whole."""
    _through_temp(dst, lambda tmp: _decrypt(src, tmp, key), "decrypt")


def _decrypt(src: str, tmp: str, key: str) -> None:
    import pyrage

    pyrage.decrypt_file(src, tmp, [_identity(key)])


def _through_temp(dst: str, work: Callable[[str], object], verb: str) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dst) or ".", prefix=".memvault-", suffix=".tmp")
    os.close(fd)
    try:
        try:
            work(tmp)
        except MemvaultError:
            raise
        except Exception as exc:
            raise CryptError(f"could not {verb} {os.path.basename(dst)}: "
                             f"{exc or type(exc).__name__} (damaged, truncated or not for this key)") from None
        os.chmod(tmp, 0o600)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
