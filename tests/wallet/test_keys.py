"""Key parsing and keystores, without a keyring."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from chain.wallet import InvalidKeystore, InvalidPassphrase, InvalidPrivateKey, SecretKey, WrongPassphrase
from chain.wallet.keys import SECP256K1_N, decrypt_keystore, encrypt_keystore, parse_private_key

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = Account.from_key(bytes.fromhex(KEY)).address


@pytest.mark.parametrize("text", [KEY, "0x" + KEY, KEY.upper(), "0X" + KEY.upper(), f"  {KEY}\n"])
def test_hex_forms_give_the_same_account(text):
    assert parse_private_key(text).address == ADDRESS


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no private key given"),
        (KEY[:-2], "62 hex digits, it needs exactly 64"),
        (KEY + "00", "66 hex digits"),
        (KEY[:-1] + "g", "not hex digits"),
        ("0" * 64, "zero or not below the secp256k1 group order"),
        (f"{SECP256K1_N:064x}", "zero or not below"),
        ("f" * 64, "zero or not below"),
    ],
)
def test_bad_hex_is_refused_with_the_reason(text, says):
    with pytest.raises(InvalidPrivateKey, match=says) as info:
        parse_private_key(text)
    if len(text) > 8:
        assert text.strip().lower() not in str(info.value).lower()


def test_secret_key_never_shows_itself():
    key = parse_private_key(KEY)
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", "%s" % key):
        assert KEY not in shown.lower()
        assert "hidden" in shown


def test_keystore_round_trip_and_geth_layout():
    key = parse_private_key(KEY)
    document = json.loads(encrypt_keystore(key, "correct horse", scrypt_n=2**12))
    assert document["version"] == 3
    assert document["crypto"]["kdf"] == "scrypt"
    assert document["address"] == ADDRESS[2:].lower()  # geth writes it without 0x, lower case
    assert decrypt_keystore(json.dumps(document), "correct horse") == key
    assert bytes(Account.decrypt(document, "correct horse")).hex() == KEY  # what geth/eth-account read


def test_pbkdf2_keystore_is_accepted():
    document = Account.encrypt(bytes.fromhex(KEY), "pw", kdf="pbkdf2", iterations=1000)
    assert decrypt_keystore(json.dumps(document).encode(), "pw").address == ADDRESS


def test_wrong_passphrase():
    document = encrypt_keystore(parse_private_key(KEY), "right", scrypt_n=2**12)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        decrypt_keystore(document, "wrong")


def test_empty_passphrase_is_refused_for_export():
    with pytest.raises(InvalidPassphrase, match="empty passphrase"):
        encrypt_keystore(parse_private_key(KEY), "")


def _keystore() -> dict:
    return Account.encrypt(bytes.fromhex(KEY), "pw", iterations=2**12)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"version": 3}).encode(), "version 3 JSON keystore"),
        (json.dumps({**_keystore(), "version": 4}).encode(), "version 3 JSON keystore"),
        (json.dumps({**_keystore(), "crypto": {"kdf": "scrypt"}}).encode(), "lacks cipher"),
        (json.dumps({**_keystore(), "address": "00" * 20}).encode(), "address field does not match"),
        (b" " * (70 * 1024), "larger than 64 KiB"),
    ],
    # fixed ids: the keystores above are encrypted with a random IV and salt, and ids made from them would
    # differ between pytest-xdist workers, which then refuse to run the suite
    ids=["not-json", "not-utf8", "not-an-object", "no-crypto", "version-4", "no-cipher", "wrong-address",
         "over-64KiB"],
)
def test_bad_keystores_are_refused_with_the_reason(data, says):
    with pytest.raises(InvalidKeystore, match=says):
        decrypt_keystore(data, "pw")


def test_damaged_ciphertext_is_not_blamed_on_the_passphrase_silently():
    doc = _keystore()
    doc["crypto"]["kdfparams"]["n"] = "many"
    with pytest.raises(InvalidKeystore, match="could not be decrypted"):
        decrypt_keystore(json.dumps(doc), "pw")


def test_secret_key_rejects_bad_bytes():
    with pytest.raises(InvalidPrivateKey):
        SecretKey(b"\x00" * 32)
    with pytest.raises(InvalidPrivateKey):
        SecretKey(b"\x01" * 31)
