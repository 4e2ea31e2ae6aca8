"""Credit per (sender, manifest): tickets credit their EV, segments debit output pixels × the session's
price, which is fixed at the session's first payment (as go-livepeer)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction


@dataclass
class Account:
    balance: Fraction
    price: Fraction  # wei per pixel, fixed at the first payment


class Balances:
    def __init__(self) -> None:
        self._accounts: dict[tuple[bytes, bytes], Account] = {}
        self._lock = threading.Lock()

    def price(self, sender: bytes, manifest: bytes, current: Fraction) -> Fraction:
        """The session's price (its first price when it has one)."""
        with self._lock:
            acct = self._accounts.get((sender, manifest))
            return acct.price if acct else current

    def credit(self, sender: bytes, manifest: bytes, amount: Fraction, price: Fraction) -> None:
        with self._lock:
            acct = self._accounts.setdefault((sender, manifest), Account(Fraction(0), price))
            acct.balance += amount

    def debit(self, sender: bytes, manifest: bytes, pixels: int) -> Fraction:
        with self._lock:
            acct = self._accounts.get((sender, manifest))
            if acct is None:
                return Fraction(0)
            fee = acct.price * pixels
            acct.balance -= fee
            return fee

    def balance(self, sender: bytes, manifest: bytes) -> Fraction:
        with self._lock:
            acct = self._accounts.get((sender, manifest))
            return acct.balance if acct else Fraction(0)
