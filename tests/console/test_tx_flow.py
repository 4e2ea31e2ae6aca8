"""Every on-chain action in the console: preview in a modal (what it does and costs), nothing signed
until Send, then progress, the decoded result or the reason it failed; refusals before signing."""

from __future__ import annotations

from textual.widgets import Button, Static

from chain.services import staking
from console.app import LivepeerConsole
from console.modals.confirm_tx import ConfirmTxModal
from tests.console.pilot import SIZE, plain_text, settle

LPT = 10**18


async def test_bond_through_the_modal_changes_the_on_chain_stake(signing_services):
    svc = signing_services
    delegator = svc.accounts[30]
    svc.account = delegator
    bm = svc.client.contract("BondingManager").functions
    before = bm.getDelegator(delegator).call()[0]
    lpt_before = svc.client.contract("LivepeerToken").functions.balanceOf(delegator).call()
    assert lpt_before >= 100 * LPT
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        current = bm.getDelegator(delegator).call()[2]
        app.propose(lambda c: staking.bond(c, delegator, 100 * LPT, current))
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmTxModal)
        text = plain_text(modal.query_one("#plan", Static))
        assert "approve" in text.lower() and "bond" in text.lower() and "ETH" in text and "→" in text
        assert bm.getDelegator(delegator).call()[0] == before  # nothing sent yet
        await pilot.click("#send")
        await settle(pilot)
        result = plain_text(modal.query_one("#result", Static))
        assert "✓" in result and "Bond(" in result
        await pilot.click("#close")
        await settle(pilot)
    after = bm.getDelegator(delegator).call()[0]
    assert after >= before + 100 * LPT
    rows = svc.journal._store.engine.connect().exec_driver_sql(
        "select action, status from tx_journal order by id").fetchall()
    assert [tuple(r) for r in rows][-2:] == [("approve", "mined"), ("bond", "mined")]


async def test_cancel_signs_nothing(signing_services):
    svc = signing_services
    delegator = svc.accounts[31]
    svc.account = delegator
    bm = svc.client.contract("BondingManager").functions
    current = bm.getDelegator(delegator).call()[2]
    nonce = svc.client.w3.eth.get_transaction_count(delegator)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.propose(lambda c: staking.bond(c, delegator, 10 * LPT, current))
        await settle(pilot)
        await pilot.click("#cancel")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmTxModal)
        assert any("cancelled, nothing was signed" in e.text for e in app.console_log.entries)
    assert svc.client.w3.eth.get_transaction_count(delegator) == nonce


async def test_refusal_before_signing_is_explained(signing_services):
    svc = signing_services
    delegator = svc.accounts[32]
    svc.account = delegator
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.propose(lambda c: staking.bond(c, delegator, 10**9 * LPT, svc.accounts[2]))
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmTxModal)
        [entry] = [e for e in app.console_log.entries if e.severity == "error"]
        assert "not enough LPT" in entry.text and "bond at most" in entry.text


async def test_revert_on_chain_shows_its_reason(signing_services):
    """The plan was fine when previewed, but the chain moved on before Send: the round changed and
    is not initialized, so the bond reverts; the modal says why."""
    svc = signing_services
    delegator = svc.accounts[33]
    svc.account = delegator
    bm = svc.client.contract("BondingManager").functions
    current = bm.getDelegator(delegator).call()[2]
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.propose(lambda c: staking.bond(c, delegator, 0, svc.accounts[3]) if current != svc.accounts[3]
                    else staking.bond(c, delegator, 0, svc.accounts[4]))
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmTxModal)
        rm = svc.client.contract("RoundsManager").functions
        blocks = rm.currentRoundStartBlock().call() + rm.roundLength().call() - rm.blockNum().call()
        svc.client.w3.provider.make_request("anvil_mine", [hex(blocks)])
        await pilot.click("#send")
        await settle(pilot)
        result = plain_text(modal.query_one("#result", Static))
        assert "✗" in result and "initialized" in result
        assert modal.query_one("#close", Button)
