"""The Tickets screen: the console starts the on-chain node of its orchestrator account (signing with the
wallet's key — here the devnet dev key) on the seeded devnet; a funded gateway pays for a segment; the
winning ticket appears, then redeemed with its transaction. Offchain or stopped, the screen says why
there is nothing to show."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from chain.devnet.accounts import dev_account
from console.app import LivepeerConsole
from console.screens.tickets.tickets import TicketsScreen
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment
from tests.chain.seeded import Dev
from tests.console.onchain_node import gateway_for, onchain_factory
from tests.console.pilot import SIZE, plain_text, settle, wait_until
from tests.payments.conftest import GATEWAY


async def test_a_paid_segment_shows_its_winning_ticket_then_redeemed(signing_services, tmp_path):
    svc = signing_services
    dev = Dev(svc.client)
    dev.to_next_round()
    svc.node_factory = onchain_factory(svc, tmp_path)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketsScreen) and screen.has_class("-unavailable")
        assert "stopped" in plain_text(screen.query_one("#state", Static), width=150)
        await pilot.press("x")
        await settle(pilot)
        assert svc.node is not None and svc.node.status().running and not svc.node.status().offchain
        parts = svc.node_parts
        gw = gateway_for(svc)
        try:
            session = gw.session()
            gw.transcode(session, make_segment(320, 180, 1.0), COMMON_LADDER[:1])
        finally:
            gw.close()
        screen.reload()
        await settle(pilot)
        assert not screen.has_class("-unavailable")
        table = screen.query_one("#tickets-table", DataTable)
        assert table.row_count == 1
        row = table.get_row_at(0)
        ticket = parts.ledger.entries()[0]
        assert str(row[4]) == "pending redemption" and "waits until its params expire" in str(row[5])
        assert str(row[2]) == "0.1"  # face value in ETH
        gateways = screen.query_one("#gateways", DataTable)
        g = gateways.get_row_at(0)
        assert g[0] == dev_account(GATEWAY).address and str(g[2]) == "1"
        assert float(str(g[1])) > 0  # ticket EV received from that gateway

        dev.mine(parts.payments.params.expiration + 1)
        await wait_until(pilot, lambda: parts.ledger.get(ticket.id).status == "redeemed", "the redemption")
        screen.reload()
        await settle(pilot)
        row = table.get_row_at(0)
        redeemed = parts.ledger.get(ticket.id)
        assert str(row[4]) == "redeemed" and redeemed.tx_hash and str(row[5]).startswith(f"tx {redeemed.tx_hash[:12]}…")
        assert "redeemed 1" in plain_text(screen.query_one("#summary", Static), width=150)
        await pilot.press("x")
        await settle(pilot)
        assert svc.node is None and svc.node_parts is None


async def test_an_account_without_a_key_gets_a_clear_error(signing_services, tmp_path):
    svc = signing_services
    svc.node_factory = onchain_factory(svc, tmp_path)
    svc.signer_factory = None  # a console started read-only: no wallet
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        errors = [e.text for e in app.console_log.entries if e.severity == "error"]
        assert errors and "no signing key for" in errors[0] and svc.node is None


async def test_an_account_that_is_not_an_orchestrator_gets_a_clear_error(signing_services, tmp_path):
    svc = signing_services
    svc.account = svc.accounts[30]  # a delegator of the seed
    svc.node_factory = onchain_factory(svc, tmp_path)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        errors = [e.text for e in app.console_log.entries if e.severity == "error"]
        assert errors and "is not a registered orchestrator" in errors[0]


def test_tickets_snapshot_offchain(console_services, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


class LedgerOnlyNode:
    """Test stand-in for a running on-chain node whose only part is a ticket ledger filled with fixed
    tickets (a snapshot needs fixed hashes; real tickets carry random seeds)."""

    def stop(self) -> None: ...

    def status(self):
        return None


def fixed_ledger_parts(tmp_path):
    from types import SimpleNamespace

    from core.payments.ledger import TicketLedger
    from core.payments.tickets import Ticket
    from core.store import open_store

    store = open_store(tmp_path / "fixed-store")
    ledger = TicketLedger(store)
    orch, gw1, gw2 = (bytes([i]) * 20 for i in (0x11, 0x22, 0x33))
    ids = []
    for n, (gw, round_) in enumerate(((gw1, 2001), (gw1, 2002), (gw2, 2002)), start=1):
        t = Ticket(recipient=orch, sender=gw, face_value=n * 10**17, win_prob=2**255, sender_nonce=n,
                   recipient_rand_hash=bytes([n]) * 32, creation_round=round_, creation_round_block_hash=b"\x07" * 32)
        ledger.store(t, b"\x01" * 65, n, expiration_block=5000 + n)
        ids.append(ledger.by_hash(t.hash()).id)
    ledger.mark_redeemed(ids[0], tx_hash="0x" + "ab" * 32, block_number=4990, gas_used=250_000,
                         fee_wei=25 * 10**12, paid_wei=10**17)
    ledger.mark_failed(ids[1], "ticket is expired (creation round 2002 left the validity window)")
    view = SimpleNamespace(l1_block=5002)
    parts = SimpleNamespace(ledger=ledger, store=store, redeemer=None, receipts=None,
                            payments=SimpleNamespace(metrics=None, state=SimpleNamespace(view=lambda: view)))
    return parts


def test_tickets_snapshot_with_tickets(console_services, snap_compare, tmp_path):
    svc = console_services
    svc.settings = svc.settings.model_copy(update={"node": svc.settings.node.model_copy(update={"offchain": False})})
    svc.node, svc.node_parts = LedgerOnlyNode(), fixed_ledger_parts(tmp_path)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)

    assert snap_compare(LivepeerConsole(svc, poll=False), terminal_size=SIZE, run_before=run_before)
