"""Deposit screen (gateway side): funding the TicketBroker deposit through the UI changes the
on-chain sender info; bad amounts are refused with a message and nothing is sent."""

from __future__ import annotations

from textual.widgets import Input

from console.app import LivepeerConsole
from console.screens.chain_view import Notice
from console.screens.deposit.deposit import DepositScreen
from tests.console.pilot import SIZE, settle

ETH = 10**18


async def test_funding_the_deposit_through_the_ui(keyring_services):
    svc = keyring_services  # signs with the key imported into a real gnome-keyring
    gateway = svc.accounts[55]
    svc.account = gateway
    broker = svc.client.contract("TicketBroker").functions
    (deposit_before, _), _ = broker.getSenderInfo(gateway).call()
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DepositScreen)
        screen.query_one("#add-deposit", Input).value = "1.5"
        screen.query_one("#add-reserve", Input).value = "0.25"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#send")
        await settle(pilot)
        await pilot.click("#close")
        await settle(pilot)
    (deposit_after, _), (reserve_after, _) = broker.getSenderInfo(gateway).call()
    assert deposit_after == deposit_before + 3 * ETH // 2
    assert reserve_after >= ETH // 4


async def test_bad_amount_is_refused_before_anything_is_sent(signing_services):
    svc = signing_services
    gateway = svc.accounts[56]
    svc.account = gateway
    nonce = svc.client.w3.eth.get_transaction_count(gateway)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#add-deposit", Input).value = "0.0000000000000000001"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "decimal" in str(screen.query_one("#deposit-notice", Notice).content).lower()
        screen.query_one("#add-deposit", Input).value = ""
        await pilot.click("#unlock")  # nothing to unlock: refused before signing
        await settle(pilot)
        assert "nothing" in str(screen.query_one("#deposit-notice", Notice).content).lower() or \
            any(e.severity == "error" for e in app.console_log.entries)
    assert svc.client.w3.eth.get_transaction_count(gateway) == nonce


def test_deposit_snapshot(console_services, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
