"""The Pricing screen's figures, computed off the UI thread from the running node's price book and
payment parameters: base and advertised price, the redemption overhead and what drives it, and the
headroom under each known gateway's max price."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from core.payments.params import ParamsRefused, max_float

GWEI = 10**9


def per_pixel(price: Fraction | None) -> str:
    """wei per pixel, and the same in gwei: "1,200 wei/px (1.2e-06 gwei)"."""
    if price is None:
        return "unknown"
    wei = float(price)
    whole = f"{wei:,.0f}" if price.denominator == 1 or wei >= 1000 else f"{wei:,.3f}"
    return f"{whole} wei/px ({wei / GWEI:.3g} gwei/px)"


@dataclass(frozen=True)
class Overhead:
    gas_price: int
    tx_cost: int  # wei: redeem gas × gas price
    face_value: int | None  # wei; None when the params are refused
    overhead: Fraction
    why: str  # what sets the face value (and so the overhead)


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


def given_text(entry) -> str:
    """A price as the operator set it: "1,200 wei per pixel", "0.5 USD per 1,000,000 pixels"."""
    from core.payments.pricing import decimal_text

    if entry is None:
        return "not set"
    value = Fraction(entry.price_per_unit)
    amount = f"{value.numerator:,} wei" if entry.currency == "WEI" else f"{decimal_text(value)} {entry.currency}"
    return f"{amount} per {'pixel' if entry.pixels_per_unit == 1 else f'{entry.pixels_per_unit:,} pixels'}"


def _base(book, sender: str = "") -> Fraction | None:
    from core.payments.pricing import PriceError

    try:
        return book.base(sender)
    except PriceError:
        return None


def overhead_for(params, gas_price: int, sender_max_float: int | None) -> Overhead:
    mf = sender_max_float if sender_max_float is not None else 2**255
    tx_cost = params.redeem_gas * gas_price
    try:
        fv, tx_cost = params.face_value(gas_price, mf)
    except ParamsRefused as exc:
        return Overhead(gas_price, tx_cost, None, Fraction(0), str(exc))
    wanted = max(tx_cost * params.tx_cost_multiplier, params.ticket_ev * params.tx_cost_multiplier)
    if fv < wanted:
        by = "--max-face-value" if params.max_face_value is not None and fv == params.max_face_value \
            else "the gateway's max float (deposit + reserve share)"
        why = f"face value capped by {by} below {params.tx_cost_multiplier}× the redemption cost"
    elif tx_cost * params.tx_cost_multiplier >= params.ticket_ev * params.tx_cost_multiplier:
        why = f"face value = {params.tx_cost_multiplier}× the redemption cost"
    else:
        why = f"face value = {params.tx_cost_multiplier}× the ticket EV (gas is cheap)"
    return Overhead(gas_price, tx_cost, fv, Fraction(tx_cost, fv), why)


def load_pricing(parts, settings) -> PricingView:
    caps = {k.lower(): Fraction(str(v)) for k, v in settings.node.gateway_max_prices.items()}
    if parts is None:
        from core.payments.pricing import PriceEntry, parse_price

        n = settings.node
        amount = parse_price(n.price_per_unit)
        entry = PriceEntry("", amount.value, n.pixels_per_unit, amount.currency)
        base = entry.per_pixel if amount.currency == "WEI" else None
        gateways = tuple(GatewayPrice(s, base, None, None, cap, False) for s, cap in sorted(caps.items()))
        return PricingView(False, True, base, base, None, None, None, None, gateways, given_text(entry))
    prices, payments = parts.prices, parts.payments
    params = payments.params
    view = payments.state.view()
    default = overhead_for(params, view.gas_price, None)
    senders = {e.sender for e in prices.entries() if e.sender} | {e.sender for e in parts.ledger.entries(limit=500)}
    by_lower = {s.lower(): s for s in senders}
    for s in caps:
        by_lower.setdefault(s, s)
    gateways = []
    for low, sender in sorted(by_lower.items()):
        try:
            funds = payments.state.sender(sender)
            pending = parts.ledger.pending_face_value(sender, payments.chain.address)
            oh = overhead_for(params, view.gas_price, max_float(funds.deposit, funds.claimable_reserve, pending))
        except Exception:  # noqa: BLE001 - not a funded sender (or RPC hiccup): no overhead to show
            oh = None
        base = _base(prices, sender)
        advertised = prices.advertised(sender, oh.overhead) if oh and oh.face_value and base is not None else None
        own = any(e.sender == sender for e in prices.entries())
        gateways.append(GatewayPrice(sender, base, advertised, oh, caps.get(low), own))
    # what a gateway with ample funds is offered: GetOrchestrator issues its ticket params, then prices them
    overhead = default.overhead if default.face_value else Fraction(1, params.tx_cost_multiplier)
    base = _base(prices)
    feed = prices.rates.to_json() if hasattr(prices.rates, "to_json") else None
    return PricingView(True, prices.auto_adjust, base, prices.advertised("", overhead) if base is not None else None,
                       default, params.ticket_ev, params.redeem_gas, params.max_face_value, tuple(gateways),
                       given_text(prices.entry()), feed)
