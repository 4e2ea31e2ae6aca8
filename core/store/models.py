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


# ------------------------------------------------------------------------------- payments (0002)


class WinningTicket(Base):
    """A winning ticket this orchestrator received, written before the gateway hears back, until it is
    redeemed on chain or given up (with the reason). `raw_tx` is the signed redemption, kept so that a
    restart re-sends the very same transaction instead of a second one."""

    __tablename__ = "winning_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_hash: Mapped[str] = mapped_column(String(66), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recipient: Mapped[str] = mapped_column(String(42), index=True)
    sender: Mapped[str] = mapped_column(String(42), index=True)
    face_value: Mapped[str] = mapped_column(String(80))
    win_prob: Mapped[str] = mapped_column(String(80))
    sender_nonce: Mapped[int] = mapped_column(Integer)
    recipient_rand_hash: Mapped[str] = mapped_column(String(66))
    creation_round: Mapped[int] = mapped_column(Integer)
    creation_round_block_hash: Mapped[str] = mapped_column(String(66))
    params_expiration_block: Mapped[int] = mapped_column(Integer)
    recipient_rand: Mapped[str] = mapped_column(String(80))
    sig: Mapped[str] = mapped_column(String(140))
    manifest_id: Mapped[str] = mapped_column(Text, default="")
    # pending | submitting | sent | redeemed | failed
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    raw_tx: Mapped[str | None] = mapped_column(Text, nullable=True)
    block_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_wei: Mapped[str | None] = mapped_column(String(80), nullable=True)
    paid_wei: Mapped[str | None] = mapped_column(String(80), nullable=True)
    redeemed_round: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the round its fees were booked in
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TicketReceipt(Base):
    """Tickets received from a gateway in a round: count, expected value credited (wei), winners."""

    __tablename__ = "ticket_receipts"

    sender: Mapped[str] = mapped_column(String(42), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    ev_wei: Mapped[str] = mapped_column(String(80), default="0")
    winners: Mapped[int] = mapped_column(Integer, default=0)


class RewardRound(Base):
    """One round of the reward autopilot: called (tx, LPT minted, gas), or missed / failed and why."""

    __tablename__ = "reward_rounds"

    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcoder: Mapped[str] = mapped_column(String(42), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | called | missed | failed | inactive
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    minted_wei: Mapped[str | None] = mapped_column(String(80), nullable=True)  # LPT (wei) the Reward event added
    gas_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fee_wei: Mapped[str | None] = mapped_column(String(80), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    initialized_by_us: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class Price(Base):
    """Transcoding price: the default (sender '') and per-gateway overrides, wei per pixel as a fraction."""

    __tablename__ = "prices"

    sender: Mapped[str] = mapped_column(String(42), primary_key=True)
    price_per_unit: Mapped[str] = mapped_column(String(80))
    pixels_per_unit: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(10), default="WEI", server_default="WEI")  # or the feed's, e.g. USD
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class Alert(Base):
    """Something an operator must look at (a missed reward, a ticket that cannot be redeemed)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    source: Mapped[str] = mapped_column(String(32))  # reward | redemption | pricing
    severity: Mapped[str] = mapped_column(String(16))  # warning | error
    message: Mapped[str] = mapped_column(Text)
