"""The node's event loop and how it treats connections that end badly.

Gateways on the internet vanish mid-upload, stall, or never answer a TLS close. Hypercorn ends such a
connection by closing the TLS stream; asyncio then waits for the peer's close_notify (30 s by default)
and, when none comes, raises `TimeoutError('SSL shutdown timed out')` out of hypercorn's connection task,
which asyncio reports as an ERROR with a traceback ("Unhandled exception in client_connected_cb").
Here the wait is bounded by the node's own setting (the socket is freed sooner) and the ending is logged
at debug level: it is routine, not a fault of the node.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

log = logging.getLogger(__name__)


def loop_factory(tls_shutdown_timeout_s: float):
    """An event loop factory (for asyncio.Runner) whose TLS servers wait at most `tls_shutdown_timeout_s`
    for a peer's close_notify; hypercorn does not pass asyncio's ssl_shutdown_timeout through."""

    class NodeLoop(asyncio.SelectorEventLoop):
        async def create_server(self, *args, ssl_shutdown_timeout=None, **kwargs):
            if kwargs.get("ssl") is not None and ssl_shutdown_timeout is None:
                ssl_shutdown_timeout = tls_shutdown_timeout_s
            return await super().create_server(*args, ssl_shutdown_timeout=ssl_shutdown_timeout, **kwargs)

    return NodeLoop


def _routine(exc: BaseException | None) -> bool:
    """A connection that ended badly on the peer's side: a TLS error, a reset, a cancel at shutdown, or a
    TLS close the peer never answered."""
    if isinstance(exc, (ssl.SSLError, ConnectionError, asyncio.CancelledError)):
        return True
    if isinstance(exc, TimeoutError) and "SSL shutdown timed out" in str(exc):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(lambda e: isinstance(e, KeyError) or _routine(e)) is not None
    return False


def quiet_connection_errors(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The node loop's exception handler: routine connection endings at debug level, anything else as
    asyncio reports it."""
    exc = context.get("exception")
    if _routine(exc):
        log.debug("connection closed: %s (%s)", context.get("message"), exc)
        return
    loop.default_exception_handler(context)
