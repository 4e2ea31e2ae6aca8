"""Transcoding prices: wei per pixel = price per unit ÷ pixels per unit, a default and per-gateway
overrides, persisted in SQLite and changed at runtime (management API `/pricing`, `lpc pricing`).

With auto-adjust on (go-livepeer's default) the advertised price carries the redemption overhead:
price × (1 + tx cost ÷ face value). At the usual face value (100 × tx cost) that is +1 %; when a
sender's max float or `--max-face-value` caps the face value, the overhead grows, and the console
shows it (pain point #5: gas spikes pricing an orchestrator out).

Prices are in wei. Prices in USD through a price feed (go-livepeer's `0.5USD` with Chainlink) are not
built: a price given with a currency is refused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import delete, select

from core.store.db import Store
from core.store.models import KeyValue, Price

DEFAULT = ""  # the sender key of the default price
_AUTO_KEY = "pricing.auto_adjust"
INT64_MAX = 2**63 - 1


class PriceError(ValueError):
    pass


@dataclass(frozen=True)
class PriceEntry:
    sender: str  # "" = default
    price_per_unit: int
    pixels_per_unit: int

    @property
    def per_pixel(self) -> Fraction:
        return Fraction(self.price_per_unit, self.pixels_per_unit)

    def to_json(self) -> dict:
        return {"sender": self.sender or None, "price_per_unit": str(self.price_per_unit),
                "pixels_per_unit": str(self.pixels_per_unit), "wei_per_pixel": float(self.per_pixel)}


def parse_price(text: str | int) -> int:
    s = str(text).strip()
    if not s.isdigit():
        if any(c.isalpha() for c in s):
            raise PriceError(f"{s!r}: prices are in wei; prices in a currency (USD through a price feed) are not "
                             "supported yet")
        raise PriceError(f"{s!r} is not a whole number of wei")
    return int(s)


def to_wire(price: Fraction) -> tuple[int, int]:
    """(pricePerUnit, pixelsPerUnit) that fit the int64 PriceInfo fields (rounded up if they must be)."""
    if price.numerator <= INT64_MAX and price.denominator <= INT64_MAX:
        return price.numerator, price.denominator
    approx = price.limit_denominator(10**12)
    if approx < price:
        approx = Fraction(approx.numerator + 1, approx.denominator)
    return approx.numerator, approx.denominator


class PriceBook:
    def __init__(self, store: Store | None, *, default: PriceEntry | None = None, auto_adjust: bool = True):
        self._store = store
        self._lock = threading.Lock()
        self._prices: dict[str, PriceEntry] = {}
        self._auto = auto_adjust
        self._load(default)

    def _load(self, default: PriceEntry | None) -> None:
        if self._store is None:
            if default:
                self._prices[DEFAULT] = default
            return
        with self._store.sessions() as s:
            for row in s.scalars(select(Price)):
                self._prices[row.sender] = PriceEntry(row.sender, int(row.price_per_unit), int(row.pixels_per_unit))
            auto = s.get(KeyValue, _AUTO_KEY)
            if auto is not None:
                self._auto = auto.value == "1"
        if default is not None and DEFAULT not in self._prices:
            self.set(default.price_per_unit, default.pixels_per_unit)

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

    def set(self, price_per_unit: int, pixels_per_unit: int = 1, sender: str = DEFAULT) -> PriceEntry:
        if price_per_unit < 0 or pixels_per_unit <= 0:
            raise PriceError("the price must be ≥ 0 wei and pixels per unit ≥ 1")
        entry = PriceEntry(sender, price_per_unit, pixels_per_unit)
        if self._store is not None:
            with self._store.sessions.begin() as s:
                s.merge(Price(sender=sender, price_per_unit=str(price_per_unit), pixels_per_unit=str(pixels_per_unit)))
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

    def base(self, sender: str = DEFAULT) -> Fraction:
        entry = self._prices.get(sender) or self._prices.get(DEFAULT)
        return entry.per_pixel if entry else Fraction(0)

    def advertised(self, sender: str = DEFAULT, overhead: Fraction = Fraction(0)) -> Fraction:
        """The price offered to `sender`: its base price, plus the redemption overhead when auto-adjusting."""
        base = self.base(sender)
        return base * (1 + overhead) if self._auto else base

    def entries(self) -> list[PriceEntry]:
        with self._lock:
            return sorted(self._prices.values(), key=lambda e: (e.sender != DEFAULT, e.sender))

    def to_json(self) -> dict:
        return {"auto_adjust": self._auto, "prices": [e.to_json() for e in self.entries()]}
