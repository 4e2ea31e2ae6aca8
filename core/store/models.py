"""Tables of the local database. Money is stored as decimal strings of integer wei (SQLite integers
are 64-bit, too small for wei). No private key or other secret is ever stored here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TxJournal(Base):
    """Every transaction the console or node sends: what it was meant to do and what happened."""

    __tablename__ = "tx_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    network: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(42), index=True)
    to: Mapped[str] = mapped_column(String(42))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "bond", "approve", "castVote"
    summary: Mapped[str] = mapped_column(Text)  # plain-language intent shown before signing
    data: Mapped[str] = mapped_column(Text)  # calldata hex
    value_wei: Mapped[str] = mapped_column(String(80), default="0")
    gas_estimate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|mined|failed|refused
    block_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_wei: Mapped[str | None] = mapped_column(String(80), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    events_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class KeyValue(Base):
    """Small pieces of local state (e.g. cache markers) that are not settings."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
