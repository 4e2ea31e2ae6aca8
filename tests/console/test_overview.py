"""Overview, the first screen: the account, the round, the active set and what needs attention, read
from the seeded devnet; an empty account and an unreachable chain have their own states."""

from __future__ import annotations

from textual.widgets import Static

from console.app import LivepeerConsole
from console.modals.confirm_tx import ConfirmTxModal
from console.screens.overview.overview import OverviewScreen
from tests.console.pilot import SIZE, plain_text, settle



def _end_round(client) -> None:
    """Mine to the start of the next round, which nobody has initialized yet."""
    rm = client.contract("RoundsManager").functions
    blocks = rm.currentRoundStartBlock().call() + rm.roundLength().call() - rm.blockNum().call()
    client.w3.provider.make_request("anvil_mine", [hex(blocks)])


async def test_the_console_opens_on_the_overview_of_the_account(console_services):
    svc = console_services
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        text = plain_text(screen.query_one("#account-panel", Static), width=140)
        bm = svc.client.contract("BondingManager").functions
        stake = bm.pendingStake(svc.account, 0).call()
        assert f"{stake // 10**18:,}" in text and "itself (orchestrator)" in text
        assert screen.data.active_count == 10 and screen.data.pool_max_size == 10
        attention = plain_text(screen.query_one("#attention", Static), width=140)
        assert "LIP-D2" in attention and "have not voted" in attention  # the open proposal


async def test_round_not_initialized_is_flagged_and_can_be_initialized(signing_services):
    svc = signing_services
    svc.account = svc.accounts[30]
    _end_round(svc.client)
    rm = svc.client.contract("RoundsManager").functions
    assert not rm.currentRoundInitialized().call()
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "is not initialized" in plain_text(app.screen.query_one("#attention", Static), width=140)
        await pilot.press("I")  # the same key as on Rewards
        await settle(pilot)
        assert isinstance(app.screen, ConfirmTxModal)
        await pilot.click("#send")
        await settle(pilot)
        await pilot.click("#close")
        await settle(pilot)
        assert rm.currentRoundInitialized().call()
        assert "is not initialized" not in plain_text(app.screen.query_one("#attention", Static), width=140)


async def test_reward_not_called_this_round_is_flagged(console_services):
    svc = console_services
    svc.account = svc.client.w3.eth.accounts[2]  # orchestrator #2 skipped reward this round
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "has not called reward" in plain_text(app.screen.query_one("#attention", Static), width=140)


def test_overview_snapshot(console_services, snap_compare):
    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_overview_empty_account_snapshot(console_services, snap_compare):
    console_services.account = console_services.client.w3.eth.accounts[55]  # ETH only, no LPT, no stake

    async def run_before(pilot):
        await settle(pilot)
        assert pilot.app.screen.has_class("-empty")

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_overview_chain_unreachable_snapshot(console_services, snap_compare):
    console_services.client.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # nothing listens there

    async def run_before(pilot):
        await settle(pilot)
        assert pilot.app.screen.has_class("-stale")

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
