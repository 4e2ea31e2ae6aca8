"""The node's read models sum every ticket in the ledger (real SQLite), exactly: more tickets than the
screens' old row limits (500 on Tickets, 2,000 on the Dashboard, 5,000 on Earnings), and totals far above
SQLite's 64-bit integers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.payments.ledger import TicketLedger
from core.payments.receipts import ReceiptTotals
from core.payments.tickets import checksum
from core.payments.views import Earned, earned, fees_by_round, ticket_senders, tickets_by_gateway
from core.store import open_store
from core.store.models import WinningTicket

ORCH = checksum(b"\x11" * 20)
GW_A, GW_B = checksum(b"\x22" * 20), checksum(b"\x33" * 20)
ETH = 10**18
TICKETS = 5_200  # above every old limit


def _row(n: int, sender: str, status: str, round_: int, *, received_at=None, redeemed_round=None, paid=None, fee=None):
    return WinningTicket(
        ticket_hash="0x" + n.to_bytes(32, "big").hex(), recipient=ORCH, sender=sender, face_value=str(3 * ETH),
        win_prob=str(2**255), sender_nonce=n, recipient_rand_hash="0x" + "00" * 32, creation_round=round_,
        creation_round_block_hash="0x" + "07" * 32, params_expiration_block=1000 + n, recipient_rand=str(n),
        sig="0x" + "01" * 65, status=status, received_at=received_at, redeemed_round=redeemed_round,
        paid_wei=None if paid is None else str(paid), fee_wei=None if fee is None else str(fee))


@pytest.fixture
def ledger_store(tmp_path):
    """5,200 winning tickets of 3 ETH face value: the oldest 4,000 from gateway A (redeemed for 2 ETH each
    in round 10, 1 gwei of gas each), then 1,000 of A still pending in round 11, then 200 of B given up
    (round 11). A's redeemed tickets are received yesterday, the rest today."""
    store = open_store(tmp_path / "data")
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [_row(n, GW_A, "redeemed", 9, received_at=today - timedelta(hours=5), redeemed_round=10, paid=2 * ETH,
                 fee=10**9) for n in range(4_000)]
    rows += [_row(n, GW_A, "pending", 11, received_at=today + timedelta(minutes=1)) for n in range(4_000, 5_000)]
    rows += [_row(n, GW_B, "failed", 11, received_at=today + timedelta(minutes=2)) for n in range(5_000, TICKETS)]
    with store.sessions.begin() as s:
        s.add_all(rows)
    yield store, today
    store.close()


def test_tickets_by_gateway_counts_every_ticket(ledger_store):
    store, _ = ledger_store
    newest = TicketLedger(store).entries(limit=500)  # what the Tickets screen used to sum
    assert {e.sender for e in newest} == {GW_A, GW_B} and sum(e.sender == GW_A for e in newest) == 300

    a, b = tickets_by_gateway(store, {GW_A: ReceiptTotals(9_000, 12 * ETH, 5_000)})
    assert (a.sender, a.won, a.won_face) == (GW_A, 5_000, 15_000 * ETH)
    assert (a.pending, a.pending_face, a.redeemed, a.paid, a.failed) == (1_000, 3_000 * ETH, 4_000, 8_000 * ETH, 0)
    assert a.received_ev == 12 * ETH
    assert (b.sender, b.won, b.failed, b.paid, b.received_ev) == (GW_B, 200, 200, 0, 0)
    assert ticket_senders(store) == [GW_A, GW_B]


def test_fees_by_round_books_every_redemption_in_its_round(ledger_store):
    store, _ = ledger_store
    fees = fees_by_round(store)
    assert set(fees) == {10}  # mined in round 10, though the tickets were made in round 9
    assert (fees[10].fees, fees[10].gas) == (8_000 * ETH, 4_000 * 10**9)  # 8,000 ETH: far above 2**63 wei
    assert fees_by_round(store, since_round=11) == {}


def test_earned_this_round_and_today_count_every_ticket(ledger_store):
    store, today = ledger_store
    this_round = earned(store, creation_round=11)
    assert (this_round.won, this_round.won_face, this_round.redeemed) == (1_200, 3_600 * ETH, 0)
    since_midnight = earned(store, since=today)
    assert (since_midnight.won, since_midnight.won_face) == (1_200, 3_600 * ETH)
    assert earned(store, creation_round=99) == Earned(0, 0, 0)  # no ticket: zeros, not a failed read
    round9 = earned(store, creation_round=9)
    assert (round9.won, round9.redeemed) == (4_000, 8_000 * ETH)
