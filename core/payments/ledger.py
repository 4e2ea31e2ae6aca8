"""The winning-ticket ledger in SQLite: the one place a winning ticket lives until it is paid.

A ticket is written (and the write committed with synchronous=FULL) before the gateway hears that its
payment was accepted, so a kill -9 at any moment after the acknowledgement cannot lose it. Its life:

    pending ──(params expired, checks pass)──> submitting ──(signed tx stored)──> sent ──> redeemed
       ^  └──(can never pay: expired, used, sender unlocked)──────────────────────────────> failed
       └──(retryable error, with backoff)──────────────┘

The signed redemption is stored before it is broadcast. After a crash, a `submitting` ticket was never
broadcast (back to pending) and a `sent` one is re-broadcast byte for byte (the same transaction, same
nonce) or settled from its receipt, so a ticket is never sent in two different transactions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from core.payments.tickets import Ticket, checksum
from core.store.db import Store
from core.store.models import WinningTicket

OPEN = ("pending", "submitting", "sent")


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    ticket_hash: str
    received_at: datetime | None
    sender: str
    recipient: str
    face_value: int
    win_prob: int
    sender_nonce: int
    creation_round: int
    params_expiration_block: int
    manifest_id: str
    status: str
    attempts: int
    last_error: str | None
    tx_hash: str | None
    block_number: int | None
    gas_used: int | None
    fee_wei: int | None
    paid_wei: int | None
    redeemed_round: int | None  # the round the redemption was mined in (None: unknown or not redeemed)
    next_attempt_at: float
    raw_tx: str | None
    # what a redemption needs
    ticket: Ticket
    sig: bytes
    recipient_rand: int

    def to_json(self) -> dict:
        return {
            "id": self.id, "ticket_hash": self.ticket_hash, "sender": self.sender, "recipient": self.recipient,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "face_value": str(self.face_value), "win_prob": str(self.win_prob), "sender_nonce": self.sender_nonce,
            "creation_round": self.creation_round, "params_expiration_block": self.params_expiration_block,
            "manifest_id": self.manifest_id, "status": self.status, "attempts": self.attempts,
            "last_error": self.last_error, "tx_hash": self.tx_hash, "block_number": self.block_number,
            "gas_used": self.gas_used, "fee_wei": None if self.fee_wei is None else str(self.fee_wei),
            "paid_wei": None if self.paid_wei is None else str(self.paid_wei), "redeemed_round": self.redeemed_round,
        }


def _entry(r: WinningTicket) -> LedgerEntry:
    t = Ticket(
        recipient=bytes.fromhex(r.recipient[2:]), sender=bytes.fromhex(r.sender[2:]), face_value=int(r.face_value),
        win_prob=int(r.win_prob), sender_nonce=r.sender_nonce, recipient_rand_hash=bytes.fromhex(r.recipient_rand_hash[2:]),
        creation_round=r.creation_round, creation_round_block_hash=bytes.fromhex(r.creation_round_block_hash[2:]),
    )
    return LedgerEntry(
        id=r.id, ticket_hash=r.ticket_hash, received_at=r.received_at, sender=r.sender, recipient=r.recipient,
        face_value=t.face_value, win_prob=t.win_prob, sender_nonce=r.sender_nonce, creation_round=r.creation_round,
        params_expiration_block=r.params_expiration_block, manifest_id=r.manifest_id, status=r.status,
        attempts=r.attempts, last_error=r.last_error, tx_hash=r.tx_hash, block_number=r.block_number,
        gas_used=r.gas_used, fee_wei=None if r.fee_wei is None else int(r.fee_wei),
        paid_wei=None if r.paid_wei is None else int(r.paid_wei), redeemed_round=r.redeemed_round,
        next_attempt_at=r.next_attempt_at,
        raw_tx=r.raw_tx, ticket=t, sig=bytes.fromhex(r.sig[2:]), recipient_rand=int(r.recipient_rand),
    )


@dataclass(frozen=True)
class LedgerSummary:
    counts: dict[str, int]  # status -> tickets
    face_value: dict[str, int]  # status -> sum of face values
    paid_wei: int  # moved to our fee pool by redemptions
    gas_fee_wei: int  # spent on redemptions

    def to_json(self) -> dict:
        return {"counts": self.counts, "face_value": {k: str(v) for k, v in self.face_value.items()},
                "paid_wei": str(self.paid_wei), "gas_fee_wei": str(self.gas_fee_wei)}


class _FullSync:
    def __init__(self, store: Store):
        self._cm = store.sessions.begin()

    def __enter__(self):
        session = self._cm.__enter__()
        session.execute(text("PRAGMA synchronous=FULL"))
        return session

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


class TicketLedger:
    def __init__(self, store: Store, clock=time.time):
        self._store = store
        self._clock = clock

    def _write(self):
        """A write transaction committed with synchronous=FULL: a stored ticket survives power loss too."""
        return _FullSync(self._store)

    # ---------------------------------------------------------------- writes
    def store(self, ticket: Ticket, sig: bytes, recipient_rand: int, expiration_block: int, manifest_id: str = "") -> bool:
        """Write a winning ticket durably; False when this ticket is already stored (a replay)."""
        row = WinningTicket(
            ticket_hash="0x" + ticket.hash().hex(), recipient=checksum(ticket.recipient), sender=checksum(ticket.sender),
            face_value=str(ticket.face_value), win_prob=str(ticket.win_prob), sender_nonce=ticket.sender_nonce,
            recipient_rand_hash="0x" + ticket.recipient_rand_hash.hex(), creation_round=ticket.creation_round,
            creation_round_block_hash="0x" + ticket.creation_round_block_hash.hex(),
            params_expiration_block=expiration_block, recipient_rand=str(recipient_rand), sig="0x" + sig.hex(),
            manifest_id=manifest_id, status="pending", attempts=0, next_attempt_at=0.0,
        )
        try:
            with self._write() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    def _set(self, entry_id: int, **fields) -> None:
        with self._write() as session:
            session.execute(update(WinningTicket).where(WinningTicket.id == entry_id).values(**fields))

    def mark_submitting(self, entry_id: int) -> None:
        self._set(entry_id, status="submitting", attempts=WinningTicket.attempts + 1)

    def record_signed(self, entry_id: int, tx_hash: str, raw: bytes) -> None:
        self._set(entry_id, status="sent", tx_hash=tx_hash, raw_tx="0x" + raw.hex())

    def mark_redeemed(self, entry_id: int, *, tx_hash: str | None, block_number: int | None, gas_used: int | None,
                      fee_wei: int | None, paid_wei: int | None, note: str | None = None,
                      redeemed_round: int | None = None) -> None:
        self._set(entry_id, status="redeemed", tx_hash=tx_hash, block_number=block_number, gas_used=gas_used,
                  redeemed_round=redeemed_round,
                  fee_wei=None if fee_wei is None else str(fee_wei), paid_wei=None if paid_wei is None else str(paid_wei),
                  last_error=note, raw_tx=None, finished_at=datetime.now(timezone.utc))

    def mark_failed(self, entry_id: int, reason: str, **fields) -> None:
        """Give up: the ticket can never pay. `reason` says why (shown in the console)."""
        if "fee_wei" in fields and fields["fee_wei"] is not None:
            fields["fee_wei"] = str(fields["fee_wei"])
        self._set(entry_id, status="failed", last_error=reason, raw_tx=None, finished_at=datetime.now(timezone.utc),
                  **fields)

    def retry_later(self, entry_id: int, error: str, delay_s: float, *, keep_tx: bool = False) -> None:
        fields = dict(last_error=error, next_attempt_at=self._clock() + delay_s)
        if not keep_tx:
            fields.update(status="pending", tx_hash=None, raw_tx=None)
        self._set(entry_id, **fields)

    def note(self, entry_id: int, error: str) -> None:
        self._set(entry_id, last_error=error)

    # ---------------------------------------------------------------- reads
    def get(self, entry_id: int) -> LedgerEntry:
        with self._store.sessions() as session:
            return _entry(session.get(WinningTicket, entry_id))

    def by_hash(self, ticket_hash: bytes | str) -> LedgerEntry | None:
        h = ticket_hash if isinstance(ticket_hash, str) else "0x" + ticket_hash.hex()
        with self._store.sessions() as session:
            row = session.scalars(select(WinningTicket).where(WinningTicket.ticket_hash == h)).first()
            return _entry(row) if row else None

    def open_entries(self, recipient: str | None = None) -> list[LedgerEntry]:
        """Tickets not yet settled (pending, submitting, sent), oldest first."""
        stmt = select(WinningTicket).where(WinningTicket.status.in_(OPEN)).order_by(WinningTicket.id)
        if recipient:
            stmt = stmt.where(WinningTicket.recipient == recipient)
        with self._store.sessions() as session:
            return [_entry(r) for r in session.scalars(stmt)]

    def entries(self, *, status: str | None = None, sender: str | None = None, limit: int = 200) -> list[LedgerEntry]:
        stmt = select(WinningTicket).order_by(WinningTicket.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(WinningTicket.status == status)
        if sender:
            stmt = stmt.where(WinningTicket.sender == sender)
        with self._store.sessions() as session:
            return [_entry(r) for r in session.scalars(stmt)]

    def pending_face_value(self, sender: str, recipient: str) -> int:
        """Face value of our unsettled tickets from `sender` (what its max float must leave room for)."""
        with self._store.sessions() as session:
            values = session.scalars(select(WinningTicket.face_value).where(
                WinningTicket.sender == sender, WinningTicket.recipient == recipient,
                WinningTicket.status.in_(OPEN)))
            return sum(int(v) for v in values)

    def summary(self) -> LedgerSummary:
        counts: dict[str, int] = {}
        faces: dict[str, int] = {}
        paid = gas = 0
        with self._store.sessions() as session:
            for st, n in session.execute(select(WinningTicket.status, func.count()).group_by(WinningTicket.status)):
                counts[st] = n
            for st, fv, p, fee in session.execute(select(WinningTicket.status, WinningTicket.face_value,
                                                         WinningTicket.paid_wei, WinningTicket.fee_wei)):
                faces[st] = faces.get(st, 0) + int(fv)
                paid += int(p or 0)
                gas += int(fee or 0)
        return LedgerSummary(counts, faces, paid, gas)
