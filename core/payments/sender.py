"""The gateway (sender) side: tickets for an orchestrator's parameters, paid per segment as go-livepeer's
broadcaster does, with the nonce state per set of parameters.

Per segment: fee estimate = Σ profiles (width × height × ceil(fps) × ceil(duration)) × 1.02 × price
(fps 60 for a passthrough profile); tickets = ceil((max(fee, EV) − credit) ÷ EV), none when the credit
already covers it; the credit is debited by output pixels × price when the result comes back. Before
paying, the parameters are checked as go-livepeer's sender checks them: not within one block of
expiry; a non-zero win probability; EV ≤ `max_ticket_ev`; the batch ≤ `max_total_ev`; face value ≤
deposit ÷ `deposit_multiplier`; a deposit, and not unlocking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from core.payments.tickets import MAX_UINT256, HashSigner, Ticket, from_be, orchestrator_request_message, segment_message
from core.proto import net

FEE_MARGIN = Fraction(102, 100)
DEFAULT_MAX_TICKET_EV = 3 * 10**12
DEFAULT_MAX_TOTAL_EV = 2 * 10**13


class SenderError(Exception):
    """This gateway will not pay with these parameters; the message says which limit."""


@dataclass(frozen=True)
class SenderLimits:
    max_ticket_ev: int = DEFAULT_MAX_TICKET_EV
    max_total_ev: int = DEFAULT_MAX_TOTAL_EV
    deposit_multiplier: int = 1


@dataclass(frozen=True)
class SenderFundsView:
    deposit: int
    reserve: int
    withdraw_round: int


def fee_estimate(profiles, duration_s: float, price: Fraction) -> Fraction:
    pixels = 0
    for p in profiles:
        fps = p.fps if getattr(p, "fps", 0) else 60
        den = getattr(p, "fps_den", 1) or 1
        pixels += p.width * p.height * math.ceil(fps / den) * math.ceil(duration_s)
    return pixels * FEE_MARGIN * price


@dataclass
class PaymentSession:
    """One orchestrator session: its credit as this gateway sees it, and the nonce per parameters."""

    info: net.OrchestratorInfo
    credit: Fraction = Fraction(0)
    nonces: dict[bytes, int] = field(default_factory=dict)

    @property
    def price(self) -> Fraction:
        pi = self.info.price_info
        return Fraction(pi.pricePerUnit, pi.pixelsPerUnit) if pi.pixelsPerUnit else Fraction(0)


class TicketSender:
    def __init__(self, signer: HashSigner, limits: SenderLimits = SenderLimits()):
        self.signer = signer
        self.limits = limits

    @property
    def address(self) -> bytes:
        return self.signer.address

    # ---------------------------------------------------------------- credentials
    def orchestrator_request(self, **kw) -> net.OrchestratorRequest:
        return net.OrchestratorRequest(address=self.address, sig=self.signer.sign_message(
            orchestrator_request_message(self.address)), **kw)

    def sign_segment(self, seg: net.SegData) -> net.SegData:
        names = [p.name for p in (seg.fullProfiles3 or seg.fullProfiles2 or seg.fullProfiles)]
        seg.sig = self.signer.sign_message(segment_message(seg.manifestId, seg.seq, seg.hash, names))
        return seg

    # ---------------------------------------------------------------- tickets
    def check_params(self, tp: net.TicketParams, funds: SenderFundsView, l1_block: int, current_round: int) -> Fraction:
        fv, wp = from_be(tp.face_value), from_be(tp.win_prob)
        ev = Fraction(fv * wp, MAX_UINT256)
        exp = from_be(tp.expiration_block)
        if exp <= l1_block + 1:
            raise SenderError(f"ticket params expire at block {exp}, too close to the current block {l1_block}")
        if wp == 0 or fv < ev:
            raise SenderError(f"unusable ticket params: face value {fv} wei, win probability {wp / MAX_UINT256:g}")
        if ev > self.limits.max_ticket_ev:
            raise SenderError(f"ticket EV {float(ev):g} wei is above max-ticket-ev {self.limits.max_ticket_ev} wei")
        if funds.deposit <= 0:
            raise SenderError("no deposit on the TicketBroker: fund it with `lpc deposit fund`")
        if funds.withdraw_round and funds.withdraw_round <= current_round + 1:
            raise SenderError("the deposit is unlocking: cancel the unlock to keep paying")
        if fv > funds.deposit // self.limits.deposit_multiplier:
            raise SenderError(f"face value {fv} wei is above the deposit {funds.deposit} wei ÷ deposit multiplier "
                              f"{self.limits.deposit_multiplier}")
        return ev

    def tickets_for(self, session: PaymentSession, fee: Fraction, ev: Fraction) -> int:
        """Tickets so that the credit covers max(fee, one EV): the orchestrator checks for a balance of one
        EV before it debits the segment. None when the credit already covers it."""
        need = max(fee, ev) - session.credit
        if need <= 0:
            return 0
        n = math.ceil(need / ev)
        if n * ev > self.limits.max_total_ev:
            raise SenderError(f"{n} tickets of EV {float(ev):g} wei exceed max-total-ev {self.limits.max_total_ev} wei")
        return n

    def payment(self, session: PaymentSession, count: int, *, nonce_start: int | None = None) -> net.Payment:
        """A Payment with `count` tickets for the session's current parameters (nonces continue)."""
        info = session.info
        tp = info.ticket_params
        exp = tp.expiration_params
        ticket = Ticket(bytes(tp.recipient), self.address, from_be(tp.face_value), from_be(tp.win_prob), 0,
                        bytes(tp.recipient_rand_hash), exp.creation_round,
                        bytes(exp.creation_round_block_hash).rjust(32, b"\0"))
        key = bytes(tp.recipient_rand_hash)
        nonce = session.nonces.get(key, 0) if nonce_start is None else nonce_start - 1
        payment = net.Payment(sender=self.address, expected_price=info.price_info)
        payment.ticket_params.CopyFrom(tp)
        payment.expiration_params.CopyFrom(exp)
        for _ in range(count):
            nonce += 1
            t = Ticket(ticket.recipient, ticket.sender, ticket.face_value, ticket.win_prob, nonce,
                       ticket.recipient_rand_hash, ticket.creation_round, ticket.creation_round_block_hash)
            payment.ticket_sender_params.append(net.TicketSenderParams(sender_nonce=nonce,
                                                                       sig=self.signer.sign_hash(t.hash())))
        session.nonces[key] = max(session.nonces.get(key, 0), nonce)
        session.credit += count * ticket.ev
        return payment

    def pay_segment(self, session: PaymentSession, profiles, duration_s: float, funds: SenderFundsView,
                    l1_block: int, current_round: int) -> net.Payment:
        ev = self.check_params(session.info.ticket_params, funds, l1_block, current_round)
        fee = fee_estimate(profiles, duration_s, session.price)
        return self.payment(session, self.tickets_for(session, fee, ev))

    @staticmethod
    def settle(session: PaymentSession, pixels: int) -> None:
        """After the result: the orchestrator debited output pixels × price."""
        session.credit -= pixels * session.price
