"""Wallet screen on a real keyring (gnome-keyring on a private D-Bus, tests/keyring_session.py):
accounts with balances, switch, create, import (hex key, keystore file), export; a keyring that
can't be used is said on the screen instead of crashing."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from chain.devnet.accounts import dev_account
from chain.wallet import Wallet
from console.app import LivepeerConsole
from console.screens.chain_view import Notice
from console.screens.wallet.wallet import WalletScreen
from console.widgets.status_header import StatusHeader
from core.settings import read_settings_file
from tests.keyring_session import keyring_session, secret_service  # noqa: F401  (fixtures)
from tests.console.pilot import SIZE, settle

FAST_SCRYPT_N = 2**12


@pytest.fixture
def wallet(secret_service):  # noqa: F811
    return Wallet(scrypt_n=FAST_SCRYPT_N)


@pytest.fixture
def wallet_services(console_services, wallet):
    """Console services whose wallet is the test keyring, holding two devnet accounts."""
    wallet.import_hex(bytes(dev_account(1).key).hex(), "orchestrator-1")
    wallet.import_hex(bytes(dev_account(30).key).hex(), "delegator-30")
    console_services.wallet_factory = lambda: wallet
    settings_file = console_services.settings.data_dir / "settings.toml"
    saved = settings_file.read_bytes() if settings_file.exists() else None
    yield console_services
    if saved is None:  # switching writes settings.toml of the shared devnet data dir: put it back
        settings_file.unlink(missing_ok=True)
    else:
        settings_file.write_bytes(saved)


async def _open_wallet(pilot) -> WalletScreen:
    await settle(pilot)
    await pilot.press("w")
    await settle(pilot)
    assert isinstance(pilot.app.screen, WalletScreen)
    return pilot.app.screen


async def test_accounts_with_balances_and_switch(wallet_services):
    svc = wallet_services
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_wallet(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        mark, label, address, lpt, eth = (str(c) for c in table.get_row_at(1))
        assert label == "delegator-30" and address == dev_account(30).address
        assert lpt == "5,000.0 LPT"  # from the chain
        await pilot.press("down", "u")
        await settle(pilot)
        assert svc.account == dev_account(30).address
        assert read_settings_file(svc.settings.data_dir)["account"] == dev_account(30).address
        assert dev_account(30).address[:6] in str(screen.query_one(StatusHeader).query_one("#account").render())
        assert str(table.get_row_at(1)[0]) == "●"


async def test_create_import_and_export(wallet_services, wallet, tmp_path):
    app = LivepeerConsole(wallet_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_wallet(pilot)
        table = screen.query_one(DataTable)
        # create
        screen.query_one("#create-label", Input).value = "fresh"
        await pilot.click("#create-submit")
        await settle(pilot)
        assert table.row_count == 3 and any(a.label == "fresh" for a in wallet.list())
        # import a private key: the field is masked, the key never reaches the log
        key = bytes(dev_account(31).key).hex()
        await pilot.press("3")
        key_input = screen.query_one("#key-hex", Input)
        assert key_input.password
        key_input.value = "12zz"
        await pilot.pause()
        assert "64 hex digits" in str(screen.query_one("#key-hex-msg", Notice).render())
        assert screen.query_one("#key-submit").disabled
        key_input.value = key
        screen.query_one("#key-label", Input).value = "imported"
        await pilot.pause()
        await pilot.click("#key-submit")
        await settle(pilot)
        assert dev_account(31).address in {a.address for a in wallet.list()}
        assert key_input.value == ""
        assert not any(key in e.text for e in app.console_log.entries)
        # export the selected account (the first) with the passphrase typed twice
        target = tmp_path / "orch1.json"
        await pilot.press("4")
        table.move_cursor(row=0)
        screen.query_one("#export-path", Input).value = str(target)
        screen.query_one("#export-pass", Input).value = "correct horse"
        screen.query_one("#export-pass2", Input).value = "correct horsf"
        await pilot.pause()
        assert "differ" in str(screen.query_one("#export-pass2-msg", Notice).render())
        screen.query_one("#export-pass2", Input).value = "correct horse"
        await pilot.pause()
        await pilot.click("#export-submit")
        await settle(pilot)
        assert target.exists()
        # ... and import it back from the file after removing it from the keyring
        wallet.remove(dev_account(1).address)
        await pilot.press("2")
        screen.query_one("#keystore-path", Input).value = str(target)
        screen.query_one("#keystore-pass", Input).value = "correct horse"
        await pilot.pause()
        await pilot.click("#keystore-submit")
        await settle(pilot)
        assert dev_account(1).address in {a.address for a in wallet.list()}
        assert "✓ imported" in str(screen.query_one("#keystore-result", Notice).render())


async def test_an_unusable_keyring_is_explained_on_the_screen(console_services):
    from keyring.backends.fail import Keyring as FailKeyring

    console_services.wallet_factory = lambda: Wallet(FailKeyring())
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_wallet(pilot)
        assert screen.has_class("-unavailable")
        assert "keyring" in str(screen.query_one("#unavailable").render()).lower()
        assert screen.query_one("#create-submit").disabled


def test_wallet_snapshot(wallet_services, snap_compare):
    async def run_before(pilot):
        await _open_wallet(pilot)

    assert snap_compare(LivepeerConsole(wallet_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_wallet_unavailable_snapshot(console_services, snap_compare):
    from keyring.backends.fail import Keyring as FailKeyring

    console_services.wallet_factory = lambda: Wallet(FailKeyring())

    async def run_before(pilot):
        await _open_wallet(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
