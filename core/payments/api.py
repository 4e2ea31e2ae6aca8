"""The payments part of the node's management API (JSON on the management port, e.g. 127.0.0.1:7935):

  GET  /pricing                       {"auto_adjust": bool, "prices": [{sender|null, price_per_unit, pixels_per_unit,
                                       currency, wei_per_pixel}], "feed": {address, quote, price, updated_at, age_s, …}}
  POST /pricing                       {"price_per_unit": "1200" | "0.5USD", "pixels_per_unit": "1",
                                       "currency": "USD" (optional, as go-livepeer's form), "sender": "0x…" (optional)}
                                      or {"auto_adjust": false}; applies at once, persisted; a currency price
                                      the feed cannot convert now is refused (400) and nothing changes
  DELETE /pricing?sender=0x…          drop a gateway's own price
  GET  /tickets[?status=pending]      the winning-ticket ledger, newest first, a summary, and per gateway the
                                      tickets received (count, EV wei, winners; kept across restarts)
  GET  /rewards                       the reward autopilot's per-round outcomes and its last error
  GET  /alerts                        recent alerts
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from core.payments.alerts import Alerts
from core.payments.ledger import TicketLedger
from core.payments.pricing import DEFAULT, PriceBook, PriceError, parse_pixels, parse_price


def _address(text: str) -> str:
    from core.payments.tickets import checksum

    t = text.strip()
    if not (t.startswith("0x") and len(t) == 42):
        raise PriceError(f"{text!r} is not a 0x address")
    try:
        return checksum(bytes.fromhex(t[2:]))
    except ValueError:
        raise PriceError(f"{text!r} is not a 0x address") from None


class PaymentsApi:
    def __init__(self, prices: PriceBook, ledger: TicketLedger | None = None, autopilot=None,
                 alerts: Alerts | None = None, redeemer=None, receipts=None):
        self.receipts = receipts
        self.prices = prices
        self.ledger = ledger
        self.autopilot = autopilot
        self.alerts = alerts
        self.redeemer = redeemer

    def __call__(self, method: str, path: str, body) -> tuple[int, object] | None:
        url = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            if url.path == "/pricing":
                return self._pricing(method, body, query)
            if url.path == "/tickets" and method == "GET" and self.ledger is not None:
                entries = self.ledger.entries(status=query.get("status"), limit=int(query.get("limit", 200)))
                received = {k: {"tickets": t.tickets, "ev_wei": str(t.ev_wei), "winners": t.winners}
                            for k, t in self.receipts.totals().items()} if self.receipts is not None else {}
                return 200, {"summary": self.ledger.summary().to_json(), "tickets": [e.to_json() for e in entries],
                             "received": received, "redeemer_error": getattr(self.redeemer, "last_error", None)}
            if url.path == "/rewards" and method == "GET" and self.autopilot is not None:
                return 200, {"transcoder": self.autopilot.transcoder, "last_error": self.autopilot.last_error,
                             "rounds": [r.to_json() for r in self.autopilot.history(int(query.get("limit", 50)))]}
            if url.path == "/alerts" and method == "GET" and self.alerts is not None:
                return 200, [a.to_json() for a in self.alerts.recent(int(query.get("limit", 50)))]
        except (PriceError, ValueError) as exc:
            return 400, {"error": str(exc)}
        return None

    def _pricing(self, method: str, body, query) -> tuple[int, object]:
        if method == "GET":
            return 200, self.prices.to_json()
        if method == "DELETE":
            self.prices.clear(_address(query.get("sender", "")))
            return 200, self.prices.to_json()
        if method != "POST" or not isinstance(body, dict):
            return 400, {"error": "POST a JSON object: {price_per_unit, pixels_per_unit, currency?, sender?} or "
                                  "{auto_adjust}"}
        # everything is checked (and the price, which can be refused, set) before auto-adjust changes:
        # a refused request changes nothing
        if "price_per_unit" in body:
            sender = _address(body["sender"]) if body.get("sender") else DEFAULT
            text = str(body["price_per_unit"]).strip()
            if body.get("currency"):
                if any(c.isalpha() for c in text.lower().replace("e", "")):
                    raise PriceError(f"give the currency once: {text!r} already names one")
                text += str(body["currency"]).strip()
            amount, pixels = parse_price(text), parse_pixels(body.get("pixels_per_unit", 1))
            self.prices.set(amount, pixels, sender)
        if "auto_adjust" in body:
            self.prices.set_auto_adjust(bool(body["auto_adjust"]))
        return 200, self.prices.to_json()
