"""Tickets received per gateway and round — how many, their expected value, how many won — kept across
restarts. go-livepeer (and this node's Prometheus counters) forget them when the process ends, so an
operator cannot see what a gateway paid last week; here they are summed in memory (the hot path takes a
lock and adds) and written to SQLite every `flush_s` and when the node stops. A crash loses at most the
last `flush_s` of these statistics; winning tickets themselves are in the ledger before the gateway hears
back, so no money depends on this table."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select

from core.store.db import Store
from core.payments.background import Background
from core.store.models import TicketReceipt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiptTotals:
    tickets: int
    ev_wei: int  # expected value credited, wei (rounded down)
    winners: int


class TicketReceipts(Background):
    thread_name = "lpc-ticket-receipts"
    join_s = 10

    def __init__(self, store: Store, *, flush_s: float = 5.0):
        super().__init__()
        self._store = store
        self.flush_s = flush_s
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, int], list] = {}  # (sender, round) -> [tickets, ev Fraction, winners]

    def record(self, sender: str, round_: int, tickets: int, ev: Fraction, winners: int) -> None:
        if not tickets:
            return
        with self._lock:
            acc = self._pending.setdefault((sender, round_), [0, Fraction(0), 0])
            acc[0] += tickets
            acc[1] += ev
            acc[2] += winners

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        carry: dict[tuple[str, int], list] = {}
        try:
            with self._store.sessions.begin() as s:
                for (sender, rnd), (tickets, ev, winners) in pending.items():
                    whole = int(ev)  # the fraction of a wei stays in memory for the next flush
                    if ev - whole:
                        carry[(sender, rnd)] = [0, ev - whole, 0]
                    row = s.get(TicketReceipt, (sender, rnd))
                    if row is None:
                        s.add(TicketReceipt(sender=sender, round=rnd, tickets=tickets, ev_wei=str(whole),
                                            winners=winners))
                    else:
                        row.tickets += tickets
                        row.ev_wei = str(int(row.ev_wei) + whole)
                        row.winners += winners
        except Exception:
            with self._lock:  # nothing written: put it all back for the next flush
                for key, (t, e, w) in pending.items():
                    acc = self._pending.setdefault(key, [0, Fraction(0), 0])
                    acc[0] += t
                    acc[1] += e
                    acc[2] += w
            raise
        with self._lock:
            for key, (_, e, _) in carry.items():
                self._pending.setdefault(key, [0, Fraction(0), 0])[1] += e

    def totals(self, *, since_round: int | None = None) -> dict[str, ReceiptTotals]:
        """Per gateway: stored rows plus what is not flushed yet."""
        sums: dict[str, list] = {}
        stmt = select(TicketReceipt)
        if since_round is not None:
            stmt = stmt.where(TicketReceipt.round >= since_round)
        with self._store.sessions() as s:
            for row in s.scalars(stmt):
                acc = sums.setdefault(row.sender, [0, Fraction(0), 0])
                acc[0] += row.tickets
                acc[1] += int(row.ev_wei)
                acc[2] += row.winners
        with self._lock:
            for (sender, rnd), (t, e, w) in self._pending.items():
                if since_round is None or rnd >= since_round:
                    acc = sums.setdefault(sender, [0, Fraction(0), 0])
                    acc[0] += t
                    acc[1] += e
                    acc[2] += w
        return {k: ReceiptTotals(t, int(e), w) for k, (t, e, w) in sums.items()}

    # ---------------------------------------------------------------- service
    def stop(self) -> None:
        super().stop()
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - the store is closing: statistics only
            log.warning("ticket statistics not saved: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - kept in memory, tried again
                log.warning("ticket statistics not saved yet: %s", exc)
