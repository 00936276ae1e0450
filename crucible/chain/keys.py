"""Where a signing key comes from: an encrypted eth-account keystore, or an environment variable. Never argv.

A raw key on the command line would land in shell history and in every process listing, so commands take a
keystore path (and read its password from CRUCIBLE_KEYSTORE_PASSWORD or a prompt), or read CRUCIBLE_PRIVATE_KEY.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from crucible.errors import KeystoreError

PASSWORD_ENV = "CRUCIBLE_KEYSTORE_PASSWORD"
PRIVATE_KEY_ENV = "CRUCIBLE_PRIVATE_KEY"


def load_account(keystore: Path | None = None, password: str | None = None) -> LocalAccount:
    """The account to sign with: from `keystore` if given, else from CRUCIBLE_PRIVATE_KEY."""
    if keystore is not None:
        return _from_keystore(keystore, password)
    raw = os.environ.get(PRIVATE_KEY_ENV)
    if raw:
        try:
            return Account.from_key(raw.strip())
        except (ValueError, TypeError) as exc:
            raise KeystoreError(f"{PRIVATE_KEY_ENV} does not hold a valid private key") from exc
    raise KeystoreError(f"no signing key: pass --keystore PATH (see `crucible keys new`) or set {PRIVATE_KEY_ENV}")


def _from_keystore(path: Path, password: str | None) -> LocalAccount:
    if not path.exists():
        raise KeystoreError(f"keystore {path} does not exist; create one with `crucible keys new {path}`")
    if path.is_dir():
        raise KeystoreError(f"keystore {path} is a directory; give the keystore file (see `crucible keys new`)")
    try:
        encrypted = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeystoreError(f"keystore {path} is not a readable JSON keystore") from exc
    crypto = encrypted.get("crypto", encrypted.get("Crypto")) if isinstance(encrypted, dict) else None
    if not isinstance(crypto, dict) or "ciphertext" not in crypto or "kdf" not in crypto:
        raise KeystoreError(
            f"{path} is JSON but not an encrypted keystore (expected a Web3 Secret Storage file, as written by "
            "`crucible keys new`)"
        )
    secret = password if password is not None else _password(f"password for {path}: ")
    try:
        return Account.from_key(Account.decrypt(encrypted, secret))
    except ValueError as exc:
        raise KeystoreError(f"wrong password for keystore {path} (or the file is corrupted)") from exc
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise KeystoreError(f"keystore {path} is malformed or uses an unsupported format ({exc})") from exc


def _password(prompt: str) -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise KeystoreError(f"no keystore password: set {PASSWORD_ENV} or run in a terminal to be prompted")
    return getpass.getpass(prompt)


def create_keystore(path: Path, password: str, private_key: str | None = None) -> LocalAccount:
    """Writes a new scrypt-encrypted keystore (mode 0600) and returns its account. Refuses to overwrite."""
    if path.exists():
        raise KeystoreError(f"{path} already exists; refusing to overwrite a key")
    try:
        account = Account.from_key(private_key.strip()) if private_key else Account.create()
    except (ValueError, TypeError) as exc:
        raise KeystoreError(f"{PRIVATE_KEY_ENV} does not hold a valid private key (64 hex digits)") from exc
    encrypted = Account.encrypt(account.key, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(encrypted, handle)
    return account
