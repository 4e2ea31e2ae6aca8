"""Other orchestrators' prices, asked the way a gateway asks: GetOrchestrator on their service URI (TLS,
trust on first use), signed with this node's key when it runs. An unreachable orchestrator is
"unknown" with the reason (a devnet's service URIs do not resolve) — never a guessed price.

Used by the Pricing screen (where this node's price sits among the others').
"""

from __future__ import annotations

import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlsplit

TIMEOUT_S = 3.0


@dataclass(frozen=True)
class NetworkPrice:
    address: str
    service_uri: str
    price: Fraction | None  # wei per pixel, None when unknown
    note: str  # why unknown, or "this node"


def probe(uri: str, address: bytes | None, sign) -> tuple[Fraction | None, str]:
    """(wei per pixel, note) from one orchestrator's GetOrchestrator answer."""
    import grpc

    from core.payments.tickets import orchestrator_request_message
    from core.proto import net

    parts = urlsplit(uri if "://" in uri else f"https://{uri}")
    host, port = parts.hostname, parts.port or 8935
    if not host:
        return None, f"no usable service URI ({uri or 'none registered'})"
    try:
        socket.getaddrinfo(host, port)
    except UnicodeError:  # not a host name at all (a label over 63 characters, an empty one)
        return None, f"no usable service URI ({uri})"
    except OSError:
        return None, "its host does not resolve (DNS)"
    try:
        pem = ssl.get_server_certificate((host, port), timeout=TIMEOUT_S).encode()
    except OSError as exc:
        return None, f"no TLS answer ({type(exc).__name__})"
    req = net.OrchestratorRequest(address=address or b"\0" * 20, ignoreCapacityCheck=True)
    if address and sign is not None:
        req.sig = sign(orchestrator_request_message(address))
    channel = grpc.secure_channel(f"{host}:{port}", grpc.ssl_channel_credentials(pem),
                                  options=[("grpc.ssl_target_name_override", host)])
    try:
        call = channel.unary_unary("/net.Orchestrator/GetOrchestrator",
                                   request_serializer=net.OrchestratorRequest.SerializeToString,
                                   response_deserializer=net.OrchestratorInfo.FromString)
        info = call(req, timeout=TIMEOUT_S)
    except grpc.RpcError as exc:
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        hint = "" if sign is not None else " (start the node: requests are signed with its key)"
        return None, f"refused: {(detail or 'no detail')[:60]}{hint}"
    finally:
        channel.close()
    p = info.price_info
    if not p.pixelsPerUnit:
        return None, "answered without a price"
    return Fraction(p.pricePerUnit, p.pixelsPerUnit), "from its OrchestratorInfo"


def network_prices(pool, own: str | None, own_price: Fraction | None, address: bytes | None,
                   sign) -> list[NetworkPrice]:
    """Every active orchestrator's price (our own from the price book), probed in parallel."""
    others = [o for o in pool.orchestrators if o.active and o.address != own]
    with ThreadPoolExecutor(max_workers=8) as ex:
        answers = list(ex.map(lambda o: probe(o.service_uri, address, sign), others))
    out = [NetworkPrice(o.address, o.service_uri, p, note) for o, (p, note) in zip(others, answers)]
    if own and pool.get(own) is not None:
        note = "this node (advertised)" if own_price is not None else "this node (stopped: offers no price)"
        out.insert(0, NetworkPrice(own, pool.get(own).service_uri, own_price, note))
    return out
