"""Wallet tests run on a real gnome-keyring Secret Service (see tests/keyring_session.py)."""

from __future__ import annotations

import pytest
from eth_account import Account

from chain.wallet import Wallet
from tests.keyring_session import keyring_session, secret_service  # noqa: F401  (fixtures)

# Exports in tests use a cheap scrypt factor; one test keeps the geth default to prove it works.
FAST_SCRYPT_N = 2**12


@pytest.fixture
def wallet(secret_service) -> Wallet:
    return Wallet(scrypt_n=FAST_SCRYPT_N)


@pytest.fixture
def known_key() -> str:
    """A fresh key (as 64 lowercase hex digits) that is not yet in the keyring."""
    return bytes(Account.create().key).hex()


@pytest.fixture
def lpc(secret_service, monkeypatch, tmp_path):
    """Run `lpc --data-dir <tmp> ARGS…` in-process on the test keyring; returns the click Result."""
    from click.testing import CliRunner

    import console.commands.wallet as wallet_cmd
    from console.cli import cli

    monkeypatch.setattr(wallet_cmd, "open_wallet", lambda: Wallet(scrypt_n=FAST_SCRYPT_N))
    monkeypatch.delenv("LPC_ACCOUNT", raising=False)
    data_dir = tmp_path / "data"
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--data-dir", str(data_dir), *args], input=input)

    run.data_dir = data_dir
    return run
