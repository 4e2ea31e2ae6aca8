"""gRPC `net.Orchestrator`: GetOrchestrator, Ping, EndTranscodingSession, and the OrchestratorInfo they share."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from fractions import Fraction

from core.node import capabilities
from core.node.auth import AuthError, AuthTokens
from core.node.grpc_unary import UNKNOWN, RpcError, UnaryMethod
from core.node.payments import PaymentError, PaymentPolicy, SignatureError
from core.node.sessions import CapacityError, SessionManager, gateway_of
from core.payments.pricing import to_wire
from core.proto import net


@dataclass(frozen=True)
class Offer:
    """What this orchestrator advertises."""

    service_uri: str  # https://service-addr
    price_per_unit: int
    pixels_per_unit: int
    version: str
    encoder: str  # shown to gateways in `hardware`
    transcoding: bool = True  # False on an AI-only node: no transcoding bits are advertised
    offchain: bool = True  # offchain no AI prices are set at all (as go-livepeer)


def ai_price(spec, offer: Offer, wei_per=None) -> Fraction | None:
    """Wei per unit of an AI model (its price_per_unit / pixels_per_unit, the node's flags where the entry
    gives none), or None when it has no price: offchain (go-livepeer sets no AI prices there) or a zero
    price. A price in a currency (aiModels.json "currency": "USD") is converted with `wei_per(currency)`,
    the payment policy's price feed; PaymentError when it cannot be converted now (never served free)."""
    if offer.offchain:
        return None
    per_unit = spec.price_per_unit if spec.price_per_unit is not None else Fraction(offer.price_per_unit)
    pixels = spec.pixels_per_unit or offer.pixels_per_unit or 1
    price = Fraction(per_unit) / pixels
    if spec.currency and spec.currency.upper() != "WEI" and price > 0:
        if wei_per is None:
            raise PaymentError(f"{spec.pipeline.value} {spec.model_id} is priced in {spec.currency}, and this "
                               "node has no price feed to convert it")
        price *= wei_per(spec.currency.upper())
    return price if price > 0 else None


class OrchestratorInfoBuilder:
    def __init__(self, offer: Offer, tokens: AuthTokens, payments: PaymentPolicy, ai=None):
        self.offer = offer
        self.tokens = tokens
        self.payments = payments
        self.ai = ai  # AIWorkerPort | None: its models with weights are advertised

    def ai_models(self) -> tuple:
        return tuple(self.ai.advertised()) if self.ai is not None else ()

    def _priced_for(self, spec, sender: bytes):
        """The aiModels.json entry of `spec`'s model made for this gateway ("gateway": its address), else
        the model's default entry, as go-livepeer picks a per-gateway AI price."""
        if len(sender) != 20:
            return spec
        me = "0x" + bytes(sender).hex()
        for entry in getattr(self.ai, "specs", ()):
            if (entry.pipeline is spec.pipeline and entry.model_id == spec.model_id
                    and entry.gateway.lower() == me):
                return entry
        return spec

    def build(self, sender: bytes = b"", session_id: str | None = None, *, with_hardware: bool = True,
              requested: tuple[tuple[int, str], ...] = ()) -> net.OrchestratorInfo:
        """OrchestratorInfo for `sender`. `requested` = the (capability, model) pairs the gateway's request
        names: then price_info is the sum of those models' prices, as go-livepeer prices a request with
        capabilities; hardware and capabilities_prices only for a capability-less (discovery) request."""
        token = self.tokens.issue(session_id)
        ai = self.ai_models()
        info = net.OrchestratorInfo(
            transcoder=self.offer.service_uri,
            # offchain: 20 zero bytes, as go-livepeer's offchain orchestrator sends. A default go-livepeer
            # gateway parses an empty -orchBlocklist to [""] and so skips any orchestrator whose address is
            # empty (gateway-wire.md §4)
            address=self.payments.address or bytes(20),
            capabilities=capabilities.to_wire(capabilities.TRANSCODING if self.offer.transcoding else (),
                                              version=self.offer.version, ai=ai),
            auth_token=net.AuthToken(token=token.token, session_id=token.session_id, expiration=token.expiration),
        )
        asked = [(cap, model) for cap, model in requested if cap in capabilities.AI_CAPABILITIES]
        prices: dict[tuple[int, str], Fraction | None] = {}
        for spec, *_ in ai:
            key = (spec.pipeline.capability, spec.model_id)
            try:
                prices[key] = ai_price(self._priced_for(spec, sender), self.offer, self.payments.wei_per)
            except PaymentError:
                if key in asked:
                    raise  # the gateway asks this model: it gets the reason, not a free price
                prices[key] = None  # discovery: listed without a price until the feed answers
        total = sum((prices.get(key) or Fraction(0) for key in asked), Fraction(0))
        if asked and total > 0:
            # the ticket params commit to the AI price (it is bound into recipientRand on chain)
            params, offered = self.payments.ai_ticket_params(sender, total)  # may raise PaymentError
            price = to_wire(offered)
        else:
            params = self.payments.ticket_params(sender, b"")  # may raise PaymentError (no params for this sender)
            price = None
            if not asked:
                price = self.payments.price_info(sender)
                if price is None and self.offer.price_per_unit > 0:
                    price = (self.offer.price_per_unit, self.offer.pixels_per_unit)
        if params is not None:
            info.ticket_params.CopyFrom(params)
        if price is not None:
            info.price_info.CopyFrom(net.PriceInfo(pricePerUnit=price[0], pixelsPerUnit=price[1]))
        if with_hardware:
            if self.offer.transcoding:
                info.hardware.append(net.HardwareInformation(pipeline="transcoding", model_id=self.offer.encoder))
            for spec, *_ in ai:
                info.hardware.append(net.HardwareInformation(pipeline=spec.pipeline.value, model_id=spec.model_id))
            for (cap, model), p in prices.items():
                if p is not None:
                    unit, pixels = to_wire(p)
                    info.capabilities_prices.append(
                        net.PriceInfo(pricePerUnit=unit, pixelsPerUnit=pixels, capability=cap, constraint=model))
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
        requested = capabilities.requested_models(req.capabilities if req.HasField("capabilities") else None)
        ai_request = any(cap in capabilities.AI_CAPABILITIES for cap, _ in requested)
        # an AI request is not held to the transcoding sessions: its capacity is checked per model at the route
        if not req.ignoreCapacityCheck and self.builder.offer.transcoding and not ai_request:
            gateway = gateway_of(req.address, scope, signed=bool(self.builder.payments.address))
            try:  # a discovery probe: refused here, but not counted as a lock-out
                self.sessions.check_capacity(None, gateway, record=False)
            except CapacityError as exc:
                raise RpcError(UNKNOWN, str(exc)) from None
        # go-livepeer fills hardware (and capabilities_prices) only for capability-less (discovery) requests
        with_hw = not req.HasField("capabilities")
        try:
            # off the event loop: the first request of a gateway in a round reads its TicketBroker funds
            return await asyncio.to_thread(self.builder.build, req.address, with_hardware=with_hw,
                                           requested=requested)
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
