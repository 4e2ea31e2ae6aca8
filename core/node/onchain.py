"""The on-chain payment policy: what `PaymentPolicy` does when the node is paid in tickets.

- GetOrchestrator: the gateway's signature over its own address is checked; its ticket parameters
  (core.payments.params) and its price (core.payments.pricing, with the redemption overhead when
  auto-adjusting) go into OrchestratorInfo.
- /segment: the segment credentials are checked against the payment's sender; the tickets are validated
  (core.payments.validation), winning ones stored in the ledger before the gateway is answered, and
  their EV credited at the session's price; transcoded pixels are debited at that price.
- results and Ping are signed with the orchestrator's key.
Chain reads are cached (ChainState); `start()` runs the poller that refreshes them on every block.
"""

from __future__ import annotations

import logging
from fractions import Fraction

from core.node.payments import PaymentError, SignatureError
from core.payments.background import Background
from core.payments.balances import Balances
from core.payments.ledger import TicketLedger
from core.payments.params import Overhead, ParamsMaker, ParamsRefused, max_float
from core.payments.ports import TicketChain
from core.payments.pricing import PriceBook, to_wire
from core.payments.tickets import ZERO_ADDRESS, checksum, orchestrator_request_message, segment_message, verify_message
from core.payments.validation import ChainState, PaymentTickets, TicketRefused, TicketValidator
from core.proto import net

log = logging.getLogger(__name__)


class PaymentRefused(PaymentError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class _NoMetrics:
    def payment_refused(self, code: str) -> None: ...
    def ticket_value(self, sender: str, wei: float, winners: int) -> None: ...


class OnchainPayments(Background):
    thread_name = "lpc-chain-state"
    join_s = 10

    def __init__(self, chain: TicketChain, ledger: TicketLedger, prices: PriceBook, params: ParamsMaker, *,
                 state: ChainState | None = None, poll_s: float = 2.0):
        super().__init__()
        self.chain = chain
        self.ledger = ledger
        self.prices = prices
        self.params = params
        self.state = state or ChainState(chain)
        self.recipient = bytes.fromhex(chain.address[2:])
        self.validator = TicketValidator(self.recipient, params, self.state, ledger)
        self.balances = Balances()
        self.metrics = _NoMetrics()
        self.receipts = None  # core.payments.receipts.TicketReceipts: tickets per gateway and round, persisted
        self._offered: dict[bytes, Fraction] = {}
        self._poll_s = poll_s
        self.last_error: str | None = None

    # ---------------------------------------------------------------- lifecycle
    def bind_metrics(self, metrics) -> None:
        self.metrics = metrics

    def start(self) -> None:
        self.state.refresh()  # fail fast at start-up when the chain is unreachable
        super().start()

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                view = self.state.refresh()
                self.validator.purge(view.l1_block)
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 - RPC hiccup: keep the last view, try again
                self.last_error = str(exc)
                log.warning("chain state refresh failed: %s", exc)

    # ---------------------------------------------------------------- PaymentPolicy
    @property
    def address(self) -> bytes:
        return self.recipient

    def verify_orchestrator_request(self, address: bytes, sig: bytes) -> None:
        if len(address) != 20 or address == ZERO_ADDRESS:
            raise SignatureError("an on-chain orchestrator needs the gateway's ETH address in the request")
        if not verify_message(address, orchestrator_request_message(address), sig):
            raise SignatureError(f"invalid signature: the request is not signed by {checksum(address)}")

    def verify_segment(self, sender: bytes, seg_data, sig: bytes) -> None:
        if len(sender) != 20 or sender == ZERO_ADDRESS:
            raise SignatureError("Segment sig check failed: the payment names no sender")
        names = [p.name for p in (seg_data.fullProfiles3 or seg_data.fullProfiles2 or seg_data.fullProfiles)]
        if not verify_message(sender, segment_message(seg_data.manifestId, seg_data.seq, seg_data.hash, names), sig):
            raise SignatureError("Segment sig check failed")

    def max_float_of(self, sender: str) -> int:
        """What `sender` (checksummed) can be trusted for now: deposit + reserve share − our pending tickets."""
        funds = self.state.sender(sender)
        return max_float(funds.deposit, funds.claimable_reserve, self.ledger.pending_face_value(sender, self.chain.address))

    def overhead_for(self, sender: str | None = None) -> Overhead:
        """The redemption overhead a GetOrchestrator from `sender` would be priced with now (its funds cap the
        face value); None: a gateway with ample funds, what every well-funded gateway is offered."""
        gas_price = self.state.view().gas_price
        return self.params.overhead(gas_price) if sender is None else \
            self.params.overhead(gas_price, self.max_float_of(sender))

    def wei_per(self, currency: str) -> Fraction:
        """Wei per 1 `currency` from the node's price feed (the rate is currency units per ETH)."""
        from core.payments.pricing import PriceError

        rates = self.prices.rates
        if rates is None:
            raise PaymentError(f"a price in {currency} needs an ETH/{currency} price feed, and this node has none: "
                               "set node.price_feed (go-livepeer's -priceFeedAddr) or price the model in wei")
        try:
            rate = rates.rate(currency)
        except PriceError as exc:
            raise PaymentError(str(exc)) from None
        return Fraction(10**18) / rate

    def offered_price(self, sender: str, overhead: Overhead) -> Fraction:
        """`sender`'s base price, raised by the overhead when auto-adjusting (PriceBook.advertised)."""
        return self.prices.advertised(sender, overhead.overhead)

    def own_price(self) -> Fraction:
        """What a well-funded gateway is offered now (wei per pixel; PriceError without a currency rate)."""
        return self.offered_price("", self.overhead_for(None))

    def _quote(self, sender: bytes, view, base: Fraction | None = None) -> tuple[int, int, Fraction]:
        """(sender's max float, face value, price on the wire) for a gateway now; ParamsRefused when no
        ticket parameters can be issued to it. `base`: an AI request's price (the sum of its models' prices,
        wei per unit) instead of the transcoding price book's, raised by the same overhead when
        auto-adjusting, as go-livepeer prices a request with capabilities."""
        s_hex = checksum(sender)
        mf = self.max_float_of(s_hex)
        oh = self.params.overhead(view.gas_price, mf)
        if oh.face_value is None:
            raise ParamsRefused(oh.why)
        if base is not None:
            offered = base * (1 + oh.overhead) if self.prices.auto_adjust else base
            return mf, oh.face_value, Fraction(*to_wire(offered))
        return mf, oh.face_value, Fraction(*to_wire(self.offered_price(s_hex, oh)))

    def price_now(self, sender: bytes) -> Fraction:
        """What this gateway would be offered by a GetOrchestrator now (its funds set the face value and so
        the overhead); the base price when it cannot be issued ticket parameters."""
        try:
            return self._quote(bytes(sender), self.state.view())[2]
        except ParamsRefused:
            return self.prices.base(checksum(bytes(sender)))

    def price_info(self, sender: bytes) -> tuple[int, int] | None:
        sender = bytes(sender)
        price = self._offered.get(sender) or self.prices.advertised(checksum(sender) if len(sender) == 20 else "",
                                                                   self.params.unissued_overhead)
        return to_wire(price) if price > 0 else None

    def ticket_params(self, sender: bytes, manifest_id: bytes):
        got = self._issue(bytes(sender), None)
        return got[0] if got is not None else None

    def ai_ticket_params(self, sender: bytes, base: Fraction):
        """(TicketParams committed to an AI request's price, that price as on the wire) for `sender`;
        `base` is the sum of the requested models' prices (wei per unit), raised by the redemption overhead
        when auto-adjusting. (None, base) for a request without a sender address."""
        got = self._issue(bytes(sender), base)
        return got if got is not None else (None, base)

    def _issue(self, sender: bytes, base: Fraction | None):
        if len(sender) != 20 or sender == ZERO_ADDRESS:
            return None
        view = self.state.view()
        try:
            mf, fv, price_f = self._quote(sender, view, base)
        except ParamsRefused as exc:
            self.metrics.payment_refused(ParamsRefused.code)
            raise PaymentRefused(ParamsRefused.code, str(exc)) from None
        if base is None:
            self._offered[sender] = price_f
        issued = self.params.issue(sender, gas_price=view.gas_price, sender_max_float=mf, l1_block=view.l1_block,
                                   creation_round=view.last_initialized_round,
                                   creation_round_block_hash=view.round_block_hash, price=price_f)
        return net.TicketParams(
            recipient=self.recipient, face_value=_be(issued.face_value), win_prob=_be(issued.win_prob),
            recipient_rand_hash=issued.recipient_rand_hash, seed=issued.seed,
            expiration_block=_be(issued.expiration_block),
            expiration_params=net.TicketExpirationParams(creation_round=issued.creation_round,
                                                         creation_round_block_hash=issued.creation_round_block_hash),
        ), price_f

    def process_payment(self, payment, manifest_id: bytes) -> None:
        if not payment.ticket_sender_params:
            return None  # nothing to credit: the balance check decides (go-livepeer does the same)
        p = PaymentTickets.from_wire(payment)
        sender_hex = checksum(p.sender) if len(p.sender) == 20 else ""
        try:
            out = self.validator.validate(p, manifest_id=manifest_id.decode("utf-8", "replace"))
        except TicketRefused as r:
            self.metrics.payment_refused(r.code)
            raise PaymentRefused(r.code, r.message) from None
        if self.receipts is not None and out.accepted:
            self.receipts.record(sender_hex, self.state.view().round, out.accepted, out.credited, out.winners)
        if out.credited:
            price = self.balances.price(p.sender, bytes(manifest_id), p.price)
            self.balances.credit(p.sender, bytes(manifest_id), out.credited, price)
            self.metrics.ticket_value(sender_hex, float(out.credited), out.winners)
        for r in out.refusals:
            self.metrics.payment_refused(r.code)
        if out.refusals:
            first = out.refusals[0]
            extra = f" ({len(out.refusals)} of {len(p.tickets)} tickets refused)" if len(p.tickets) > 1 else ""
            raise PaymentRefused(first.code, first.message + extra)
        return None

    def has_sufficient_balance(self, sender: bytes, manifest_id: bytes) -> bool:
        return self.balances.balance(bytes(sender), bytes(manifest_id)) >= self.params.ticket_ev

    def debit(self, sender: bytes, manifest_id: bytes, pixels: int) -> None:
        self.balances.debit(bytes(sender), bytes(manifest_id), pixels)

    def sign(self, message: bytes) -> bytes:
        return self.chain.sign_message(message)


def _be(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")

