"""No key material and no passphrase in logs, output, exceptions or files: every operation, the
failing ones included, runs with DEBUG logging on, and everything it left behind is searched."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

import keyring
import pytest
from eth_account import Account
from keyring.backends import fail

from chain.wallet import Wallet, WalletError
from tests.wallet.conftest import FAST_SCRYPT_N

pytestmark = pytest.mark.keyring

PASSPHRASE = "Leak-Canary passphrase 7f3a"
WRONG_PASSPHRASE = "Wrong-Canary passphrase 91c2"


def _exception_text(exc: BaseException) -> str:
    """str, repr and the formatted traceback of an exception and everything chained to it."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts += [str(exc), repr(exc), *traceback.format_exception(exc), repr(getattr(exc, "args", ()))]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


def _needles(key_hex: str) -> list[str]:
    """The key in every 16-digit window (so a partial or reformatted copy is caught too), and the passphrases."""
    return [key_hex[i : i + 16] for i in range(0, 64 - 15, 8)] + [PASSPHRASE.lower(), WRONG_PASSPHRASE.lower()]


def _leaks(text: str, key_hex: str) -> list[str]:
    haystack = text.lower()
    return [n for n in _needles(key_hex) if n in haystack]


def _file_leaks(root: Path, key_hex: str) -> list[str]:
    raw_key = bytes.fromhex(key_hex)
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if raw_key in data or _leaks(data.decode("latin-1"), key_hex):
                found.append(str(path))
    return found


def test_nothing_secret_escapes(secret_service, lpc, caplog, capsys, tmp_path, monkeypatch):
    caplog.set_level(logging.DEBUG)  # root: keyring, secretstorage, jeepney and ours
    key_hex = bytes(Account.create().key).hex()
    near_miss = key_hex[:-1] + "z"  # a bad key that is nearly the real one must not be echoed either
    wallet = Wallet(scrypt_n=FAST_SCRYPT_N)
    errors: list[BaseException] = []
    texts: list[str] = []

    def attempt(op):
        try:
            result = op()
        except WalletError as exc:
            errors.append(exc)
            return None
        texts.append(repr(result))
        texts.append(str(result))
        return result

    # --- the library ---------------------------------------------------------------------------
    info = attempt(lambda: wallet.import_hex("0x" + key_hex.upper(), label="leak test"))
    attempt(lambda: wallet.import_hex(key_hex))  # duplicate
    attempt(lambda: wallet.import_hex(near_miss))
    attempt(lambda: wallet.import_hex(key_hex[:-2]))
    attempt(lambda: wallet.import_hex(key_hex + "00"))
    signer = attempt(lambda: wallet.signer(info.address))
    texts += [repr(signer), str(signer), f"{signer}", repr(vars(type(signer)))]
    attempt(lambda: signer.sign_transaction({"to": "bad", "gas": -1}))
    try:
        signer.sign_transaction({"to": "bad", "gas": -1})
    except WalletError as exc:
        errors.append(exc)
    attempt(lambda: signer.sign_text("hello"))
    document = attempt(lambda: wallet.export_keystore(info.address, PASSPHRASE))
    attempt(lambda: wallet.export_keystore(info.address, ""))
    attempt(lambda: wallet.import_keystore(document, PASSPHRASE))  # duplicate
    attempt(lambda: wallet.remove(info.address))
    attempt(lambda: wallet.import_keystore(document, WRONG_PASSPHRASE))
    attempt(lambda: wallet.import_keystore(document[:40], PASSPHRASE))
    attempt(lambda: wallet.import_keystore(document, PASSPHRASE))
    attempt(lambda: wallet.list())
    secret_service.lock()
    attempt(lambda: wallet.signer(info.address))
    attempt(lambda: wallet.export_keystore(info.address, PASSPHRASE))
    attempt(lambda: wallet.import_hex(key_hex))
    secret_service.unlock()
    no_keyring = Wallet(fail.Keyring())
    attempt(lambda: no_keyring.import_hex(key_hex))
    attempt(lambda: no_keyring.import_keystore(document, PASSPHRASE))
    attempt(lambda: wallet.remove(info.address))

    # --- the command line ----------------------------------------------------------------------
    secrets_dir = tmp_path / "secrets"  # passphrase files hold the passphrase by design; not searched
    secrets_dir.mkdir()
    passfile = secrets_dir / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n")
    wrongfile = secrets_dir / "wrong.txt"
    wrongfile.write_text(WRONG_PASSPHRASE + "\n")
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    out = out_dir / "key.json"
    runs = [
        lpc("wallet", "import", "--label", "cli", input="0x" + key_hex + "\n"),
        lpc("wallet", "import", input=key_hex),  # duplicate
        lpc("wallet", "import", input=near_miss),
        lpc("wallet", "list"),
        lpc("wallet", "list", "--json"),
        lpc("wallet", "use", info.address),
        lpc("wallet", "export", info.address, "--out", str(out), input=f"{PASSPHRASE}\n{PASSPHRASE}\n"),
        lpc("wallet", "export", info.address, "--out", str(out), "--force", "--passphrase-file", str(passfile)),
        lpc("wallet", "remove", "--yes", info.address),
        lpc("wallet", "import", "--keystore", str(out), "--passphrase-file", str(wrongfile)),
        lpc("wallet", "import", "--keystore", str(out), input=WRONG_PASSPHRASE + "\n"),
        lpc("wallet", "import", "--keystore", str(out), input=PASSPHRASE + "\n"),
    ]
    keyring.set_keyring(fail.Keyring())
    runs.append(lpc("wallet", "import", input=key_hex))
    keyring.set_keyring(secret_service.backend())
    assert [r.exit_code for r in runs] == [0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1]
    for r in runs:
        texts += [r.output, r.stdout, r.stderr, repr(r.exception)]
        if r.exc_info and r.exception is not None and not isinstance(r.exception, SystemExit):
            errors.append(r.exception)

    # --- the search ----------------------------------------------------------------------------
    assert len(errors) >= 15
    captured = capsys.readouterr()
    places = {
        "log messages": caplog.text,
        "log records": "\n".join(repr(rec.args) + repr(rec.msg) + (rec.exc_text or "") for rec in caplog.records),
        "captured output": captured.out + captured.err,
        "results and command output": "\n".join(texts),
        "exceptions": "\n".join(_exception_text(e) for e in errors),
    }
    for place, text in places.items():
        assert _leaks(text, key_hex) == [], f"secret material in {place}"
    assert _file_leaks(lpc.data_dir, key_hex) == []
    assert list(lpc.data_dir.iterdir()) == [lpc.data_dir / "settings.toml"]
    # The daemons' own logs and the keyring files themselves (encrypted at rest) hold no plaintext either.
    assert _file_leaks(secret_service.root / "logs", key_hex) == []
    assert _file_leaks(secret_service.keyring_dir, key_hex) == []
    # And the export holds the key only encrypted.
    assert _file_leaks(out_dir, key_hex) == []
    assert json.loads(out.read_text())["crypto"]["kdf"] == "scrypt"
