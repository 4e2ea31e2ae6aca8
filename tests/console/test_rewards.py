"""Rewards on the seeded devnet: earnings per round (table and charts), reward calls made and missed,
"call reward" (mints; a second call is refused) and "initialize round" through the modal, and the
yield calculator with checked inputs."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static
from textual_plotext import PlotextPlot

from chain.services import reward_calls
from console.app import LivepeerConsole
from console.modals.confirm_tx import ConfirmTxModal
from console.screens.rewards.rewards import RewardsScreen
from tests.console.pilot import SIZE, plain_text, settle

FRESH = 55


async def _open(pilot) -> RewardsScreen:
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    await pilot.wait_for_scheduled_animations()
    assert isinstance(pilot.app.screen, RewardsScreen)
    return pilot.app.screen


def _flat(static) -> str:
    return " ".join(plain_text(static).split())


def _bars(chart: PlotextPlot) -> dict[str, bool]:
    """The chart as drawn: for each x tick label (a round), whether a bar stands on the axis above it."""
    lines = chart.render().plain.splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    ticks = [col for col, ch in enumerate(lines[axis]) if ch == "┬"]
    labels = lines[axis + 1].split()
    assert len(ticks) == len(labels), lines
    return {label: lines[axis - 1][col] == "█" for label, col in zip(labels, ticks)}


# -- snapshots ----------------------------------------------------------------------------------


def test_rewards_snapshot_loaded(console_services, snap_compare):
    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=_open)


def test_rewards_snapshot_reward_calls(console_services, snap_compare):
    async def run_before(pilot):
        screen = await _open(pilot)
        screen.query_one("#tabs").active = "tab-calls"
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_rewards_snapshot_fresh_account(console_services, snap_compare):
    console_services.account = console_services.client.w3.to_checksum_address(
        console_services.client.w3.eth.accounts[FRESH])
    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=_open)


def test_rewards_snapshot_rpc_down_keeps_data_marked_stale(console_services, snap_compare):
    async def run_before(pilot):
        await _open(pilot)
        console_services.client.w3.provider.endpoint_uri = "http://127.0.0.1:9"
        await pilot.press("r")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_rewards_snapshot_call_reward_confirmation(signing_services, snap_compare):
    signing_services.account = signing_services.accounts[2]  # has not called reward this round

    async def run_before(pilot):
        await _open(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmTxModal)

    assert snap_compare(LivepeerConsole(signing_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_rewards_snapshot_yield_calculator(console_services, snap_compare):
    async def run_before(pilot):
        screen = await _open(pilot)
        screen.query_one("#amount", Input).value = "1000"
        await pilot.press("ctrl+y")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


# -- flows --------------------------------------------------------------------------------------


async def test_earnings_table_and_chart_match_the_chain(console_services):
    from chain.services import earnings

    e = earnings.earnings(console_services.client, console_services.account)
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        table = screen.query_one("#earnings", DataTable)
        assert table.get_row_at(0)[0] == str(e.rounds[-1].round)
        assert table.row_count == len(e.rounds) + sum(1 for c in e.claimed if c.rewards or c.fees)
        bars = _bars(screen.query_one("#reward-chart", PlotextPlot))
        assert bars == {str(r.round)[-4:]: r.rewards > 0 for r in e.rounds}
        calls = reward_calls.reward_calls(console_services.client, console_services.account)
        summary = _flat(screen.query_one("#calls-summary", Static))
        assert f"{calls.made} calls made" in summary and f"{calls.missed} missed" in summary


async def test_call_reward_mints_and_a_second_call_is_refused(keyring_services):
    svc = keyring_services  # signs with the key imported into a real gnome-keyring
    svc.account = svc.accounts[2]
    bm = svc.client.contract("BondingManager").functions
    rnd = svc.client.contract("RoundsManager").functions.currentRound().call()
    stake = bm.transcoderTotalStake(svc.account).call()
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await pilot.press("R")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmTxModal)
        await pilot.click("#send")
        await settle(pilot)
        assert "Reward(" in plain_text(modal.query_one("#result", Static))
        await pilot.click("#close")
        await settle(pilot)
        assert bm.getTranscoder(svc.account).call()[0] == rnd
        assert bm.transcoderTotalStake(svc.account).call() > stake
        assert "called this round ✓" in plain_text(screen.query_one("#round-state", Static))
        nonce = svc.client.w3.eth.get_transaction_count(svc.account)
        await pilot.press("R")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmTxModal)
        assert "already called" in _flat(screen.query_one("#action-message", Static))
        assert svc.client.w3.eth.get_transaction_count(svc.account) == nonce


async def test_initialize_round_through_the_ui(signing_services):
    svc = signing_services
    rm = svc.client.contract("RoundsManager").functions
    blocks = rm.currentRoundStartBlock().call() + rm.roundLength().call() - rm.blockNum().call()
    svc.client.w3.provider.make_request("anvil_mine", [hex(blocks)])
    assert not rm.currentRoundInitialized().call()
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert "NOT initialized" in plain_text(screen.query_one("#round-state", Static))
        await pilot.press("I")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmTxModal)
        await pilot.click("#send")
        await settle(pilot)
        assert "NewRound(" in plain_text(modal.query_one("#result", Static))
        await pilot.click("#close")
        await settle(pilot)
    assert rm.currentRoundInitialized().call()


async def test_yield_calculator_checks_its_inputs(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        for name, value in (("amount", "abc"), ("target", "0x1234"), ("rounds", "0")):
            screen.query_one(f"#{name}", Input).value = value
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert "is not an amount" in _flat(screen.query_one("#notice-amount", Static))
        assert "not an Ethereum address" in _flat(screen.query_one("#notice-target", Static))
        assert "whole number from 1" in _flat(screen.query_one("#notice-rounds", Static))
        assert plain_text(screen.query_one("#yield-result", Static)).strip() == ""
        screen.query_one("#amount", Input).value = "1000"
        screen.query_one("#target", Input).value = console_services.client.w3.eth.accounts[21]  # a delegator
        screen.query_one("#rounds", Input).value = "10"
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert "not a registered orchestrator" in _flat(screen.query_one("#yield-message", Static))


async def test_yield_forecast_follows_the_protocol_math(console_services):
    """One round: the gain is the delegators' share of what reward() would mint, pro rata, to the wei."""
    from chain import protocol_math as pm

    client = console_services.client
    target = console_services.account
    i = reward_calls.yield_inputs(client, target)
    amount = 1000 * 10**18
    f = reward_calls.forecast_bond(i, amount, 1)
    supply, active, stake = i.global_supply, i.total_active_stake + amount, i.transcoder_stake + amount
    inflation = pm.next_inflation(i.inflation, i.inflation_change, i.target_bonding_rate, pm.bonding_rate(active, supply))
    split = pm.reward_split(mintable=pm.mintable_tokens(supply, inflation), transcoder_stake=stake,
                            total_active_stake=active, treasury_cut_rate=i.treasury_cut_rate, reward_cut=i.reward_cut)
    assert f.rewards == f.first_round_rewards == amount * (split.delegators * 10**27 // stake) // 10**27 > 0
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#amount", Input).value = "1000"
        screen.query_one("#target", Input).value = target
        screen.query_one("#rounds", Input).value = "1"
        await pilot.press("ctrl+y")
        await settle(pilot)
        result = _flat(screen.query_one("#yield-result", Static))
        from chain.amounts import format_lpt

        assert f"+{format_lpt(f.rewards, 6)}" in result and "Assumptions" in result and "fees (ETH) are not included" in result
