"""Accounts whose private keys live only in the OS keyring.

Layout in the keyring (service `livepeer-console` by default):
- `account:<checksummed address>` the private key as 64 hex digits, one entry per account;
- `wallet-index`                  a JSON list of {address, label, created}: no secrets, it exists
                                  because the keyring API cannot enumerate entries.

The wallet knows nothing of settings: `choose_account` tells the caller which account to use given
the one it has configured.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from keyring.backend import KeyringBackend

from chain.wallet.errors import (
    AccountExists,
    InvalidAddress,
    InvalidLabel,
    KeyringFailure,
    NoAccount,
    UnknownAccount,
    WalletError,
)
from chain.wallet.keyring_store import KeyringState, KeyringStore
from chain.wallet.keys import SecretKey, decrypt_keystore, encrypt_keystore, parse_private_key
from chain.wallet.signer import Signer

log = logging.getLogger(__name__)

SERVICE = "livepeer-console"
INDEX_ENTRY = "wallet-index"
LABEL_MAX = 64


@dataclass(frozen=True)
class AccountInfo:
    address: str  # checksummed
    label: str
    created: datetime  # UTC

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "label": self.label, "created": self.created.isoformat()}


def normalize_address(text: str) -> str:
    """The checksummed form of an address typed in any case; a wrong mixed-case checksum is refused."""
    candidate = text.strip()
    if not candidate.startswith(("0x", "0X")):
        candidate = "0x" + candidate
    shown = text.strip()
    if len(shown) > 50:
        shown = shown[:12] + "…"
    if not is_hex_address(candidate):
        raise InvalidAddress(
            f"{shown!r} is not an Ethereum address: give 0x and 40 hex digits (as `lpc wallet list` shows them)"
        )
    digits = candidate[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(candidate):
        raise InvalidAddress(
            f"{shown!r} has mixed case but a wrong checksum, so it may hold a typo: check it, or give it in lower case"
        )
    return to_checksum_address(candidate)


def check_label(label: str | None) -> str:
    label = (label or "").strip()
    if len(label) > LABEL_MAX:
        raise InvalidLabel(f"the label is {len(label)} characters long; keep it to {LABEL_MAX}")
    if any(unicodedata.category(c).startswith("C") for c in label):
        raise InvalidLabel("the label contains control characters: use printable text")
    return label


class Wallet:
    """Keyring-backed accounts. `backend` defaults to `keyring.get_keyring()`; `scrypt_n` is the
    scrypt work factor for exports (None = eth-account's default, 2**18, as geth uses)."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        service: str = SERVICE,
        scrypt_n: int | None = None,
    ):
        self._store = KeyringStore(service, backend)
        self._scrypt_n = scrypt_n

    # ---- reading ----------------------------------------------------------------------------
    def list(self) -> list[AccountInfo]:
        """Every account, in the order they were added."""
        return list(self._read_index().values())

    def get(self, address: str) -> AccountInfo:
        checksummed = normalize_address(address)
        info = self._read_index().get(checksummed)
        if info is None:
            raise UnknownAccount(
                f"{checksummed} is not in the keyring wallet: `lpc wallet list` shows the accounts, "
                "`lpc wallet import` adds one"
            )
        return info

    def choose_account(self, preferred: str | None) -> AccountInfo:
        """The account to act as: the configured one if given (it must exist), else the only one."""
        if preferred:
            try:
                return self.get(preferred)
            except UnknownAccount:
                raise UnknownAccount(
                    f"the default account {normalize_address(preferred)} is not in the keyring wallet: "
                    "choose another with `lpc wallet use ADDRESS` or import its key"
                ) from None
        accounts = self.list()
        if not accounts:
            raise NoAccount("the keyring wallet has no account: create one with `lpc wallet new` or `lpc wallet import`")
        if len(accounts) > 1:
            raise NoAccount(
                f"the keyring wallet has {len(accounts)} accounts and none is the default: "
                "choose one with `lpc wallet use ADDRESS`"
            )
        return accounts[0]

    def signer(self, address: str) -> Signer:
        """A signer for the account (reads its key from the keyring once)."""
        info = self.get(address)
        return Signer(self._load_key(info.address), label=info.label)

    def check_key(self, address: str) -> None:
        """Raise (UnknownAccount, KeyringFailure) unless the account's key is in the keyring and valid.
        The key is read and dropped: nothing of it is returned or shown."""
        self._load_key(self.get(address).address)

    def keyring_state(self) -> KeyringState:
        """The keyring backend and whether it is locked, asked without unlocking it."""
        return self._store.state()

    # ---- adding -----------------------------------------------------------------------------
    def create(self, label: str | None = None) -> AccountInfo:
        """A new account with a fresh random key."""
        return self._add(SecretKey.generate(), label, how="created")

    def import_hex(self, key_hex: str, label: str | None = None) -> AccountInfo:
        """Import a key given as 64 hex digits (0x optional). Never overwrites an existing account."""
        return self._add(parse_private_key(key_hex), label, how="imported from hex")

    def import_keystore(self, json_data: bytes | str, passphrase: str, label: str | None = None) -> AccountInfo:
        """Import the key of a geth / go-livepeer JSON keystore. Never overwrites an existing account."""
        label = check_label(label)
        return self._add(decrypt_keystore(json_data, passphrase), label, how="imported from a keystore")

    # ---- exporting and removing -------------------------------------------------------------
    def export_keystore(self, address: str, passphrase: str) -> str:
        """The account's key as a scrypt JSON keystore (v3), encrypted with `passphrase`."""
        info = self.get(address)
        document = encrypt_keystore(self._load_key(info.address), passphrase, scrypt_n=self._scrypt_n)
        log.info("exported account %s as a keystore", info.address)
        return document

    def remove(self, address: str) -> AccountInfo:
        """Delete the account's key and index entry. Gone for good unless exported before."""
        checksummed = normalize_address(address)
        index = self._read_index()
        info = index.get(checksummed)
        had_key = self._store.delete(_key_entry(checksummed))
        if info is None:
            if not had_key:
                raise UnknownAccount(
                    f"{checksummed} is not in the keyring wallet: `lpc wallet list` shows the accounts"
                )
            info = AccountInfo(checksummed, "", datetime.now(timezone.utc))
        else:
            del index[checksummed]
            self._write_index(index)
        log.info("removed account %s from the keyring", checksummed)
        return info

    # ---- internals --------------------------------------------------------------------------
    def _add(self, key: SecretKey, label: str | None, how: str) -> AccountInfo:
        label = check_label(label)
        address = key.address
        index = self._read_index()
        existing = index.get(address)
        if existing is not None or self._store.get(_key_entry(address)) is not None:
            named = f" (label {existing.label!r})" if existing and existing.label else ""
            raise AccountExists(
                f"{address}{named} is already in the keyring wallet; nothing was changed. "
                "To replace it, remove it first with `lpc wallet remove`"
            )
        info = AccountInfo(address, label, datetime.now(timezone.utc).replace(microsecond=0))
        self._store.set(_key_entry(address), key.reveal().hex())
        index[address] = info
        try:
            self._write_index(index)
        except WalletError:
            self._store.delete(_key_entry(address))  # don't leave a key the index doesn't know
            raise
        log.info("%s account %s", how, address)
        return info

    def _load_key(self, address: str) -> SecretKey:
        stored = self._store.get(_key_entry(address))
        if stored is None:
            raise UnknownAccount(
                f"the key of {address} is missing from the keyring (the wallet index lists it): "
                "import the key again, or `lpc wallet remove` the account"
            )
        try:
            return parse_private_key(stored)
        except WalletError:
            raise KeyringFailure(
                f"the keyring entry for {address} does not hold a valid key: remove the account and import its key again"
            ) from None

    def _read_index(self) -> dict[str, AccountInfo]:
        raw = self._store.get(INDEX_ENTRY)
        if raw is None:
            return {}
        try:
            rows = json.loads(raw)
            index = {}
            for row in rows:
                address = to_checksum_address(row["address"])
                created = datetime.fromisoformat(row["created"])
                index[address] = AccountInfo(address, str(row.get("label", "")), created)
            return index
        except (ValueError, TypeError, KeyError):
            raise KeyringFailure(
                f"the wallet index in the keyring ({self._store.service}/{INDEX_ENTRY}) is damaged: "
                "delete that entry (e.g. with Seahorse or secret-tool) and import the keys again"
            ) from None

    def _write_index(self, index: dict[str, AccountInfo]) -> None:
        rows = [info.to_json() for info in index.values()]
        self._store.set(INDEX_ENTRY, json.dumps(rows))


def _key_entry(address: str) -> str:
    return f"account:{address}"
