"""Staking end to end on the seeded devnet: the forms are pre-filled from the chain, refuse bad input
under the field (submit disabled), and every send goes through the confirmation modal and changes the
chain; "delegate to this" on Network opens the Bond form filled in."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Input, Static

from console.app import LivepeerConsole
from console.modals.confirm_tx import ConfirmTxModal
from console.screens.chain_view import Notice
from console.screens.network.network import NetworkScreen
from console.screens.staking.staking import StakingScreen
from tests.console.pilot import SIZE, plain_text, settle

LPT = 10**18



async def _open_staking(pilot) -> StakingScreen:
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, StakingScreen)
    return screen


async def _type(pilot, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.value = text
    await pilot.pause()


async def _send_through_modal(pilot, submit: str) -> ConfirmTxModal:
    await pilot.click(submit)
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, ConfirmTxModal), "the form did not open the confirmation modal"
    await pilot.click("#send")
    await settle(pilot)
    return modal


async def test_bond_through_the_form_changes_the_on_chain_stake(keyring_services):
    svc = keyring_services  # signs with the key imported into a real gnome-keyring
    me = svc.accounts[30]
    svc.account = me
    bm = svc.client.contract("BondingManager").functions
    before = bm.pendingStake(me, 0).call()
    delegate = bm.getDelegator(me).call()[2]
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_staking(pilot)
        assert screen.query_one("#bond-to", Input).value == delegate  # pre-filled: the current delegate
        assert screen.query_one("#bond-amount", Input).value == "5000"  # pre-filled: the whole LPT balance
        await _type(pilot, "#bond-amount", "100")
        modal = await _send_through_modal(pilot, "#bond-submit")
        assert "✓" in plain_text(modal.query_one("#result", Static), width=140)
        await pilot.click("#close")
        await settle(pilot)
        assert bm.pendingStake(me, 0).call() >= before + 100 * LPT
        # the screen read the chain again: the form is pre-filled from the new balance
        assert screen.query_one("#bond-amount", Input).value == "4900"


async def test_an_account_whose_key_is_not_in_the_keyring_signs_nothing(keyring_services):
    """The keyring is where the console's keys come from: delegator 31's key was never imported, so the bond
    is not sent, the modal says why (what to do), and the stake is unchanged."""
    svc = keyring_services
    me = svc.accounts[31]
    svc.account = me
    bm = svc.client.contract("BondingManager").functions
    before = bm.pendingStake(me, 0).call()
    nonce = svc.client.w3.eth.get_transaction_count(me)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await _open_staking(pilot)
        await _type(pilot, "#bond-amount", "100")
        modal = await _send_through_modal(pilot, "#bond-submit")
        result = " ".join(plain_text(modal.query_one("#result", Static), width=140).split())
        assert f"{me} is not in the keyring wallet" in result and "lpc wallet import" in result
    assert bm.pendingStake(me, 0).call() == before
    assert svc.client.w3.eth.get_transaction_count(me) == nonce


async def test_unbond_creates_a_lock_shown_in_the_table(signing_services):
    svc = signing_services
    me = svc.accounts[31]
    svc.account = me
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_staking(pilot)
        table = screen.query_one("#locks", DataTable)
        assert table.row_count == 0
        await pilot.press("2")
        await _type(pilot, "#unbond-amount", "10")
        await _send_through_modal(pilot, "#unbond-submit")
        await pilot.click("#close")
        await settle(pilot)
        assert table.row_count == 1
        lock_id, amount, withdraw_round, left, state = (str(c) for c in table.get_row_at(0))
        assert amount == "10.0 LPT" and int(left) == 7 and state == "unbonding"
    bm = svc.client.contract("BondingManager").functions
    assert bm.getDelegatorUnbondingLock(me, int(lock_id.lstrip("#"))).call()[0] == 10 * LPT


async def test_withdraw_fees_moves_eth(signing_services):
    svc = signing_services
    me = svc.accounts[1]  # orchestrator #1 has fees from winning tickets
    svc.account = me
    bm = svc.client.contract("BondingManager").functions
    fees = bm.pendingFees(me, 0).call()
    assert fees > 0
    eth_before = svc.client.w3.eth.get_balance(me)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_staking(pilot)
        await pilot.press("5")
        assert screen.query_one("#fees-recipient", Input).value == me
        modal = await _send_through_modal(pilot, "#fees-submit")
        assert "WithdrawFees" in plain_text(modal.query_one("#result", Static), width=140)
    assert bm.pendingFees(me, 0).call() == 0
    result = [r for r in modal.outcome.results][-1]
    assert svc.client.w3.eth.get_balance(me) == eth_before + fees - result.fee_wei


async def test_invalid_inputs_show_their_message_and_cannot_be_submitted(signing_services):
    svc = signing_services
    svc.account = svc.accounts[30]
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_staking(pilot)
        submit = screen.query_one("#bond-submit", Button)
        assert not submit.disabled
        cases = [
            ("#bond-amount", "1.0000000000000000001", "#bond-amount-msg", "more than 18 decimals"),
            ("#bond-amount", "-5", "#bond-amount-msg", "cannot be negative"),
            ("#bond-amount", "999999", "#bond-amount-msg", "above your balance"),
            ("#bond-amount", "12abc", "#bond-amount-msg", "unknown unit"),
            ("#bond-amount", "1,000", "#bond-amount-msg", "without commas"),
        ]
        for selector, text, msg, expected in cases:
            await _type(pilot, selector, text)
            assert expected in str(screen.query_one(msg, Notice).render()), text
            assert submit.disabled, text
        await _type(pilot, "#bond-amount", "10")
        await _type(pilot, "#bond-to", "0x1234")
        assert "is not an Ethereum address" in str(screen.query_one("#bond-to-msg", Notice).render())
        assert submit.disabled
        await pilot.click("#bond-submit")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmTxModal)  # nothing to confirm: it can't be submitted
        await _type(pilot, "#bond-to", svc.accounts[2])
        assert not submit.disabled and str(screen.query_one("#bond-to-msg", Notice).render()) == ""
        await pilot.press("2")
        await _type(pilot, "#unbond-amount", "10000000")
        assert "above your bonded stake" in str(screen.query_one("#unbond-amount-msg", Notice).render())
        assert screen.query_one("#unbond-submit", Button).disabled


async def test_rpc_gone_before_send_shows_an_error_and_does_not_crash(signing_services):
    svc = signing_services
    me = svc.accounts[34]  # a delegator with free LPT
    svc.account = me
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await _open_staking(pilot)
        await _type(pilot, "#bond-amount", "10")
        await pilot.click("#bond-submit")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmTxModal)
        rpc = svc.client.w3.provider.endpoint_uri
        svc.client.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # nothing listens there
        try:
            await pilot.click("#send")
            await settle(pilot)
            assert "✗" in plain_text(modal.query_one("#result", Static), width=140)
            await pilot.click("#close")
            await settle(pilot)
            assert isinstance(app.screen, StakingScreen)
            assert app.screen.has_class("-stale")  # the reload after the failure could not read either
        finally:
            svc.client.w3.provider.endpoint_uri = rpc
        assert any(e.severity == "error" for e in app.console_log.entries)


async def test_delegate_to_this_opens_the_bond_form_filled_in(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NetworkScreen)
        await pilot.press("down", "down")
        chosen = app.screen.selected
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StakingScreen)
        assert screen.query_one("#bond-to", Input).value == chosen
        assert screen.focused is screen.query_one("#bond-amount", Input)


# -- snapshots ------------------------------------------------------------------------------------


def test_staking_snapshot(console_services, snap_compare):
    console_services.account = console_services.client.w3.eth.accounts[26]  # a delegator with an unbonding lock

    async def run_before(pilot):
        await _open_staking(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_staking_invalid_input_snapshot(console_services, snap_compare):
    console_services.account = console_services.client.w3.eth.accounts[30]

    async def run_before(pilot):
        await _open_staking(pilot)
        await _type(pilot, "#bond-amount", "1.0000000000000000001")
        await _type(pilot, "#bond-to", "0xnot-an-address")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_staking_confirmation_modal_snapshot(console_services, snap_compare):
    console_services.account = console_services.client.w3.eth.accounts[30]

    async def run_before(pilot):
        await _open_staking(pilot)
        await _type(pilot, "#bond-amount", "100")
        await pilot.click("#bond-submit")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
