"""Transactions: the SQL journal on screen — each transaction's status, block and fee, and in the
detail its hash, decoded events or the reason it failed."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from chain.services import staking
from console.app import LivepeerConsole
from console.screens.transactions.transactions import TransactionsScreen
from tests.console.pilot import SIZE, plain_text, settle

LPT = 10**18


@pytest.fixture
def journal_services(signing_services, tmp_path):
    """Signing services with a journal of their own (empty at the start of each test)."""
    from core.store import open_store
    from core.store.journal import SqlJournal

    store = open_store(tmp_path)
    signing_services.journal_factory = lambda: SqlJournal(store)
    signing_services._journal = None
    signing_services.account = signing_services.accounts[30]
    yield signing_services
    store.close()



async def _send(pilot, build) -> None:
    pilot.app.propose(build)
    await settle(pilot)
    await pilot.click("#send")
    await settle(pilot)
    await pilot.click("#close")
    await settle(pilot)


async def _bond_and_a_revert(pilot, svc) -> None:
    me = svc.account
    orch = svc.client.contract("BondingManager").functions.getDelegator(me).call()[2]  # stays Bonded
    await _send(pilot, lambda c: staking.bond(c, me, 100 * LPT, orch))
    # previewed in one round, sent in the next (not initialized): the chain refuses it
    pilot.app.propose(lambda c: staking.unbond(c, me, 10 * LPT))
    await settle(pilot)
    rm = svc.client.contract("RoundsManager").functions
    blocks = rm.currentRoundStartBlock().call() + rm.roundLength().call() - rm.blockNum().call()
    svc.client.w3.provider.make_request("anvil_mine", [hex(blocks)])
    await pilot.click("#send")
    await settle(pilot)
    await pilot.click("#close")
    await settle(pilot)


async def test_sent_transactions_are_listed_with_status_and_events(journal_services):
    svc = journal_services
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _bond_and_a_revert(pilot, svc)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TransactionsScreen)
        table = screen.query_one(DataTable)
        statuses = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        actions = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert actions == ["unbond", "bond", "approve"]  # newest first
        assert statuses[1:] == ["mined", "mined"] and statuses[0] in ("failed", "refused")
        detail = plain_text(screen.query_one("#detail", Static), width=140)
        assert "initialized" in detail  # why the unbond did not go through
        await pilot.press("down")
        await pilot.pause()
        detail = plain_text(screen.query_one("#detail", Static), width=140)
        assert "Bond(" in detail and "Hash" in detail and "0x" in detail


async def test_empty_journal_says_so(journal_services):
    app = LivepeerConsole(journal_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.has_class("-empty")


def test_transactions_snapshot(journal_services, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await _bond_and_a_revert(pilot, journal_services)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(journal_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_transactions_empty_snapshot(journal_services, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(journal_services, poll=False), terminal_size=SIZE, run_before=run_before)
