"""The gateway on chain: the small port it needs from the chain (GatewayChain; the web3 adapter is
chain/services/gateway_chain.py, wired by core.composition) and how a stream pays for segments and
chooses among the active pool (go-livepeer's `server/segment_rpc.go`, `selection_algorithm.go`).

Payment per segment (core/payments/sender.py holds the rules): GetOrchestrator signed with the gateway
key; tickets for the orchestrator's parameters so that the session's credit covers the fee estimate
(Σ w × h × ceil(fps) × ceil(duration) × 1.02 × price); after the result the credit is debited by
output pixels × price and the refreshed info (new ticket params, auth token) replaces the session's.
Ticket params that are about to expire (within one L1 block) are renewed by GetOrchestrator first.
Refusals that are the gateway's own (no deposit, an unlocking deposit) stop the segment without
suspending the orchestrator; those about the orchestrator's parameters (EV or face value too high)
suspend it.

Selection among the chain's (untrusted) orchestrators: probability = stakeW × stake share +
priceW × e^(−price ÷ expFactor) share + randW ÷ N (ProbabilitySelectionAlgorithm; defaults 0.7/0/0.3).
`-orchAddr` and webhook orchestrators are trusted and taken in latency order; as in go-livepeer, the
chain's pool is used only when neither is given.
"""

from __future__ import annotations

import base64
import math
import random
import threading
from fractions import Fraction
from typing import Protocol

from core.gateway.config import GatewayConfig
from core.gateway.ports import TranscodeError
from core.payments.sender import PaymentSession, SenderError, SenderFundsView, SenderLimits, TicketSender
from core.payments.tickets import from_be
from core.proto import net


class GatewayChain(Protocol):
    """What the gateway reads from and signs for the chain."""

    address: bytes  # the gateway's 20-byte ETH address (the TicketBroker sender)

    def sign_hash(self, hash32: bytes) -> bytes:
        """EIP-191 signature (65 bytes, v 27/28) over a 32-byte hash, by the gateway's key."""

    def sender_funds(self):
        """An object with `deposit`, `reserve`, `withdraw_round` (wei, wei, round; 0 = not unlocking)."""

    def clock(self) -> tuple[int, int]:
        """(current round, L1 block number)."""

    def active_pool(self) -> list:
        """The active orchestrators: objects with `address` (0x…), `service_uri`, `total_stake`."""

    def ai_service_uris(self, addresses) -> dict[str, str]:
        """address -> its URI in the AI ServiceRegistry ("" when it set none)."""


class _PortSigner:
    """core.payments' HashSigner shape over the port (the key stays behind the port)."""

    def __init__(self, chain: GatewayChain):
        self._chain = chain
        self.address = chain.address

    def sign_hash(self, hash32: bytes) -> bytes:
        return self._chain.sign_hash(hash32)

    def sign_message(self, message: bytes) -> bytes:
        from eth_hash.auto import keccak

        return self._chain.sign_hash(keccak(message))


_OWN_FAULTS = ("no deposit", "unlocking")


class OnchainPayer:
    def __init__(self, chain: GatewayChain, config: GatewayConfig, limits: SenderLimits = SenderLimits(),
                 rng: random.Random | None = None):
        self.chain = chain
        self.config = config
        self.sender = TicketSender(_PortSigner(chain), limits)
        self._rng = rng or random.Random()
        self._lock = threading.Lock()  # concurrent segments: one credit and one nonce sequence per session

    # GetOrchestrator and admission
    def request(self, caps: net.Capabilities) -> net.OrchestratorRequest:
        req = self.sender.orchestrator_request()
        req.capabilities.CopyFrom(caps)
        return req

    def admit(self, info: net.OrchestratorInfo) -> str:
        if not info.HasField("ticket_params") or not info.ticket_params.recipient:
            return "answered without ticket parameters (is it on this chain?)"
        p = info.price_info
        if not p.pixelsPerUnit or p.pricePerUnit < 0:
            return "answered without a usable price"
        return ""

    def session(self, info: net.OrchestratorInfo) -> PaymentSession:
        return PaymentSession(info)

    def candidates(self, *, ai_registry: bool = False) -> list:
        """The active pool at its ServiceRegistry URIs; with `ai_registry` (-aiServiceRegistry) at the URIs
        the orchestrators set in the AI ServiceRegistry, and one that set none there is left out."""
        from core.gateway.broadcast import Candidate
        from core.gateway.discovery import orch_uri

        pool = self.chain.active_pool()
        ai_uris = self.chain.ai_service_uris([o.address for o in pool]) if ai_registry else {}
        out = []
        for o in pool:
            uri = ai_uris.get(o.address, "") if ai_registry else o.service_uri
            if not uri:
                continue
            try:
                out.append(Candidate(orch_uri(uri), address=o.address, stake=int(o.total_stake)))
            except ValueError:
                continue
        return out

    # per segment
    def sign(self, seg: net.SegData) -> None:
        self.sender.sign_segment(seg)

    def needs_new_params(self, session) -> bool:
        tp = session.info.ticket_params
        _, l1 = self.chain.clock()
        return from_be(tp.expiration_block) <= l1 + 1

    def pay(self, session, profiles, duration_s: float) -> tuple[str, int, int]:
        funds = self.chain.sender_funds()
        view = SenderFundsView(int(funds.deposit), int(funds.reserve), int(funds.withdraw_round))
        rnd, l1 = self.chain.clock()
        ps: PaymentSession = session.payment
        with self._lock:
            before = ps.credit
            try:
                payment = self.sender.pay_segment(ps, profiles, duration_s, view, l1, rnd)
            except SenderError as exc:
                own = any(words in str(exc) for words in _OWN_FAULTS)
                raise TranscodeError("PaymentCreate", f"no payment: {exc}", retryable=not own) from None
            tickets = len(payment.ticket_sender_params)
            ev = math.floor(ps.credit - before) if tickets else 0
        return base64.b64encode(payment.SerializeToString()).decode(), tickets, ev

    def settle(self, session, pixels: int, info: net.OrchestratorInfo | None) -> None:
        with self._lock:
            self.sender.settle(session.payment, pixels)

    def pick(self, sessions: list):
        """Among the chain's orchestrators: stake/price/random weights; trusted ones in latency order."""
        if not all(s.stake > 0 for s in sessions) or len(sessions) == 1:
            return sessions[0]
        return weighted_choice(sessions, self.config, self._rng)


def _price(session) -> Fraction:
    p = session.info.price_info
    return Fraction(p.pricePerUnit, p.pixelsPerUnit) if p.pixelsPerUnit else Fraction(0)


def selection_weights(sessions: list, config: GatewayConfig) -> list[float]:
    """go-livepeer's ProbabilitySelectionAlgorithm: stakeW·stake share + priceW·e^(−price/expFactor)
    share + randW/N, for each session."""
    n = len(sessions)
    total_stake = sum(s.stake for s in sessions) or 1
    exp = [math.exp(-float(_price(s)) / (config.select_price_exp_factor or 1)) for s in sessions]
    total_exp = sum(exp) or 1
    return [config.select_stake_weight * s.stake / total_stake + config.select_price_weight * e / total_exp
            + config.select_rand_freq / n for s, e in zip(sessions, exp)]


def weighted_choice(sessions: list, config: GatewayConfig, rng: random.Random):
    weights = selection_weights(sessions, config)
    if sum(weights) <= 0:
        return sessions[0]
    return rng.choices(sessions, weights=weights, k=1)[0]
