"""The ETH price feed behind currency prices (go-livepeer's `-pricePerUnit 0.5USD` with `-priceFeedAddr`).

`PriceFeedWatcher` reads a Chainlink-style ETH/<quote> feed (a `PriceFeed` port; chain.services.price_feed
on the wire) when the node starts and every `poll_s` after, and is the `Rates` of the node's PriceBook:
a price of 0.5 USD per unit is converted with the latest answer each time it is offered, so the wei
price follows ETH without a restart.

- At start, if a stored price is in a currency, the feed must answer (and quote that currency), or the
  node does not start: the reason says which feed and what failed. With no currency price, a failed first
  read is only logged; setting a USD price later is refused until the feed answers.
- A failed poll keeps the last good answer (it is shown with its age) and raises one alert per outage.
- An answer older than `stale_after_s` (Chainlink's ETH/USD heartbeat on Arbitrum is 24 h) raises one
  alert per feed round: the price is still used, as go-livepeer does, but the operator is told.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction

from core.payments.alerts import Alerts
from core.payments.background import Background
from core.payments.ports import FeedRound, PriceFeed
from core.payments.pricing import PriceError, decimal_text

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 60.0
DEFAULT_STALE_AFTER_S = 25 * 3600  # heartbeat 24 h + an hour of slack


class NoFeed:
    """The Rates of a node without a price feed: every currency price is refused with the reason."""

    def __init__(self, why: str):
        self.why = why

    def rate(self, currency: str) -> Fraction:
        raise PriceError(f"a price in {currency} needs an ETH/{currency} price feed: {self.why}")

    def to_json(self) -> dict:
        return {"configured": False, "reason": self.why}


class PriceFeedWatcher(Background):
    thread_name = "lpc-price-feed"
    join_s = 10

    def __init__(self, feed: PriceFeed, *, poll_s: float = DEFAULT_POLL_S,
                 stale_after_s: float = DEFAULT_STALE_AFTER_S, alerts: Alerts | None = None,
                 required: Callable[[], set[str]] = set, clock: Callable[[], float] = time.time):
        super().__init__()
        self.feed = feed
        self.poll_s = poll_s
        self.stale_after_s = stale_after_s
        self.alerts = alerts
        self._required = required
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: FeedRound | None = None
        self._read_at: float | None = None
        self.last_error: str | None = None
        self._alerted_outage = False
        self._alerted_stale_round: int | None = None

    # ---------------------------------------------------------------- reading
    @property
    def latest(self) -> FeedRound | None:
        return self._latest

    def refresh(self) -> FeedRound:
        """Read the feed once; raises (and keeps the last good answer) when it cannot."""
        try:
            answer = self.feed.latest()
            if answer.base.upper() != "ETH":
                raise PriceError(f"the feed at {self.feed.address} prices {answer.description!r}, not ETH: "
                                 "point node.price_feed at an ETH/<currency> feed")
            if answer.price <= 0:
                raise PriceError(f"the feed at {self.feed.address} answers {answer.price}, not a price")
        except Exception as exc:
            self._failed(exc)
            raise
        with self._lock:
            before, self._latest, self._read_at = self._latest, answer, self._clock()
        if self.last_error is not None and self._alerted_outage:
            log.warning("the ETH price feed answers again: ETH/%s %s", answer.quote, decimal_text(answer.price))
        self.last_error, self._alerted_outage = None, False
        if before is not None and before.price != answer.price:
            log.info("ETH/%s %s → %s: prices in %s follow", answer.quote, decimal_text(before.price),
                     decimal_text(answer.price), answer.quote)
        self._check_stale(answer)
        return answer

    def _failed(self, exc: Exception) -> None:
        self.last_error = str(exc) or type(exc).__name__
        last = self._latest
        kept = (f"prices in {last.quote} keep ETH/{last.quote} {decimal_text(last.price)} read "
                f"{age_text(self._clock() - (self._read_at or 0))} ago") if last else "no rate has been read yet"
        log.warning("price feed %s unreadable: %s (%s)", self.feed.address, self.last_error, kept)
        if self.alerts is not None and not self._alerted_outage and last is not None:
            self._alerted_outage = True
            self.alerts.raise_("pricing", f"the ETH price feed at {self.feed.address} cannot be read "
                                          f"({self.last_error}); {kept}", "warning")

    def _check_stale(self, answer: FeedRound) -> None:
        age = self._clock() - answer.updated_at
        if age <= self.stale_after_s or self._alerted_stale_round == answer.round_id:
            return
        self._alerted_stale_round = answer.round_id
        message = (f"the ETH/{answer.quote} feed at {self.feed.address} last updated {age_text(age)} ago "
                   f"(round {answer.round_id}); prices in {answer.quote} still use {decimal_text(answer.price)}")
        log.warning("%s", message)
        if self.alerts is not None:
            self.alerts.raise_("pricing", message, "warning")

    # ---------------------------------------------------------------- Rates
    def rate(self, currency: str) -> Fraction:
        answer = self._latest
        currency = currency.upper()
        if answer is None:
            why = f": {self.last_error}" if self.last_error else ""
            raise PriceError(f"the ETH price feed at {self.feed.address} has not answered yet{why}; "
                             f"a price in {currency} cannot be converted to wei")
        if answer.quote.upper() != currency:
            raise PriceError(f"the price feed at {self.feed.address} quotes ETH in {answer.quote}, not {currency}: "
                             f"give the price in {answer.quote} or in wei")
        return answer.price

    def require(self, currencies: set[str]) -> None:
        """Every currency in `currencies` converts now; PriceError naming the first that does not."""
        for currency in sorted(currencies):
            self.rate(currency)

    # ---------------------------------------------------------------- service
    def start(self) -> None:
        needed = self._required()
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - only fatal when a price depends on it
            if needed:
                raise PriceError(f"prices in {', '.join(sorted(needed))} need the ETH price feed at "
                                 f"{self.feed.address}, which cannot be read: {self.last_error or exc}") from None
        if needed:
            self.require(needed)
        super().start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - logged and alerted in _failed; keep the last answer
                pass

    def to_json(self) -> dict:
        answer, now = self._latest, self._clock()
        data = {"configured": True, "address": self.feed.address, "poll_s": self.poll_s,
                "last_error": self.last_error}
        if answer is not None:
            data |= {"description": answer.description, "quote": answer.quote, "price": decimal_text(answer.price),
                     "round_id": answer.round_id, "updated_at": answer.updated_at,
                     "age_s": round(now - answer.updated_at), "read_age_s": round(now - (self._read_at or now)),
                     "stale": now - answer.updated_at > self.stale_after_s}
        return data


def age_text(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h', '2.0 days'."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"
