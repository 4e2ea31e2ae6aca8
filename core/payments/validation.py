"""Validating the tickets of a `Livepeer-Payment` as go-livepeer's recipient does, and crediting them.

Checks, in go-livepeer's order, each refusal with its own code (counted in metrics) and a message
with the numbers involved:
  no_params            the payment carries tickets but no ticket parameters
  inactive             this orchestrator is not in the active set this round
  sender_unlocked      the sender's withdraw round is at most the current round + 1
  unfunded             the sender has neither deposit nor reserve
  wrong_recipient      the ticket is made out to another orchestrator
  no_sender            the sender is the zero address
  bad_recipient_rand   the parameters were not issued by this node (or were altered)
  bad_signature        the ticket is not signed by the sender
  nonce_replayed       this nonce was already used with these parameters (or the ticket is stored)
  too_many_nonces      more than 600 tickets with one set of parameters
  params_expired       the parameters expired (go-livepeer: "TicketParams expired")
A winning ticket is written to the ledger before this returns, i.e. before the gateway is answered.

The price a gateway expects is bound into recipientRand, so it can only be a price this node quoted
(anything else fails as bad_recipient_rand); that quote is honoured until its parameters expire, so a
price change — a USD price following ETH, a price raised at runtime — never refuses a gateway
mid-session: its next OrchestratorInfo (every segment reply carries one) has the new price.

Chain state comes from a `ChainState` cache: the protocol view is refreshed in the background and
a sender's funds once per round (and at most every `sender_ttl_s`), never per ticket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction

from core.payments.ledger import TicketLedger
from core.payments.params import ParamsMaker
from core.payments.ports import ChainView, SenderFunds, TicketChain
from core.payments.tickets import (
    MAX_UINT256,
    ZERO_ADDRESS,
    Ticket,
    checksum,
    from_be,
    rand_hash,
    recover,
    u256,
    wins,
)

MAX_NONCES = 600


class TicketRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ChainState:
    """Cached chain reads for the hot path: the view (refresh() from a poller) and senders per round."""

    def __init__(self, chain: TicketChain, *, view_ttl_s: float = 5.0, sender_ttl_s: float = 60.0, clock=time.monotonic):
        self.chain = chain
        self._view: ChainView | None = None
        self._view_at = 0.0
        self._senders: dict[str, tuple[int, float, SenderFunds]] = {}
        self._view_ttl = view_ttl_s
        self._sender_ttl = sender_ttl_s
        self._clock = clock
        self._lock = threading.Lock()

    def refresh(self) -> ChainView:
        view = self.chain.view()
        with self._lock:
            if self._view is not None and view.round != self._view.round:
                self._senders.clear()
            self._view, self._view_at = view, self._clock()
        return view

    def view(self) -> ChainView:
        if self._view is None or self._clock() - self._view_at > self._view_ttl:
            return self.refresh()
        return self._view

    def sender(self, sender: str) -> SenderFunds:
        rnd = self.view().round
        hit = self._senders.get(sender)
        if hit is not None and hit[0] == rnd and self._clock() - hit[1] <= self._sender_ttl:
            return hit[2]
        funds = self.chain.sender_funds(sender)
        with self._lock:
            self._senders[sender] = (rnd, self._clock(), funds)
        return funds

    def forget_sender(self, sender: str) -> None:
        with self._lock:
            self._senders.pop(sender, None)


@dataclass
class Outcome:
    sender: str
    credited: Fraction = Fraction(0)
    accepted: int = 0
    winners: int = 0
    refusals: list[TicketRefused] = field(default_factory=list)


@dataclass(frozen=True)
class PaymentTickets:
    """The fields of a `net.Payment` the validator reads, decoded once (protobuf stays out of the hot loop)."""

    sender: bytes
    recipient: bytes
    face_value: int
    win_prob: int
    recipient_rand_hash: bytes
    seed: bytes
    expiration_block: int
    creation_round: int
    creation_round_block_hash: bytes
    price: Fraction
    tickets: tuple[tuple[int, bytes], ...]  # (senderNonce, sig)

    @classmethod
    def from_wire(cls, payment) -> "PaymentTickets":
        tp = payment.ticket_params
        exp = payment.expiration_params if payment.HasField("expiration_params") else tp.expiration_params
        price = payment.expected_price
        return cls(
            sender=bytes(payment.sender), recipient=bytes(tp.recipient), face_value=from_be(tp.face_value),
            win_prob=from_be(tp.win_prob), recipient_rand_hash=bytes(tp.recipient_rand_hash), seed=bytes(tp.seed),
            expiration_block=from_be(tp.expiration_block), creation_round=exp.creation_round,
            creation_round_block_hash=bytes(exp.creation_round_block_hash).rjust(32, b"\0"),
            price=Fraction(price.pricePerUnit, price.pixelsPerUnit) if price.pixelsPerUnit > 0 else Fraction(0),
            tickets=tuple((t.sender_nonce, bytes(t.sig)) for t in payment.ticket_sender_params),
        )


class TicketValidator:
    def __init__(self, recipient: bytes, params: ParamsMaker, state: ChainState, ledger: TicketLedger | None):
        self.recipient = recipient
        self.params = params
        self.state = state
        self.ledger = ledger
        self._nonces: dict[bytes, tuple[int, set[int]]] = {}  # recipientRandHash -> (expiration block, nonces)
        self._lock = threading.Lock()

    def purge(self, l1_block: int) -> None:
        """Forget nonces of parameters that expired (their tickets are refused as expired anyway)."""
        with self._lock:
            for k in [k for k, (exp, _) in self._nonces.items() if exp < l1_block]:
                del self._nonces[k]

    def validate(self, p: PaymentTickets, *, manifest_id: str = "") -> Outcome:
        sender_hex = checksum(p.sender) if len(p.sender) == 20 else "0x" + p.sender.hex()
        out = Outcome(sender_hex)
        if not p.tickets:
            return out
        view = self.state.view()
        if not p.recipient and not p.face_value:
            raise TicketRefused("no_params", "the payment carries tickets but no ticket parameters")
        if not view.active:
            raise TicketRefused("inactive", f"orchestrator {checksum(self.recipient)} is inactive in round "
                                            f"{view.round}, cannot process payments")
        if p.sender == ZERO_ADDRESS or len(p.sender) != 20:
            raise TicketRefused("no_sender", "invalid ticket sender: the zero address")
        funds = self.state.sender(sender_hex)
        if funds.withdraw_round and funds.withdraw_round <= view.round + 1:
            raise TicketRefused("sender_unlocked", f"sender {sender_hex} is unlocked: its withdraw round "
                                                   f"{funds.withdraw_round} is not after round {view.round + 1}")
        if funds.deposit == 0 and funds.reserve == 0:
            raise TicketRefused("unfunded", f"sender {sender_hex} has no deposit and no reserve on the TicketBroker")
        if p.recipient != self.recipient:
            raise TicketRefused("wrong_recipient", f"invalid ticket recipient 0x{p.recipient.hex()}: this "
                                                   f"orchestrator is {checksum(self.recipient)}")
        aux = u256(p.creation_round) + p.creation_round_block_hash
        rand = self.params.recipient_rand(p.seed, p.sender, p.face_value, p.win_prob, p.expiration_block, p.price, aux)
        if rand_hash(rand) != p.recipient_rand_hash:
            raise TicketRefused("bad_recipient_rand", "invalid recipientRand for recipientRandHash: these ticket "
                                                      "parameters were not issued by this orchestrator or were altered")
        expired = p.expiration_block <= view.l1_block
        ev = Fraction(p.face_value * p.win_prob, MAX_UINT256)
        base = Ticket(p.recipient, p.sender, p.face_value, p.win_prob, 0, p.recipient_rand_hash, p.creation_round,
                      p.creation_round_block_hash)
        head = p.recipient + p.sender + u256(p.face_value) + u256(p.win_prob)
        tail = p.recipient_rand_hash + aux
        from eth_hash.auto import keccak

        for nonce, sig in p.tickets:
            h = keccak(head + u256(nonce) + tail)
            if recover(h, sig) != p.sender:
                out.refusals.append(TicketRefused("bad_signature", f"invalid ticket signature: nonce {nonce} is not "
                                                                   f"signed by sender {sender_hex}"))
                continue
            refusal = self._use_nonce(p.recipient_rand_hash, p.expiration_block, nonce)
            if refusal is not None:
                out.refusals.append(refusal)
                continue
            if wins(sig, rand, p.win_prob):
                ticket = Ticket(base.recipient, base.sender, base.face_value, base.win_prob, nonce,
                                base.recipient_rand_hash, base.creation_round, base.creation_round_block_hash)
                if self.ledger is not None and not self.ledger.store(ticket, sig, rand, p.expiration_block, manifest_id):
                    out.refusals.append(TicketRefused("nonce_replayed", f"invalid ticket senderNonce {nonce}: "
                                                                        "this winning ticket was already received"))
                    continue
                out.winners += 1
            if expired:
                out.refusals.append(TicketRefused("params_expired", f"TicketParams expired: expiration block "
                                                                    f"{p.expiration_block}, current block {view.l1_block}"))
                continue
            out.accepted += 1
            out.credited += ev
        return out

    def _use_nonce(self, rrh: bytes, expiration_block: int, nonce: int) -> TicketRefused | None:
        with self._lock:
            entry = self._nonces.get(rrh)
            if entry is None:
                entry = self._nonces[rrh] = (expiration_block, set())
            seen = entry[1]
            if nonce in seen:
                return TicketRefused("nonce_replayed", f"invalid ticket senderNonce {nonce}: already used with "
                                                       "these ticket parameters")
            if len(seen) >= MAX_NONCES:
                return TicketRefused("too_many_nonces", f"invalid ticket senderNonce {nonce}: too many values "
                                                        f"({MAX_NONCES}) for one set of ticket parameters")
            seen.add(nonce)
        return None
