"""Unary gRPC served from the same ASGI app as HTTP, so one TLS port routes per request.

go-livepeer tells gRPC from HTTP per request (`content-type: application/grpc`), not per connection:
its gateways also post /segment over HTTP/2. A unary call is an HTTP/2 POST to /<service>/<method>
whose body is one length-prefixed message (1 byte compressed flag, 4 bytes big-endian length); the
reply is the same framing followed by trailers with grpc-status and grpc-message.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from core.node.asgi_io import BodyTooLarge, ClientGone, drain, read_body

log = logging.getLogger(__name__)

# grpc status codes used here
OK, UNKNOWN, INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNIMPLEMENTED, INTERNAL = (
    0, 2, 3, 5, 7, 8, 12, 13,
)
MAX_MESSAGE = 4 * 1024 * 1024


class RpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UnaryMethod:
    request_type: type
    handler: Callable[[object, dict], Awaitable[object]]  # (request message, scope) -> response message


def is_grpc(scope) -> bool:
    for k, v in scope["headers"]:
        if k == b"content-type":
            return v.startswith(b"application/grpc")
    return False


async def serve_unary(scope, receive, send, methods: dict[str, UnaryMethod]) -> None:
    try:
        status, message, payload = OK, "", b""
        try:
            try:
                body = await read_body(receive, MAX_MESSAGE + 5)
            except BodyTooLarge:
                await drain(receive, 64 * MAX_MESSAGE)
                raise RpcError(RESOURCE_EXHAUSTED, "request message too large") from None
            method = methods.get(scope["path"])
            if method is None:
                raise RpcError(UNIMPLEMENTED, f"unknown method {scope['path']}")
            if scope.get("http_version") != "2":
                raise RpcError(INTERNAL, "gRPC needs HTTP/2")
            if len(body) < 5:
                raise RpcError(INVALID_ARGUMENT, "missing request message")
            compressed, length = struct.unpack(">BI", body[:5])
            if compressed:
                raise RpcError(UNIMPLEMENTED, "compressed messages are not supported")
            if length != len(body) - 5:
                raise RpcError(INVALID_ARGUMENT, "one request message expected")
            request = method.request_type()
            try:
                request.ParseFromString(body[5:])
            except Exception:
                raise RpcError(INVALID_ARGUMENT, "request is not a valid protobuf message") from None
            response = await method.handler(request, scope)
            data = response.SerializeToString()
            payload = struct.pack(">BI", 0, len(data)) + data
        except RpcError as exc:
            status, message = exc.code, exc.message
        except ClientGone:
            return
        except Exception as exc:  # a bug in a handler must not take the connection down
            log.exception("gRPC %s failed", scope["path"])
            status, message = UNKNOWN, str(exc) or type(exc).__name__
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/grpc")],
            "trailers": True,
        })
        await send({"type": "http.response.body", "body": payload, "more_body": False})
        trailers = [(b"grpc-status", str(status).encode())]
        if message:
            trailers.append((b"grpc-message", quote(message, safe=" ").encode()))
        await send({"type": "http.response.trailers", "headers": trailers, "more_trailers": False})
    except OSError:
        return
