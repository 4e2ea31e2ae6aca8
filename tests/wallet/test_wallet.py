"""The keyring wallet on a real gnome-keyring Secret Service."""

from __future__ import annotations

import json
import pickle

import keyring
import pytest
import secretstorage
from eth_account import Account
from eth_account.messages import encode_defunct
from keyring.backends import SecretService, fail

from chain.wallet import (
    AccountExists,
    InvalidAddress,
    InvalidKeystore,
    InvalidLabel,
    InvalidPassphrase,
    InvalidPrivateKey,
    KeyringLocked,
    KeyringUnavailable,
    NoAccount,
    SigningError,
    UnknownAccount,
    Wallet,
    WrongPassphrase,
)
from tests.wallet.conftest import FAST_SCRYPT_N

pytestmark = pytest.mark.keyring


def _items(session) -> dict[str, str]:
    """Every (label -> secret) in the private keyring, read straight through secretstorage."""
    with session.connection() as conn:
        collection = secretstorage.get_default_collection(conn)
        return {item.get_label(): item.get_secret().decode() for item in collection.get_all_items()}


def test_backend_is_the_real_secret_service(secret_service):
    assert isinstance(keyring.get_keyring(), SecretService.Keyring)


def test_create_list_remove_round_trip(wallet, secret_service):
    assert wallet.list() == []
    a = wallet.create(label="orchestrator")
    b = wallet.create()
    assert a.address != b.address
    assert a.address.startswith("0x") and a.address != a.address.lower()  # checksummed
    assert [(x.address, x.label) for x in wallet.list()] == [(a.address, "orchestrator"), (b.address, "")]
    assert a.created.tzinfo is not None

    # A new wallet object (another process, in effect) sees the same accounts: they live in the keyring.
    assert [x.address for x in Wallet().list()] == [a.address, b.address]

    removed = wallet.remove(a.address.lower())
    assert removed.address == a.address
    assert [x.address for x in wallet.list()] == [b.address]
    with pytest.raises(UnknownAccount):
        wallet.signer(a.address)
    assert not any(a.address in label for label in _items(secret_service))


def test_the_key_is_in_the_keyring_and_nowhere_else_in_the_index(wallet, secret_service, known_key):
    info = wallet.import_hex(known_key, label="mine")
    items = _items(secret_service)
    key_items = [secret for label, secret in items.items() if info.address in label]
    assert key_items == [known_key]
    index = [secret for label, secret in items.items() if "wallet-index" in label]
    assert len(index) == 1 and known_key not in index[0].lower()
    assert json.loads(index[0])[0]["address"] == info.address


def test_import_hex_gives_the_matching_address_and_signer(wallet, known_key):
    expected = Account.from_key(bytes.fromhex(known_key))
    info = wallet.import_hex("0x" + known_key.upper())
    assert info.address == expected.address
    signer = wallet.signer(info.address.lower())
    assert signer.address == expected.address
    signed = signer.sign_text("hello")
    assert Account.recover_message(encode_defunct(text="hello"), signature=signed.signature) == expected.address
    tx = {"to": expected.address, "value": 1, "gas": 21000, "maxFeePerGas": 10**9,
          "maxPriorityFeePerGas": 1, "nonce": 0, "chainId": 42161, "type": 2}
    assert signer.sign_transaction(tx).raw_transaction == expected.sign_transaction(tx).raw_transaction
    message_hash = bytes(range(32))
    assert signer.unsafe_sign_hash(message_hash).signature == expected.unsafe_sign_hash(message_hash).signature


def test_signer_errors_name_the_address_not_the_key(wallet, known_key):
    signer = wallet.signer(wallet.import_hex(known_key).address)
    with pytest.raises(SigningError, match="could not sign the transaction") as info:
        signer.sign_transaction({"to": "nonsense", "value": -1})
    assert known_key not in str(info.value).lower()
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert repr(signer) == f"Signer({signer.address})"
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_duplicate_import_is_refused_and_keeps_the_first(wallet, known_key):
    first = wallet.import_hex(known_key, label="first")
    with pytest.raises(AccountExists, match="already in the keyring wallet; nothing was changed") as info:
        wallet.import_hex("0x" + known_key, label="second")
    assert "first" in str(info.value)
    assert [(a.address, a.label) for a in wallet.list()] == [(first.address, "first")]
    keystore = Account.encrypt(bytes.fromhex(known_key), "pw", iterations=FAST_SCRYPT_N)
    with pytest.raises(AccountExists):
        wallet.import_keystore(json.dumps(keystore), "pw")


def test_import_from_a_geth_keystore(wallet, known_key):
    # eth-account writes the same v3 scrypt layout as geth and go-livepeer (`keystore/UTC--…` files).
    keystore = json.dumps(Account.encrypt(bytes.fromhex(known_key), "s3cret pass", iterations=FAST_SCRYPT_N))
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        wallet.import_keystore(keystore, "not it")
    assert wallet.list() == []
    info = wallet.import_keystore(keystore.encode(), "s3cret pass", label="from geth")
    assert info.address == Account.from_key(bytes.fromhex(known_key)).address
    assert info.label == "from geth"


def test_import_of_a_default_strength_keystore(wallet, known_key):
    keystore = Account.encrypt(bytes.fromhex(known_key), "pw")  # n = 2**18, geth's standard
    assert keystore["crypto"]["kdfparams"]["n"] == 2**18
    assert wallet.import_keystore(json.dumps(keystore), "pw").address == Account.from_key(bytes.fromhex(known_key)).address


def test_export_then_reimport_gives_the_same_address(wallet, secret_service):
    info = wallet.create(label="to move")
    document = wallet.export_keystore(info.address, "export pass")
    parsed = json.loads(document)
    assert parsed["version"] == 3 and parsed["crypto"]["kdf"] == "scrypt"
    assert Account.from_key(Account.decrypt(parsed, "export pass")).address == info.address
    wallet.remove(info.address)
    assert wallet.list() == []
    again = wallet.import_keystore(document, "export pass")
    assert again.address == info.address


def test_export_errors(wallet):
    info = wallet.create()
    with pytest.raises(InvalidPassphrase):
        wallet.export_keystore(info.address, "")
    with pytest.raises(UnknownAccount, match="is not in the keyring wallet"):
        wallet.export_keystore("0x" + "12" * 20, "pw")


def test_bad_inputs_are_refused_before_touching_the_keyring(wallet):
    with pytest.raises(InvalidPrivateKey, match="64"):
        wallet.import_hex("abc")
    with pytest.raises(InvalidKeystore):
        wallet.import_keystore(b"{}", "pw")
    with pytest.raises(InvalidAddress, match="not an Ethereum address"):
        wallet.get("0x1234")
    bad_checksum = wallet.create().address
    i = next(i for i, c in enumerate(bad_checksum) if i > 1 and c.isalpha())  # no letter at all: 1 in 10^8
    flipped = bad_checksum[:i] + bad_checksum[i].swapcase() + bad_checksum[i + 1:]  # mixed case, wrong sum
    with pytest.raises(InvalidAddress, match="wrong checksum"):
        wallet.get(flipped)
    with pytest.raises(InvalidLabel, match="keep it to 64"):
        wallet.create(label="x" * 65)
    with pytest.raises(InvalidLabel, match="control characters"):
        wallet.create(label="a\nb")
    assert len(wallet.list()) == 1


def test_unknown_account(wallet):
    stranger = Account.create().address
    for op in (wallet.get, wallet.signer, wallet.remove):
        with pytest.raises(UnknownAccount, match="`lpc wallet list`"):
            op(stranger)


def test_choose_account(wallet):
    with pytest.raises(NoAccount, match="no account"):
        wallet.choose_account(None)
    a = wallet.create()
    assert wallet.choose_account(None) == a
    b = wallet.create()
    with pytest.raises(NoAccount, match="2 accounts and none is the default"):
        wallet.choose_account(None)
    assert wallet.choose_account(b.address.lower()) == b
    wallet.remove(b.address)
    with pytest.raises(UnknownAccount, match="the default account .* is not in the keyring wallet"):
        wallet.choose_account(b.address)


def test_locked_keyring_says_so(wallet, secret_service, known_key):
    info = wallet.create()
    secret_service.lock()
    assert secret_service.is_locked()
    for op in (wallet.list, wallet.create, lambda: wallet.import_hex(known_key), lambda: wallet.signer(info.address)):
        with pytest.raises(KeyringLocked, match="the OS keyring is locked") as err:
            op()
        assert known_key not in str(err.value).lower()
    secret_service.unlock()
    assert [a.address for a in wallet.list()] == [info.address]  # nothing was lost or half-written


def test_no_keyring_says_what_to_do(known_key):
    no_keyring = Wallet(fail.Keyring())
    for op in (no_keyring.list, no_keyring.create, lambda: no_keyring.import_hex(known_key)):
        with pytest.raises(KeyringUnavailable, match="no OS keyring available: on a desktop unlock your login keyring; "
                                                      "on a server install gnome-keyring"):
            op()


def test_no_dbus_session_says_what_to_do(monkeypatch, keyring_session):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    with pytest.raises(KeyringUnavailable, match="no OS keyring available.*DBUS_SESSION_BUS_ADDRESS"):
        Wallet(SecretService.Keyring()).list()


def test_remove_cleans_a_key_the_index_lost(wallet, secret_service, known_key):
    info = wallet.import_hex(known_key)
    # Simulate a crash between writing the key and the index: drop the index entry only.
    with secret_service.connection() as conn:
        for item in secretstorage.get_default_collection(conn).get_all_items():
            if "wallet-index" in item.get_label():
                item.delete()
    assert wallet.list() == []
    with pytest.raises(AccountExists):
        wallet.import_hex(known_key)
    wallet.remove(info.address)
    assert wallet.import_hex(known_key).address == info.address
