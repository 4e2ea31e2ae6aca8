"""The on-chain gateway's TicketBroker endpoints on its management port (go-livepeer's server/webserver.go,
go-livepeer.md §2) and the poll that keeps its deposit metrics current.

    GET  /senderInfo             {"Deposit", "WithdrawRound", "Reserve": {"FundsRemaining",
                                 "ClaimedInCurrentRound"}} in wei, as go-livepeer's JSON (numbers)
    GET  /ethAddr                the gateway's 0x address (text)
    GET  /ticketBrokerParams     {"UnlockPeriod": rounds}
    POST /fundDepositAndReserve  form depositAmount, reserveAmount (wei, whole numbers; a missing one is 0)
    POST /unlock, /cancelUnlock, /withdraw

The rule, stricter than go-livepeer's (which signs at once): a write shows what it will do and cost before
anything is signed. Without `confirm=1` (form or query) a write answers 200 with the plan (what, amounts,
the state it changes, gas estimate and cost in wei and ETH; `"sent": false`) and sends nothing. With it,
the plan is built again on the chain as it is then and sent through the console's own path
(chain.services.deposit plans, chain.tx, the transaction journal); the answer carries the tx hash and the
outcome (`"sent": true, "ok"`; 500 with the chain's reason when it was refused). A plan that cannot be
made (nothing to fund, funds locked, not enough ETH for gas) is 400 in words; so are bad amounts. An
offchain gateway answers these paths 404 with "offchain: no TicketBroker deposit" (go-livepeer answers
500). No answer and no log line carries a key: the desk signs behind its port.

Also stricter: a write that carries an `Origin` header is refused (403) before anything is read. The API
has no auth, and a form POST is a "simple" cross-site request that a browser sends without asking, so in
go-livepeer any web page the operator opens can POST /withdraw or /unlock to 127.0.0.1:5935 (and a DNS
rebinding page even reads the answers). Browsers put Origin on every POST; curl, livepeer_cli and lpc do
not, so local tools are unaffected.

The metrics poll (DepositPoll): one thread reads the sender's funds every `poll_s` and sets
livepeer_gateway_deposit/reserve (and go-livepeer's old livepeer_broadcaster_deposit/reserve); the next
read is armed when the last one finished, so reads never overlap, and a failing read is logged once
until it recovers.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from decimal import Decimal
from typing import Protocol
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

WRITES = {"/fundDepositAndReserve": "fund", "/unlock": "unlock", "/cancelUnlock": "cancel_unlock",
          "/withdraw": "withdraw"}
READS = ("/senderInfo", "/ethAddr", "/ticketBrokerParams")
PATHS = frozenset(WRITES) | frozenset(READS)
OFFCHAIN = ("offchain: no TicketBroker deposit. This gateway runs offchain (-network offchain); the deposit, "
            "reserve and their endpoints exist on chain only (-network arbitrum-one-mainnet with -ethAcctAddr)")
MAX_WEI = 2**256 - 1
TEXT, JSON = b"text/plain; charset=utf-8", b"application/json"

Answer = tuple[int, bytes, bytes]


class FundsDesk(Protocol):
    """The gateway's own TicketBroker funds (chain.services.deposit.SenderDesk is the web3 side)."""

    address: str  # 0x checksum address of the sender

    def info(self):
        """An object with deposit, withdraw_round, reserve, reserve_claimed_this_round, unlock_period
        (wei, rounds)."""

    def plan(self, action: str, *, deposit: int = 0, reserve: int = 0):
        """The plan (to_json(), describe(), cost_wei, intents with gas) of "fund", "unlock",
        "cancel_unlock" or "withdraw"; nothing signed. A refusal is a ValueError in words."""

    def send(self, action: str, *, deposit: int = 0, reserve: int = 0):
        """(plan, results): the plan built again and sent; results have ok, tx_hash, error, fix, to_json()."""


class FundsMetrics(Protocol):
    def funds(self, sender: str, deposit: int, reserve: int) -> None: ...


def sender_info_json(info) -> dict:
    """go-livepeer's /senderInfo shape (pm.SenderInfo marshalled: big.Int as JSON numbers)."""
    return {"Deposit": int(info.deposit), "WithdrawRound": int(info.withdraw_round),
            "Reserve": {"FundsRemaining": int(info.reserve),
                        "ClaimedInCurrentRound": int(info.reserve_claimed_this_round)}}


def eth(wei: int) -> str:
    text = f"{Decimal(wei) / 10**18:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " ETH"


def parse_wei(form: dict[str, str], name: str) -> int:
    """A whole, non-negative amount of wei from the form (missing = 0); ValueError in words."""
    text = form.get(name, "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError(f"{name} must be a whole number of wei (1 ETH = 1000000000000000000 wei), "
                         f"not {text[:40]!r}")
    value = int(text)
    if value > MAX_WEI:
        raise ValueError(f"{name} is larger than a uint256")
    return value


def form_of(query: str, body: str) -> dict[str, str]:
    form = {k: v[-1] for k, v in parse_qs(query).items()}
    form.update({k: v[-1] for k, v in parse_qs(body).items()})
    return form


def from_a_web_page(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The Origin of a request a browser sent (every browser POST carries one), None from local tools."""
    for name, value in headers:
        if name.lower() == b"origin":
            return value.decode("latin-1")[:100]
    return None


_URL = re.compile(r"(\w+://\S+|url: \S+)")


def chain_words(exc: Exception) -> str:
    """An RPC failure in words without its URL (a provider's URL often carries its API key)."""
    text = _URL.sub("<rpc url>", str(exc)).strip() or type(exc).__name__
    return f"the chain's RPC endpoint did not answer: {text[:300]}"


def _json(payload) -> bytes:
    return json.dumps(payload).encode()


def _error(status: int, message: str) -> Answer:
    return status, (message + "\n").encode(), TEXT


class SenderApi:
    """The endpoints above over a FundsDesk, and the deposit poll feeding `metrics`."""

    def __init__(self, desk: FundsDesk, metrics: FundsMetrics | None = None, *, poll_s: float = 5.0):
        self.desk = desk
        self.metrics = metrics
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: str | None = None

    # ---------------------------------------------------------------- reads (blocking: call off the loop)
    def read(self, path: str) -> Answer:
        if path == "/ethAddr":
            return 200, self.desk.address.encode(), TEXT
        try:
            info = self.desk.info()
        except Exception as exc:  # noqa: BLE001 - the chain's words, never a traceback
            return _error(502, chain_words(exc))
        self._record(info)
        if path == "/ticketBrokerParams":
            return 200, _json({"UnlockPeriod": int(info.unlock_period)}), JSON
        return 200, _json(sender_info_json(info)), JSON

    # ---------------------------------------------------------------- writes
    def write(self, path: str, form: dict[str, str]) -> Answer:
        action = WRITES[path]
        name = path.lstrip("/")
        amounts = {}
        if action == "fund":
            try:
                amounts = {"deposit": parse_wei(form, "depositAmount"), "reserve": parse_wei(form, "reserveAmount")}
            except ValueError as exc:
                return _error(400, str(exc))
            if not any(amounts.values()):
                return _error(400, "give depositAmount and/or reserveAmount in wei, above zero")
        confirm = form.get("confirm", "").strip().lower()
        if confirm not in ("", "1", "true"):
            return _error(400, f"confirm must be 1 to sign and send, or absent to see the plan; not {confirm[:20]!r}")
        try:
            if not confirm:
                plan = self.desk.plan(action, **amounts)
                return 200, _json(self._preview(name, plan)), JSON
            plan, results = self.desk.send(action, **amounts)
        except ValueError as exc:
            return _error(400, f"{name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - an RPC failure, in words
            return _error(502, f"{name}: {chain_words(exc)}")
        ok = bool(results) and all(r.ok for r in results)
        last = results[-1] if results else None
        answer = {"sent": True, "ok": ok, "action": name, "tx_hash": last.tx_hash if last else None,
                  "message": f"{name} success" if ok else f"{name} failed: {last.error if last else 'not sent'}"
                             + (f" — {last.fix}" if last is not None and last.fix else ""),
                  "results": [r.to_json() for r in results]}
        if ok:
            self.refresh()
        return (200 if ok else 500), _json(answer), JSON

    @staticmethod
    def _preview(name: str, plan) -> dict:
        gas = sum(int(i.estimate or i.gas) for i in plan.intents)
        value = sum(int(i.value) for i in plan.intents)
        return {"sent": False, "action": name, "summary": plan.describe(), "gas": gas,
                "cost_wei": str(plan.cost_wei), "cost_eth": eth(plan.cost_wei),
                "value_wei": str(value), "value_eth": eth(value), "plan": plan.to_json(),
                "confirm": "nothing was signed or sent: repeat this request with confirm=1 to sign and send it"}

    # ---------------------------------------------------------------- the deposit poll
    def refresh(self):
        """Read the funds once and set the metrics; None (logged once) when the chain does not answer."""
        try:
            info = self.desk.info()
        except Exception as exc:  # noqa: BLE001
            words = chain_words(exc)
            if words != self._failing:
                log.warning("reading the gateway's TicketBroker deposit failed: %s", words)  # no URL, no key
            self._failing = words
            return None
        if self._failing is not None:
            log.info("reading the gateway's TicketBroker deposit works again")
            self._failing = None
        self._record(info)
        return info

    def _record(self, info) -> None:
        if self.metrics is not None:
            self.metrics.funds(self.desk.address, int(info.deposit), int(info.reserve))

    def start_poll(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="lpc-gateway-deposit", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.poll_s)  # armed after the read finished: reads never overlap

    def stop_poll(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
