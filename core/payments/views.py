"""Read models of a running on-chain node, for the console: frozen results computed here, never in a screen.

- `pricing_view`: the price as set, base and advertised price, the redemption overhead and what sets it,
  and per known gateway its price and the headroom under its max price (the price rule itself is
  OnchainPayments.overhead_for / offered_price and ParamsMaker.overhead, not redone here);
- `tickets_by_gateway`: winning tickets per gateway and status with their face value and what they paid,
  and the ticket EV each gateway sent (TicketReceipts);
- `fees_by_round`: fees redeemed and gas spent per round;
- `earned`: tickets won and fees redeemed in one round or since a moment (the Dashboard's "this round" and
  "today").

The ledger sums are SQL GROUP BY over every row, not over the newest N rows. Wei amounts are stored as
TEXT (a uint256 does not fit SQLite's 64-bit integers, whose SUM fails on overflow), so they are added by
`wei_sum`, an exact aggregate registered on the connection that runs the query. Call these from a worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.payments.params import Overhead
from core.payments.pricing import PriceEntry, PriceError, decimal_text, parse_price
from core.store.db import Store
from core.store.models import WinningTicket

if TYPE_CHECKING:
    from core.node.onchain import OnchainPayments
    from core.payments.pricing import PriceBook
    from core.payments.receipts import ReceiptTotals
    from core.settings import NodeSettings

OPEN = ("pending", "submitting", "sent")


# ------------------------------------------------------------------------------------------ pricing
@dataclass(frozen=True)
class GatewayPrice:
    sender: str
    base: Fraction | None
    advertised: Fraction | None
    overhead: Overhead | None
    max_price: Fraction | None  # the gateway's known cap, wei per pixel
    own_price: bool  # a per-gateway price is set

    @property
    def headroom(self) -> Fraction | None:
        ours = self.advertised if self.advertised is not None else self.base
        if ours is None or self.max_price is None or self.max_price == 0:
            return None
        return (self.max_price - ours) / self.max_price


@dataclass(frozen=True)
class PricingView:
    running: bool
    auto_adjust: bool
    base: Fraction | None  # None: a currency price with no rate to convert it now
    advertised: Fraction | None
    default_overhead: Overhead | None
    ticket_ev: int | None
    redeem_gas: int | None
    max_face_value: int | None
    gateways: tuple[GatewayPrice, ...]
    given: str = ""  # the default price as set: "0.5 USD per 1,000,000 pixels"
    feed: dict | None = None  # the price feed watcher's state (address, quote, price, age_s, stale, last_error)


def given_text(entry: PriceEntry | None) -> str:
    """A price as the operator set it: "1,200 wei per pixel", "0.5 USD per 1,000,000 pixels"."""
    if entry is None:
        return "not set"
    value = Fraction(entry.price_per_unit)
    amount = f"{value.numerator:,} wei" if entry.currency == "WEI" else f"{decimal_text(value)} {entry.currency}"
    return f"{amount} per {'pixel' if entry.pixels_per_unit == 1 else f'{entry.pixels_per_unit:,} pixels'}"


def _caps(node: NodeSettings) -> dict[str, Fraction]:
    return {k.lower(): Fraction(str(v)) for k, v in node.gateway_max_prices.items()}


def configured_pricing(node: NodeSettings) -> PricingView:
    """What settings say while no on-chain node runs: the configured price (in wei when it is in wei)."""
    amount = parse_price(node.price_per_unit)
    entry = PriceEntry("", amount.value, node.pixels_per_unit, amount.currency)
    base = entry.per_pixel if amount.currency == "WEI" else None
    gateways = tuple(GatewayPrice(s, base, None, None, cap, False) for s, cap in sorted(_caps(node).items()))
    return PricingView(False, True, base, base, None, None, None, None, gateways, given_text(entry))


def _base(book: PriceBook, sender: str = "") -> Fraction | None:
    try:
        return book.base(sender)
    except PriceError:
        return None


def pricing_view(payments: OnchainPayments, store: Store, node: NodeSettings) -> PricingView:
    """The running node's prices: the default offer and, per gateway with a price, a ticket or a known max
    price, what it is offered now."""
    prices, params = payments.prices, payments.params
    default = payments.overhead_for(None)
    caps = _caps(node)
    senders = {e.sender for e in prices.entries() if e.sender} | set(ticket_senders(store))
    by_lower = {s.lower(): s for s in senders}
    for s in caps:
        by_lower.setdefault(s, s)
    own = {e.sender for e in prices.entries() if e.sender}
    gateways = []
    for low, sender in sorted(by_lower.items()):
        try:
            oh = payments.overhead_for(sender)
        except Exception:  # noqa: BLE001 - not a funded sender (or RPC hiccup): no overhead to show
            oh = None
        base = _base(prices, sender)
        advertised = payments.offered_price(sender, oh) if oh and oh.face_value and base is not None else None
        gateways.append(GatewayPrice(sender, base, advertised, oh, caps.get(low), sender in own))
    base = _base(prices)
    feed = prices.rates.to_json() if hasattr(prices.rates, "to_json") else None
    return PricingView(True, prices.auto_adjust, base, payments.offered_price("", default) if base is not None else None,
                       default, params.ticket_ev, params.redeem_gas, params.max_face_value, tuple(gateways),
                       given_text(prices.entry()), feed)


# ------------------------------------------------------------------------------------------ the ledger
class _WeiSum:
    """sum() of decimal TEXT amounts, exact at any size; the result is TEXT too (sqlite3 cannot return an
    integer above 2**63)."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value) -> None:
        if value is not None:
            self.total += int(value)

    def finalize(self) -> str:
        return str(self.total)


def _wei(total: str | None) -> int:
    """A wei_sum result: NULL when no row was summed (sqlite3 skips finalize then)."""
    return int(total) if total is not None else 0


def _session(store: Store) -> Session:
    session = store.sessions()
    session.connection().connection.dbapi_connection.create_aggregate("wei_sum", 1, _WeiSum)
    return session


def ticket_senders(store: Store) -> list[str]:
    """Every gateway this node holds a winning ticket from."""
    with _session(store) as s:
        return list(s.scalars(select(WinningTicket.sender).distinct().order_by(WinningTicket.sender)))


@dataclass(frozen=True)
class GatewayTickets:
    sender: str
    received_ev: int  # wei of ticket EV credited (all time, with the node's receipts table)
    won: int
    won_face: int
    pending: int  # still to be redeemed (pending, submitting, sent)
    pending_face: int
    redeemed: int
    paid: int  # wei moved to our fee pool by redemptions
    failed: int


def tickets_by_gateway(store: Store, received: Mapping[str, ReceiptTotals] | None = None) -> tuple[GatewayTickets, ...]:
    """Per gateway (sorted by address): its winning tickets by status, and the ticket EV it sent."""
    rows: dict[str, dict[str, tuple[int, int, int]]] = {}
    with _session(store) as s:
        stmt = (select(WinningTicket.sender, WinningTicket.status, func.count(), func.wei_sum(WinningTicket.face_value),
                       func.wei_sum(WinningTicket.paid_wei))
                .group_by(WinningTicket.sender, WinningTicket.status))
        for sender, status, n, face, paid in s.execute(stmt):
            rows.setdefault(sender, {})[status] = (n, _wei(face), _wei(paid))
    received = received or {}
    out = []
    for sender in sorted(set(rows) | set(received)):
        by = rows.get(sender, {})
        total = lambda statuses, i: sum(v[i] for st, v in by.items() if st in statuses)  # noqa: E731
        everything = tuple(by)
        out.append(GatewayTickets(
            sender, received[sender].ev_wei if sender in received else 0, total(everything, 0), total(everything, 1),
            total(OPEN, 0), total(OPEN, 1), total(("redeemed",), 0), total(("redeemed",), 2), total(("failed",), 0)))
    return tuple(out)


@dataclass(frozen=True)
class RoundFees:
    round: int
    fees: int  # wei redeemed into the fee pool, booked in the round the redemption was mined in
    gas: int  # wei spent on redemption transactions (mined, whatever their outcome)


def fees_by_round(store: Store, *, since_round: int | None = None) -> dict[int, RoundFees]:
    """Fees and redemption gas per round. A redemption is booked in the round it was mined in; older rows
    without that round are booked in the ticket's creation round."""
    booked = func.coalesce(WinningTicket.redeemed_round, WinningTicket.creation_round)
    fees = func.wei_sum(case((WinningTicket.status == "redeemed", WinningTicket.paid_wei)))
    stmt = (select(booked, fees, func.wei_sum(WinningTicket.fee_wei))
            .where((WinningTicket.status == "redeemed") | WinningTicket.fee_wei.is_not(None))
            .group_by(booked))
    if since_round is not None:
        stmt = stmt.where(booked >= since_round)
    with _session(store) as s:
        return {r: RoundFees(r, _wei(f), _wei(g)) for r, f, g in s.execute(stmt)}


@dataclass(frozen=True)
class Earned:
    won: int  # winning tickets received
    won_face: int  # their face value (wei)
    redeemed: int  # wei paid by the redemptions of those tickets


def earned(store: Store, *, creation_round: int | None = None, since: datetime | None = None) -> Earned:
    """Winning tickets of one round (by their creation round) or received since a moment (UTC)."""
    paid = func.wei_sum(case((WinningTicket.status == "redeemed", WinningTicket.paid_wei)))
    stmt = select(func.count(), func.wei_sum(WinningTicket.face_value), paid)
    if creation_round is not None:
        stmt = stmt.where(WinningTicket.creation_round == creation_round)
    if since is not None:
        stmt = stmt.where(WinningTicket.received_at >= since)
    with _session(store) as s:
        n, face, redeemed = s.execute(stmt).one()
    return Earned(n, _wei(face), _wei(redeemed))
