"""gRPC `net.Orchestrator`: GetOrchestrator, Ping, EndTranscodingSession, and the OrchestratorInfo they share."""

from __future__ import annotations

import asyncio

from dataclasses import dataclass

from core.node import capabilities
from core.node.auth import AuthError, AuthTokens
from core.node.grpc_unary import UNKNOWN, RpcError, UnaryMethod
from core.node.payments import PaymentError, PaymentPolicy, SignatureError
from core.node.sessions import CapacityError, SessionManager, gateway_of
from core.proto import net


@dataclass(frozen=True)
class Offer:
    """What this orchestrator advertises."""

    service_uri: str  # https://service-addr
    price_per_unit: int
    pixels_per_unit: int
    version: str
    encoder: str  # shown to gateways in `hardware`


class OrchestratorInfoBuilder:
    def __init__(self, offer: Offer, tokens: AuthTokens, payments: PaymentPolicy):
        self.offer = offer
        self.tokens = tokens
        self.payments = payments

    def build(self, sender: bytes = b"", session_id: str | None = None, *, with_hardware: bool = True) -> net.OrchestratorInfo:
        token = self.tokens.issue(session_id)
        info = net.OrchestratorInfo(
            transcoder=self.offer.service_uri,
            # offchain: 20 zero bytes, as go-livepeer's offchain orchestrator sends. A default go-livepeer
            # gateway parses an empty -orchBlocklist to [""] and so skips any orchestrator whose address is
            # empty (gateway-wire.md §4)
            address=self.payments.address or bytes(20),
            capabilities=capabilities.to_wire(version=self.offer.version),
            auth_token=net.AuthToken(token=token.token, session_id=token.session_id, expiration=token.expiration),
        )
        params = self.payments.ticket_params(sender, b"")  # may raise PaymentError (no params for this sender)
        if params is not None:
            info.ticket_params.CopyFrom(params)
        price = self.payments.price_info(sender)
        if price is None and self.offer.price_per_unit > 0:
            price = (self.offer.price_per_unit, self.offer.pixels_per_unit)
        if price is not None:
            info.price_info.CopyFrom(net.PriceInfo(pricePerUnit=price[0], pixelsPerUnit=price[1]))
        if with_hardware:
            info.hardware.append(net.HardwareInformation(pipeline="transcoding", model_id=self.offer.encoder))
        return info


class OrchestratorService:
    def __init__(self, builder: OrchestratorInfoBuilder, sessions: SessionManager):
        self.builder = builder
        self.sessions = sessions

    async def get_orchestrator(self, req: net.OrchestratorRequest, scope) -> net.OrchestratorInfo:
        try:
            self.builder.payments.verify_orchestrator_request(req.address, req.sig)
        except SignatureError as exc:
            raise RpcError(UNKNOWN, str(exc) or "invalid signature") from None
        if not req.ignoreCapacityCheck:
            gateway = gateway_of(req.address, scope, signed=bool(self.builder.payments.address))
            try:  # a discovery probe: refused here, but not counted as a lock-out
                self.sessions.check_capacity(None, gateway, record=False)
            except CapacityError as exc:
                raise RpcError(UNKNOWN, str(exc)) from None
        # go-livepeer fills hardware only for capability-less (discovery) requests
        with_hw = not req.HasField("capabilities")
        try:
            # off the event loop: the first request of a gateway in a round reads its TicketBroker funds
            return await asyncio.to_thread(self.builder.build, req.address, with_hardware=with_hw)
        except PaymentError as exc:
            raise RpcError(UNKNOWN, str(exc)) from None

    async def ping(self, req: net.PingPong, scope) -> net.PingPong:
        return net.PingPong(value=self.builder.payments.sign(req.value))

    async def end_session(self, req: net.EndTranscodingSessionRequest, scope) -> net.EndTranscodingSessionResponse:
        t = req.auth_token
        try:
            sid = self.builder.tokens.verify(t.token, t.session_id, t.expiration)
        except AuthError as exc:
            raise RpcError(UNKNOWN, str(exc)) from None
        await self.sessions.end(sid)
        return net.EndTranscodingSessionResponse()

    def methods(self) -> dict[str, UnaryMethod]:
        return {
            "/net.Orchestrator/GetOrchestrator": UnaryMethod(net.OrchestratorRequest, self.get_orchestrator),
            "/net.Orchestrator/Ping": UnaryMethod(net.PingPong, self.ping),
            "/net.Orchestrator/EndTranscodingSession": UnaryMethod(
                net.EndTranscodingSessionRequest, self.end_session
            ),
        }
