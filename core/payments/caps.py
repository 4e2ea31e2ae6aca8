"""Known gateways' max prices (settings `node.gateway_max_prices`, wei per pixel): a gateway sends no work to
an orchestrator priced above its max, and go-livepeer never tells the orchestrator (pain point: a gas
spike, or ETH falling under a USD price, silently prices a node out — go-livepeer #1966). This watch
compares the price offered to each such gateway with its max every `poll_s` and raises one alert when the
price crosses above it, and logs when it is back under."""

from __future__ import annotations

import logging
from fractions import Fraction

from core.payments.alerts import Alerts
from core.payments.background import Background
from core.payments.tickets import checksum

log = logging.getLogger(__name__)


class PriceCapWatch(Background):
    thread_name = "lpc-price-caps"
    join_s = 10

    def __init__(self, payments, caps: dict[str, Fraction], alerts: Alerts | None, *, poll_s: float = 15.0):
        super().__init__()
        self.payments = payments  # OnchainPayments: price_now(sender) is what that gateway would be offered
        self.caps = {checksum(bytes.fromhex(k[2:])): v for k, v in caps.items()}
        self.alerts = alerts
        self.poll_s = poll_s
        self.above: set[str] = set()

    def check(self) -> list[str]:
        """Compare once; the messages of new crossings (each also an alert)."""
        out = []
        for sender, cap in self.caps.items():
            price = self.payments.price_now(bytes.fromhex(sender[2:]))
            if price > cap and sender not in self.above:
                self.above.add(sender)
                message = (f"the price offered to gateway {sender} is {float(price):,.0f} wei/pixel, above its max "
                           f"{float(cap):,.0f}: it sends this node no work until the price is lowered "
                           f"(Pricing screen, `lpc pricing set`) or gas/ETH move back")
                out.append(message)
                if self.alerts is not None:
                    self.alerts.raise_("pricing", message, "warning")
                else:
                    log.warning("%s", message)
            elif price <= cap and sender in self.above:
                self.above.discard(sender)
                log.warning("the price offered to gateway %s (%s wei/pixel) is under its max %s again", sender,
                            f"{float(price):,.0f}", f"{float(cap):,.0f}")
        return out

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - prices come from the chain view and feed: try again
                log.info("price cap check failed: %s", exc)
            if self._stop.wait(self.poll_s):
                return
