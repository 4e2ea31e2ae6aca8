"""Transcoding prices: wei per pixel = price per unit ÷ pixels per unit, a default and per-gateway
overrides, persisted in SQLite and changed at runtime (management API `/pricing`, `lpc pricing`).

With auto-adjust on (go-livepeer's default) the advertised price carries the redemption overhead:
price × (1 + tx cost ÷ face value). At the usual face value (100 × tx cost) that is +1 %; when a
sender's max float or `--max-face-value` caps the face value, the overhead grows, and the console
shows it (pain point #5: gas spikes pricing an orchestrator out).

A price per unit is in wei (`1200`), in gwei or ETH (`0.5gwei`, `2e-15ETH`: exact), or in the quote
currency of the configured ETH price feed (`0.5USD`, go-livepeer's `-pricePerUnit 0.5USD` with a
Chainlink ETH/USD feed): such a price is stored as given and converted to wei per pixel with the feed's
latest rate every time it is used, so the advertised wei price follows ETH (core.payments.feed).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Protocol

from sqlalchemy import delete, select

from core.store.db import Store
from core.store.models import KeyValue, Price

DEFAULT = ""  # the sender key of the default price
_AUTO_KEY = "pricing.auto_adjust"
_FLAG_KEY = "pricing.configured_default"  # the flags' default price last seen at start
INT64_MAX = 2**63 - 1
WEI = "WEI"
EXACT = {"WEI": 1, "GWEI": 10**9, "ETH": 10**18}  # currencies converted without a feed: wei per unit
_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]{0,10})\s*$")


log = logging.getLogger(__name__)


class PriceError(ValueError):
    pass


class Rates(Protocol):
    """Where currency prices get their rate: the price feed watcher (core.payments.feed)."""

    def rate(self, currency: str) -> Fraction:
        """`currency` units per 1 ETH; PriceError when there is none (no feed, another quote currency)."""


@dataclass(frozen=True)
class PriceAmount:
    """A price per unit as given: 1200 (wei), 0.5 USD, 2e-15 ETH."""

    value: Fraction
    currency: str = WEI

    def __str__(self) -> str:
        return f"{decimal_text(self.value)}{'' if self.currency == WEI else self.currency}"


def decimal_text(value: Fraction) -> str:
    """A fraction with a finite decimal expansion, as plain decimal text (no exponent)."""
    if value.denominator == 1:
        return str(value.numerator)
    d = Decimal(value.numerator) / Decimal(value.denominator)
    return format(d.normalize(), "f")


def parse_price(text: str | int) -> PriceAmount:
    """'1200' → 1200 wei; '0.5USD', '0.5 usd', '5e-1USD' → 0.5 USD; '1.5gwei' → 1,500,000,000 wei."""
    if isinstance(text, int):
        if text < 0:
            raise PriceError(f"{text}: a price cannot be negative")
        return PriceAmount(Fraction(text))
    s = str(text).strip()
    if s.startswith("-"):
        raise PriceError(f"{s!r}: a price cannot be negative")
    m = _AMOUNT.match(s)
    if not m:
        raise PriceError(f"{s!r} is not a price: give wei (1200), or an amount and a currency (0.5USD, 1.5gwei)")
    try:
        number = Decimal(m.group(1))
    except (InvalidOperation, ValueError):
        raise PriceError(f"{s!r} is not a number") from None
    if number and not -40 <= number.adjusted() <= 40:
        raise PriceError(f"{s!r} is out of range for a price")
    value = Fraction(number)
    currency = (m.group(2) or WEI).upper()
    if currency in EXACT:
        wei = value * EXACT[currency]
        if wei.denominator != 1:
            raise PriceError(f"{s!r} is not a whole number of wei ({decimal_text(wei)} wei)")
        return PriceAmount(wei)
    if len(currency) < 3:
        raise PriceError(f"{s!r}: {currency!r} is not a currency (use WEI, GWEI, ETH or the price feed's, e.g. USD)")
    return PriceAmount(value, currency)


def parse_pixels(text: str | int) -> int:
    """Pixels per unit: a whole number ≥ 1 ('1', '1000000', '1e6')."""
    s = str(text).strip()
    try:
        number = Decimal(s) if s and not any(c.isalpha() and c not in "eE" for c in s) else None
        value = Fraction(number) if number is not None and number.is_finite() and number.adjusted() <= 18 else None
    except (InvalidOperation, ValueError):
        value = None
    if value is None or value.denominator != 1 or value < 1:
        raise PriceError(f"{s!r}: pixels per unit must be a whole number ≥ 1 (e.g. 1 or 1e6)")
    return int(value)


@dataclass(frozen=True)
class PriceEntry:
    sender: str  # "" = default
    price_per_unit: int | Fraction  # wei, or an amount of `currency`
    pixels_per_unit: int
    currency: str = WEI  # WEI, or the feed's quote currency (USD)

    @property
    def amount(self) -> PriceAmount:
        return PriceAmount(Fraction(self.price_per_unit), self.currency)

    def wei_per_pixel(self, rates: Rates | None) -> Fraction:
        value = Fraction(self.price_per_unit)
        if self.currency == WEI:
            return value / self.pixels_per_unit
        if rates is None:
            raise PriceError(f"a price in {self.currency} needs an ETH/{self.currency} price feed, and this node "
                             "has none: set node.price_feed (go-livepeer's -priceFeedAddr) or give the price in wei")
        return value * 10**18 / rates.rate(self.currency) / self.pixels_per_unit

    @property
    def per_pixel(self) -> Fraction:
        """Wei per pixel of a wei price (a currency price needs `wei_per_pixel(rates)`)."""
        return self.wei_per_pixel(None)

    def to_json(self, rates: Rates | None = None) -> dict:
        data = {"sender": self.sender or None, "price_per_unit": decimal_text(Fraction(self.price_per_unit)),
                "pixels_per_unit": str(self.pixels_per_unit), "currency": self.currency}
        try:
            data["wei_per_pixel"] = float(self.wei_per_pixel(rates))
        except PriceError as exc:
            data["wei_per_pixel"], data["error"] = None, str(exc)
        return data


def to_wire(price: Fraction) -> tuple[int, int]:
    """(pricePerUnit, pixelsPerUnit) that fit the int64 PriceInfo fields (rounded up if they must be)."""
    if price.numerator <= INT64_MAX and price.denominator <= INT64_MAX:
        return price.numerator, price.denominator
    approx = price.limit_denominator(10**12)
    if approx < price:
        approx = Fraction(approx.numerator + 1, approx.denominator)
    return approx.numerator, approx.denominator


class PriceBook:
    """The node's prices. With `rates` (the price feed watcher) prices in its quote currency work; without
    one (a price book edited while the node is stopped) they are stored and converted when the node runs."""

    def __init__(self, store: Store | None, *, default: PriceEntry | None = None, auto_adjust: bool = True,
                 rates: Rates | None = None):
        self._store = store
        self._lock = threading.Lock()
        self._prices: dict[str, PriceEntry] = {}
        self._auto = auto_adjust
        self.rates = rates
        self._load(default)

    def _load(self, default: PriceEntry | None) -> None:
        if self._store is None:
            if default:
                self._prices[DEFAULT] = default
            return
        with self._store.sessions() as s:
            for row in s.scalars(select(Price)):
                currency = row.currency or WEI
                value = int(row.price_per_unit) if currency == WEI else Fraction(Decimal(row.price_per_unit))
                self._prices[row.sender] = PriceEntry(row.sender, value, int(row.pixels_per_unit), currency)
            auto = s.get(KeyValue, _AUTO_KEY)
            if auto is not None:
                self._auto = auto.value == "1"
        if default is None:
            return
        # The flags' price seeds the default. A price changed at runtime survives restarts with the same flags;
        # a changed flag (the operator edited the config) wins over it.
        flag = f"{default.amount}/{default.pixels_per_unit}"
        with self._store.sessions() as s:
            seen = s.get(KeyValue, _FLAG_KEY)
        if DEFAULT not in self._prices or (seen is not None and seen.value != flag):
            if DEFAULT in self._prices:
                log.info("the configured price changed (%s → %s): it replaces the price set at runtime",
                         seen.value, flag)
            self.set(default.amount, default.pixels_per_unit, check=False)
        if seen is None or seen.value != flag:
            with self._store.sessions.begin() as s:
                s.merge(KeyValue(key=_FLAG_KEY, value=flag))

    def reload(self) -> None:
        with self._lock:
            self._prices.clear()
        self._load(None)

    @property
    def auto_adjust(self) -> bool:
        return self._auto

    def set_auto_adjust(self, on: bool) -> None:
        self._auto = on
        if self._store is not None:
            with self._store.sessions.begin() as s:
                s.merge(KeyValue(key=_AUTO_KEY, value="1" if on else "0"))

    def currencies(self) -> set[str]:
        """The feed currencies the stored prices are in (what the feed must quote for them to work)."""
        with self._lock:
            return {e.currency for e in self._prices.values() if e.currency != WEI}

    def set(self, price_per_unit: int | PriceAmount, pixels_per_unit: int = 1, sender: str = DEFAULT, *,
            check: bool = True) -> PriceEntry:
        """Store a price. A currency price is converted once first (`check`), so a price the node could not
        use (no feed, a currency the feed does not quote) is refused and nothing changes."""
        amount = price_per_unit if isinstance(price_per_unit, PriceAmount) else PriceAmount(Fraction(price_per_unit))
        if amount.value < 0 or pixels_per_unit <= 0:
            raise PriceError("the price must be ≥ 0 and pixels per unit ≥ 1")
        if amount.currency == WEI and amount.value.denominator != 1:
            raise PriceError(f"{amount}: a wei price must be a whole number of wei")
        value = int(amount.value) if amount.currency == WEI else amount.value
        entry = PriceEntry(sender, value, pixels_per_unit, amount.currency)
        if check and amount.currency != WEI and self.rates is not None:
            entry.wei_per_pixel(self.rates)  # raises PriceError: nothing stored
        if self._store is not None:
            with self._store.sessions.begin() as s:
                s.merge(Price(sender=sender, price_per_unit=decimal_text(Fraction(value)),
                              pixels_per_unit=str(pixels_per_unit), currency=amount.currency))
        with self._lock:
            self._prices[sender] = entry
        return entry

    def clear(self, sender: str) -> None:
        if sender == DEFAULT:
            raise PriceError("the default price cannot be removed; set it to 0 instead")
        if self._store is not None:
            with self._store.sessions.begin() as s:
                s.execute(delete(Price).where(Price.sender == sender))
        with self._lock:
            self._prices.pop(sender, None)

    def entry(self, sender: str = DEFAULT) -> PriceEntry | None:
        return self._prices.get(sender) or self._prices.get(DEFAULT)

    def base(self, sender: str = DEFAULT) -> Fraction:
        """Wei per pixel for `sender` now (a currency price at the feed's latest rate)."""
        entry = self.entry(sender)
        return entry.wei_per_pixel(self.rates) if entry else Fraction(0)

    def advertised(self, sender: str = DEFAULT, overhead: Fraction = Fraction(0)) -> Fraction:
        """The price offered to `sender`: its base price, plus the redemption overhead when auto-adjusting."""
        base = self.base(sender)
        return base * (1 + overhead) if self._auto else base

    def entries(self) -> list[PriceEntry]:
        with self._lock:
            return sorted(self._prices.values(), key=lambda e: (e.sender != DEFAULT, e.sender))

    def to_json(self) -> dict:
        data = {"auto_adjust": self._auto, "prices": [e.to_json(self.rates) for e in self.entries()]}
        describe = getattr(self.rates, "to_json", None)
        if describe is not None:
            data["feed"] = describe()
        return data
