"""The transaction journal in SQL: the store's implementation of chain.tx's Journal port.

Every transaction is written before it is signed (status "pending") and updated as it is sent,
mined, fails or is refused, so an interrupted run still leaves a record of what was attempted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.store.db import Store
from core.store.models import TxJournal

_UPDATABLE = {"status", "tx_hash", "block_number", "gas_used", "fee_wei", "error", "events_json", "gas_estimate"}


@dataclass(frozen=True)
class JournalEntry:
    """One journal row as plain values (amounts stay decimal strings of wei), for display."""

    id: int
    created_at: datetime | None
    network: str
    sender: str
    to: str
    action: str
    summary: str
    status: str
    tx_hash: str | None = None
    block_number: int | None = None
    gas_estimate: int | None = None
    gas_used: int | None = None
    fee_wei: int | None = None
    value_wei: int = 0
    error: str | None = None
    events: tuple[dict, ...] = ()

    @classmethod
    def from_row(cls, row: TxJournal) -> "JournalEntry":
        try:
            events = tuple(json.loads(row.events_json)) if row.events_json else ()
        except ValueError:
            events = ()
        return cls(
            id=row.id, created_at=row.created_at, network=row.network, sender=row.sender, to=row.to,
            action=row.action, summary=row.summary, status=row.status, tx_hash=row.tx_hash,
            block_number=row.block_number, gas_estimate=row.gas_estimate, gas_used=row.gas_used,
            fee_wei=int(row.fee_wei) if row.fee_wei else None, value_wei=int(row.value_wei or 0),
            error=row.error, events=events,
        )


def read_journal(store: Store, limit: int = 200, sender: str | None = None) -> list[JournalEntry]:
    """The newest `limit` journal entries (of `sender` when given), newest first."""
    stmt = select(TxJournal).order_by(TxJournal.id.desc()).limit(limit)
    if sender:
        stmt = stmt.where(TxJournal.sender == sender)
    with store.sessions() as session:
        return [JournalEntry.from_row(row) for row in session.scalars(stmt)]


class SqlJournal:
    def __init__(self, store: Store):
        self._store = store

    def add(self, intent: Any, *, network: str) -> int:
        row = TxJournal(
            network=network,
            chain_id=intent.chain_id,
            sender=intent.sender,
            to=intent.to,
            action=intent.action,
            summary=intent.describe() if hasattr(intent, "describe") else intent.summary,
            data=intent.data,
            value_wei=str(intent.value),
            gas_estimate=intent.gas,
            status="pending",
        )
        with self._store.sessions.begin() as session:
            session.add(row)
            session.flush()
            return row.id

    def update(self, entry_id: int, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not journal fields: {sorted(unknown)}")
        with self._store.sessions.begin() as session:
            row = session.get(TxJournal, entry_id)
            if row is None:
                raise KeyError(f"no journal entry {entry_id}")
            for key, value in fields.items():
                setattr(row, key, str(value) if key == "fee_wei" and value is not None else value)

    def recent(self, limit: int = 50, sender: str | None = None) -> list[TxJournal]:
        stmt = select(TxJournal).order_by(TxJournal.id.desc()).limit(limit)
        if sender:
            stmt = stmt.where(TxJournal.sender == sender)
        with self._store.sessions() as session:
            return list(session.scalars(stmt))

    def read(self, limit: int = 200, sender: str | None = None) -> list[JournalEntry]:
        return read_journal(self._store, limit, sender)
