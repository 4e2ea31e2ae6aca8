"""`lpc wallet …` on a real gnome-keyring, through click's runner (and once as a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import keyring
import pytest
from eth_account import Account
from keyring.backends import fail

import console.commands.wallet as wallet_cmd

pytestmark = pytest.mark.keyring


def _address(key_hex: str) -> str:
    return Account.from_key(bytes.fromhex(key_hex.removeprefix("0x"))).address


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def _fails(result, says: str):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert says in lines[0], result.output
    return lines[0]


def _listed(lpc) -> list[dict]:
    return json.loads(_ok(lpc("wallet", "list", "--json")).stdout)


def test_new_and_list(lpc):
    assert "No accounts" in _ok(lpc("wallet", "list")).stdout
    address = _ok(lpc("wallet", "new", "--label", "transcoder")).stdout.strip()
    assert address.startswith("0x") and len(address) == 42
    rows = _listed(lpc)
    assert [(r["address"], r["label"], r["default"]) for r in rows] == [(address, "transcoder", False)]
    assert address in _ok(lpc("wallet", "list")).stdout


def test_import_hex_from_stdin(lpc, known_key):
    result = _ok(lpc("wallet", "import", "--label", "piped", input="0x" + known_key + "\n"))
    assert result.stdout.strip() == _address(known_key)
    _fails(lpc("wallet", "import", input=known_key), "already in the keyring wallet")
    _fails(lpc("wallet", "import", input=known_key[:-4]), "60 hex digits")
    _fails(lpc("wallet", "import", input="0" * 64), "zero or not below")
    _fails(lpc("wallet", "import", input=""), "no private key given")


def test_import_hex_from_a_hidden_prompt(lpc, known_key, monkeypatch):
    monkeypatch.setattr(wallet_cmd, "_stdin_is_tty", lambda: True)
    result = _ok(lpc("wallet", "import", input=known_key + "\n"))
    assert result.stdout.strip().endswith(_address(known_key))
    assert known_key not in result.output  # hidden: not echoed


def test_import_keystore(lpc, known_key, tmp_path):
    keystore = tmp_path / "UTC--2024-01-01T00-00-00Z--key.json"
    keystore.write_text(json.dumps(Account.encrypt(bytes.fromhex(known_key), "ks pass", iterations=2**12)))
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope\n")
    right = tmp_path / "right.txt"
    right.write_text("ks pass\nsecond line ignored\n")

    _fails(lpc("wallet", "import", "--keystore", str(keystore), "--passphrase-file", str(wrong)), "wrong passphrase")
    _fails(lpc("wallet", "import", "--keystore", str(keystore), input="also wrong\n"), "wrong passphrase")
    _fails(lpc("wallet", "import", "--keystore", str(tmp_path / "absent.json"), input="x\n"), "cannot read the keystore")
    _fails(lpc("wallet", "import", "--keystore", str(right), input="x\n"), "not valid JSON")
    _fails(lpc("wallet", "import", "--passphrase-file", str(right), input=known_key), "only applies with --keystore")
    assert _listed(lpc) == []

    result = _ok(lpc("wallet", "import", "--keystore", str(keystore), "--passphrase-file", str(right)))
    assert result.stdout.strip() == _address(known_key)
    _ok(lpc("wallet", "remove", "--yes", _address(known_key)))
    result = _ok(lpc("wallet", "import", "--keystore", str(keystore), input="ks pass\n"))
    assert result.stdout.strip().endswith(_address(known_key))


def test_export_writes_a_private_keystore_and_it_imports_back(lpc, tmp_path):
    address = _ok(lpc("wallet", "new")).stdout.strip()
    out = tmp_path / "backup.json"
    result = _ok(lpc("wallet", "export", address, "--out", str(out), input="exp pass\nexp pass\n"))
    assert str(out) in result.stdout
    assert out.stat().st_mode & 0o777 == 0o600
    assert Account.from_key(Account.decrypt(json.loads(out.read_text()), "exp pass")).address == address

    _fails(lpc("wallet", "export", address, "--out", str(out), input="x\nx\n"), "already exists")
    out.chmod(0o644)
    passfile = tmp_path / "pass.txt"
    passfile.write_text("second pass\n")
    _ok(lpc("wallet", "export", address, "--out", str(out), "--force", "--passphrase-file", str(passfile)))
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left

    _fails(lpc("wallet", "export", address, "--out", str(tmp_path), input="x\nx\n"), "is a folder")
    _fails(lpc("wallet", "export", address, "--out", str(tmp_path / "no" / "dir.json"), input="x\nx\n"), "does not exist")
    _fails(lpc("wallet", "export", "0x" + "ab" * 20, "--out", str(tmp_path / "n.json")), "is not in the keyring wallet")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    _fails(lpc("wallet", "export", address, "--out", str(tmp_path / "e.json"), "--passphrase-file", str(empty)),
           "empty passphrase")

    _ok(lpc("wallet", "remove", "--yes", address))
    assert _ok(lpc("wallet", "import", "--keystore", str(out), "--passphrase-file", str(passfile))).stdout.strip() == address


def test_remove_asks_first(lpc):
    address = _ok(lpc("wallet", "new", "--label", "keep?")).stdout.strip()
    result = lpc("wallet", "remove", address, input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert [r["address"] for r in _listed(lpc)] == [address]
    _ok(lpc("wallet", "remove", address.lower(), input="y\n"))
    assert _listed(lpc) == []
    _fails(lpc("wallet", "remove", "--yes", address), "is not in the keyring wallet")
    _fails(lpc("wallet", "remove", "--yes", "0xnothex"), "is not an Ethereum address")


def test_use_sets_the_default_account(lpc):
    first = _ok(lpc("wallet", "new")).stdout.strip()
    second = _ok(lpc("wallet", "new")).stdout.strip()
    _ok(lpc("wallet", "use", second.lower()))
    settings = tomllib.loads((lpc.data_dir / "settings.toml").read_text())
    assert settings["account"] == second
    assert {r["address"]: r["default"] for r in _listed(lpc)} == {first: False, second: True}
    assert f"* {second}" in _ok(lpc("wallet", "list")).stdout
    _fails(lpc("wallet", "use", "0x" + "cd" * 20), "is not in the keyring wallet")
    assert tomllib.loads((lpc.data_dir / "settings.toml").read_text())["account"] == second
    result = _ok(lpc("wallet", "remove", "--yes", second))
    assert "It was the default account" in result.stderr


def test_no_keyring(lpc):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        for args in (("wallet", "list"), ("wallet", "new"), ("wallet", "use", "0x" + "ab" * 20)):
            _fails(lpc(*args), "no OS keyring available: on a desktop unlock your login keyring")
        _fails(lpc("wallet", "import", input="11" * 32), "no OS keyring available")
    finally:
        keyring.set_keyring(previous)


def test_locked_keyring(lpc, secret_service):
    _ok(lpc("wallet", "new"))
    secret_service.lock()
    _fails(lpc("wallet", "list"), "the OS keyring is locked")
    _fails(lpc("wallet", "new"), "the OS keyring is locked")


def test_the_installed_command_finds_the_keyring_by_itself(secret_service, known_key, tmp_path):
    """A real `lpc` process: keyring picks the Secret Service on its own from DBUS_SESSION_BUS_ADDRESS."""
    env = {**secret_service.env, "LPC_DATA_DIR": str(tmp_path / "data")}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    lpc = [sys.executable, "-m", "console.cli"]
    cwd = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    imported = subprocess.run([*lpc, "wallet", "import"], input=known_key, env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == _address(known_key)
    listed = subprocess.run([*lpc, "wallet", "list", "--json"], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=60)
    assert [r["address"] for r in json.loads(listed.stdout)] == [_address(known_key)]
    assert known_key not in imported.stdout + imported.stderr + listed.stdout + listed.stderr
