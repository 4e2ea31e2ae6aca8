"""Private keys in memory, hex parsing and JSON keystores (geth / go-livepeer v3, scrypt).

A key is held in a `SecretKey`, whose repr and str never show it, so a key that ends up in a log
line, an f-string or a debugger's variable view stays hidden. Errors raised here are built from our
own words and raised outside the `except` block that saw the key, so no exception chain carries it.
"""

from __future__ import annotations

import json
import string
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from chain.wallet.errors import InvalidKeystore, InvalidPassphrase, InvalidPrivateKey, WrongPassphrase

# Order of the secp256k1 group: a private key is an integer in [1, N-1].
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEYSTORE_MAX_BYTES = 64 * 1024
_HEX = frozenset(string.hexdigits)


class SecretKey:
    """32 secret bytes that never show themselves in repr, str or format."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes):
        if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < SECP256K1_N:
            raise InvalidPrivateKey("not a valid secp256k1 private key")
        self._raw = bytes(raw)

    @classmethod
    def generate(cls) -> "SecretKey":
        return cls(bytes(Account.create().key))

    def reveal(self) -> bytes:
        """The raw key bytes: only for signing or for writing into the keyring."""
        return self._raw

    @property
    def address(self) -> str:
        return Account.from_key(self._raw).address

    def __repr__(self) -> str:
        return "SecretKey(<hidden>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):
        raise TypeError("a SecretKey cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and other._raw == self._raw

    __hash__ = None  # type: ignore[assignment]


def parse_private_key(text: str) -> SecretKey:
    """A key from 64 hex digits, with or without 0x, in any case, surrounding whitespace ignored."""
    digits = text.strip()
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    if not digits:
        raise InvalidPrivateKey("no private key given: paste the 64 hex digits of the key (0x optional)")
    if not all(c in _HEX for c in digits):
        raise InvalidPrivateKey(
            "the private key contains characters that are not hex digits: give 64 hex digits (0-9, a-f), 0x optional"
        )
    if len(digits) != 64:
        raise InvalidPrivateKey(
            f"the private key has {len(digits)} hex digits, it needs exactly 64 (32 bytes): check it was copied whole"
        )
    value = int(digits, 16)
    if not 0 < value < SECP256K1_N:
        raise InvalidPrivateKey(
            "the private key is zero or not below the secp256k1 group order, so no account can use it: check the key"
        )
    return SecretKey(value.to_bytes(32, "big"))


def read_keystore(data: bytes | str) -> dict[str, Any]:
    """Parse and shape-check a JSON keystore without decrypting it."""
    if isinstance(data, bytes):
        if len(data) > KEYSTORE_MAX_BYTES:
            raise InvalidKeystore(f"the keystore is larger than {KEYSTORE_MAX_BYTES // 1024} KiB: it is not a key file")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidKeystore("the keystore is not UTF-8 text: give the JSON key file geth or go-livepeer wrote") from None
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        doc = None
    else:
        where = None
    if where is not None:
        raise InvalidKeystore(f"the keystore is not valid JSON ({where}): give the JSON key file geth or go-livepeer wrote")
    if not isinstance(doc, dict):
        raise InvalidKeystore("the keystore JSON is not an object: give the JSON key file geth or go-livepeer wrote")
    crypto = doc.get("crypto", doc.get("Crypto"))
    if doc.get("version") != 3 or not isinstance(crypto, dict):
        raise InvalidKeystore(
            "the file is not a version 3 JSON keystore (needs \"version\": 3 and a \"crypto\" section): "
            "give the key file geth or go-livepeer wrote"
        )
    missing = [k for k in ("cipher", "ciphertext", "cipherparams", "kdf", "kdfparams", "mac") if k not in crypto]
    if missing:
        raise InvalidKeystore(f"the keystore's crypto section lacks {', '.join(missing)}: the file is damaged or not a keystore")
    if crypto["kdf"] not in ("scrypt", "pbkdf2"):
        raise InvalidKeystore(f"the keystore uses key derivation {crypto['kdf']!r}; only scrypt and pbkdf2 are supported")
    return doc


def decrypt_keystore(data: bytes | str, passphrase: str) -> SecretKey:
    """The key inside a geth/go-livepeer JSON keystore."""
    doc = read_keystore(data)
    failure: str | None = None
    raw = b""
    try:
        raw = bytes(Account.decrypt(doc, passphrase))
    except Exception as exc:  # eth-keyfile raises several unrelated types
        failure = "mac" if "MAC mismatch" in str(exc) else type(exc).__name__
    if failure == "mac":
        raise WrongPassphrase("wrong passphrase for this keystore: try again with the passphrase it was created with")
    if failure is not None:
        raise InvalidKeystore(f"the keystore could not be decrypted ({failure}): the file is damaged or not a keystore")
    try:
        key = SecretKey(raw)
    except InvalidPrivateKey:
        raise InvalidKeystore("the keystore decrypts to an invalid private key: the file is damaged") from None
    claimed = doc.get("address")
    if isinstance(claimed, str) and claimed:
        if not claimed.startswith(("0x", "0X")):
            claimed = "0x" + claimed
        try:
            claimed = to_checksum_address(claimed)
        except ValueError:
            claimed = None
        if claimed != key.address:
            raise InvalidKeystore("the keystore's address field does not match its key: the file is damaged")
    return key


def encrypt_keystore(key: SecretKey, passphrase: str, *, scrypt_n: int | None = None) -> str:
    """A v3 JSON keystore (scrypt) that geth, go-livepeer and eth-account can open."""
    if not passphrase:
        raise InvalidPassphrase("an empty passphrase would leave the exported key unprotected: choose a passphrase")
    doc = Account.encrypt(key.reveal(), passphrase, kdf="scrypt", iterations=scrypt_n)
    doc["address"] = doc["address"].lower()  # as geth writes it
    return json.dumps(doc, indent=2) + "\n"
