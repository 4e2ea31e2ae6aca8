"""An on-chain gateway for the tests: signs its GetOrchestrator request and its segments, and pays with
tickets made by core.payments.sender (the code `lpc` gateways use)."""

from __future__ import annotations

import base64
from fractions import Fraction

from chain.devnet.accounts import dev_account
from core.payments.sender import PaymentSession, SenderFundsView, SenderLimits, TicketSender, fee_estimate
from core.payments.tickets import HashSigner, Ticket, rand_hash
from core.proto import net
from tests.node.gateway import Gateway, post_segment, seg_data
from tests.payments.conftest import FACE, GATEWAY, ORCH


class PayingGateway(Gateway):
    def __init__(self, host: str, port: int, account, limits: SenderLimits = SenderLimits(max_ticket_ev=10**30,
                                                                                           max_total_ev=10**30)):
        super().__init__(host, port)
        self.sender = TicketSender(HashSigner(bytes(account.key)), limits)

    def get_orchestrator(self, **kw) -> net.OrchestratorInfo:  # type: ignore[override]
        return self._unary("GetOrchestrator", self.sender.orchestrator_request(ignoreCapacityCheck=True),
                           net.OrchestratorInfo)

    def session(self) -> PaymentSession:
        return PaymentSession(self.get_orchestrator())

    def post(self, session: PaymentSession, data: bytes, profiles, *, payment: net.Payment | None = None,
             seq: int = 0, manifest: bytes = b"manifest", sign: bool = True, funds: SenderFundsView | None = None,
             l1_block: int = 0, current_round: int = 0):
        """POST one segment; pays per go-livepeer's rules unless `payment` is given. Returns the response."""
        seg = seg_data(session.info, data, profiles, seq=seq, manifest=manifest)
        if sign:
            self.sender.sign_segment(seg)
        if payment is None:
            funds = funds or SenderFundsView(10**30, 10**30, 0)
            payment = self.sender.pay_segment(session, profiles, 1.0, funds, l1_block, current_round)
        headers = {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(),
                   "Livepeer-Payment": base64.b64encode(payment.SerializeToString()).decode(),
                   "Content-Type": "video/MP2T"}
        return post_segment(session.info, data, headers)

    def transcode(self, session: PaymentSession, data: bytes, profiles, **kw) -> net.TranscodeResult:
        r = self.post(session, data, profiles, **kw)
        assert r.status_code == 200, r.text
        result = net.TranscodeResult.FromString(r.content)
        assert result.WhichOneof("result") == "data", result.error
        self.sender.settle(session, sum(s.pixels for s in result.data.segments))
        if result.info.HasField("ticket_params"):
            session.info = result.info
        return result


__all__ = ["PayingGateway", "Fraction", "fee_estimate"]


def gateway_for(node, account: int = GATEWAY) -> PayingGateway:
    """A paying gateway (dev account `account`, by default the seeded gateway) for a running node."""
    return PayingGateway("127.0.0.1", int(node.status().listening.rsplit(":", 1)[1]), dev_account(account))


def stored_winning_ticket(dev, ledger, nonce: int = 1):
    """A winning ticket from the seeded gateway to orchestrator #1, as the node would have stored it."""
    rm = dev.c("RoundsManager").functions
    rnd = rm.currentRound().call()
    gw = HashSigner(bytes(dev_account(GATEWAY).key))
    rand = 0xC0FFEE + nonce
    t = Ticket(bytes.fromhex(dev_account(ORCH).address[2:]), gw.address, FACE, 2**256 - 1, nonce, rand_hash(rand),
               rnd, bytes(rm.blockHashForRound(rnd).call()))
    sig = gw.sign_hash(t.hash())
    l1 = rm.blockNum().call()
    assert ledger.store(t, sig, rand, l1)
    return ledger.by_hash(t.hash())
