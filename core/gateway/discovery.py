"""Other orchestrators' prices, asked the way a gateway asks: GetOrchestrator on their service URI (TLS,
trust on first use), signed with this node's key when it runs. An unreachable orchestrator is
"unknown" with the reason (a devnet's service URIs do not resolve) — never a guessed price.

Used by the Pricing screen (where this node's price sits among the others') and by the gateway's
broadcaster (core/gateway/broadcast.py), which shares `get_orchestrator` and `orch_uri` (go-livepeer's
`-orchAddr` parsing).
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


DEFAULT_ORCH_PORT = 8935


class Unreachable(Exception):
    """An orchestrator gave no OrchestratorInfo; the message says why in words (DNS, no TLS, refused …)."""


def orch_uri(addr: str) -> str:
    """An `-orchAddr` entry as go-livepeer reads it (parseOrchAddrs): `https://` prepended unless it starts
    with `http`, port 8935 when it names none. ValueError for an entry with no host."""
    addr = addr.strip()
    uri = addr if addr.startswith("http") else f"https://{addr}"
    parts = urlsplit(uri)
    if not parts.hostname:
        raise ValueError(f"orchestrator address {addr!r} has no host: give host[:port], e.g. 10.0.0.5:8935")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"orchestrator address {addr!r} has a bad port: give host[:port]") from None
    if port is None:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        uri = parts._replace(netloc=f"{host}:{DEFAULT_ORCH_PORT}").geturl()
    return uri.rstrip("/")


_pems: dict[tuple[str, int], bytes] = {}  # trust on first use: the certificate an orchestrator first showed


def _unary(uri: str, method: str, request, response_type, timeout: float):
    """One unary call of `net.Orchestrator` on `uri` over TLS (the certificate is not verified, as
    go-livepeer's gateway does not verify it: it is taken on first use and pinned for this process).
    Raises Unreachable with the reason in words."""
    import grpc

    parts = urlsplit(uri if "://" in uri else f"https://{uri}")
    try:
        host, port = parts.hostname, parts.port or DEFAULT_ORCH_PORT
    except ValueError:
        raise Unreachable(f"no usable service URI ({uri})") from None
    if not host:
        raise Unreachable(f"no usable service URI ({uri or 'none registered'})")
    key = (host, port)
    pem = _pems.get(key)
    if pem is None:
        try:
            socket.getaddrinfo(host, port)
        except UnicodeError:  # not a host name at all (a label over 63 characters, an empty one)
            raise Unreachable(f"no usable service URI ({uri})") from None
        except OSError:
            raise Unreachable("its host does not resolve (DNS)") from None
        try:
            pem = ssl.get_server_certificate((host, port), timeout=timeout).encode()
        except OSError as exc:
            raise Unreachable(f"no TLS answer ({type(exc).__name__})") from None
        _pems[key] = pem
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(pem),
                                  options=[("grpc.ssl_target_name_override", host)])
    try:
        call = channel.unary_unary(f"/net.Orchestrator/{method}", request_serializer=type(request).SerializeToString,
                                   response_deserializer=response_type.FromString)
        return call(request, timeout=timeout)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            _pems.pop(key, None)  # it may have restarted with another certificate
            raise Unreachable("no answer in time" if code is grpc.StatusCode.DEADLINE_EXCEEDED
                              else "not reachable (gRPC unavailable)") from None
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        raise Unreachable(f"refused: {(detail or 'no detail')[:60]}") from None
    finally:
        channel.close()


def get_orchestrator(uri: str, request, timeout: float = TIMEOUT_S):
    """`net.OrchestratorInfo` from GetOrchestrator on `uri`; Unreachable with the reason in words."""
    from core.proto import net

    return _unary(uri, "GetOrchestrator", request, net.OrchestratorInfo, timeout)


def end_session(uri: str, auth_token, timeout: float = TIMEOUT_S) -> None:
    """EndTranscodingSession: the orchestrator frees the stream's slot now instead of after its idle
    timeout (go-livepeer's gateway does this when a stream ends). Unreachable when it could not."""
    from core.proto import net

    req = net.EndTranscodingSessionRequest()
    req.auth_token.CopyFrom(auth_token)
    _unary(uri, "EndTranscodingSession", req, net.EndTranscodingSessionResponse, timeout)


def probe(uri: str, address: bytes | None, sign) -> tuple[Fraction | None, str]:
    """(wei per pixel, note) from one orchestrator's GetOrchestrator answer."""
    from core.payments.tickets import orchestrator_request_message
    from core.proto import net

    req = net.OrchestratorRequest(address=address or b"\0" * 20, ignoreCapacityCheck=True)
    if address and sign is not None:
        req.sig = sign(orchestrator_request_message(address))
    try:
        info = get_orchestrator(uri, req)
    except Unreachable as exc:
        note = str(exc)
        if note.startswith("refused") and sign is None:
            note += " (start the node: requests are signed with its key)"
        return None, note
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
