"""A signer for one keyring account: signs transactions, messages and typed data, never shows its key."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.datastructures import SignedMessage, SignedTransaction
from eth_account.messages import SignableMessage, encode_defunct, encode_typed_data

from chain.wallet.errors import SigningError
from chain.wallet.keys import SecretKey


class Signer:
    """Signs for `address`. Holds the key for its own lifetime (loaded once from the keyring); its
    repr, str and errors name only the address. Build it with `Wallet.signer(address)`."""

    __slots__ = ("_account", "_address", "_label")

    def __init__(self, key: SecretKey, label: str = ""):
        self._account = Account.from_key(key.reveal())
        self._address: str = self._account.address
        self._label = label

    @property
    def address(self) -> str:
        return self._address

    @property
    def label(self) -> str:
        return self._label

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTransaction:
        """Sign a transaction dict (legacy, EIP-2930 or EIP-1559 fields, as web3 builds them)."""
        return self._sign("the transaction", lambda: self._account.sign_transaction(tx))

    def sign_message(self, message: SignableMessage) -> SignedMessage:
        """Sign an already encoded message (e.g. `encode_defunct(...)`)."""
        return self._sign("the message", lambda: self._account.sign_message(message))

    def sign_text(self, text: str | bytes) -> SignedMessage:
        """EIP-191 personal_sign of text or bytes."""
        if isinstance(text, str):
            message = encode_defunct(text=text)
        else:
            message = encode_defunct(primitive=text)
        return self.sign_message(message)

    def sign_typed_data(self, full_message: dict[str, Any]) -> SignedMessage:
        """EIP-712 signature of a full typed-data document (types, primaryType, domain, message)."""
        return self._sign("the typed data", lambda: self._account.sign_message(encode_typed_data(full_message=full_message)))

    def unsafe_sign_hash(self, message_hash: bytes) -> SignedMessage:
        """Sign a raw 32-byte hash (what go-livepeer's ticket signatures need); never sign hashes you did not build."""
        return self._sign("the hash", lambda: self._account.unsafe_sign_hash(message_hash))

    def _sign(self, what: str, op):
        failure: str | None = None
        try:
            return op()
        except Exception as exc:  # eth-account raises many types; report the kind without its text
            failure = f"{type(exc).__name__}: {_first_line(str(exc))}"
        raise SigningError(f"could not sign {what} for {self._address} ({_scrub(failure, self)}): check its fields")

    def __repr__(self) -> str:
        label = f", label={self._label!r}" if self._label else ""
        return f"Signer({self._address}{label})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Signer cannot be pickled")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]


def _scrub(text: str, signer: Signer) -> str:
    """Belt and braces: drop the key's hex from a message eth-account built, should it ever appear."""
    secret = signer._account.key.hex().lower().removeprefix("0x")
    lowered = text.lower()
    while secret in lowered:
        i = lowered.index(secret)
        text = text[:i] + "<hidden>" + text[i + len(secret):]
        lowered = text.lower()
    return text
