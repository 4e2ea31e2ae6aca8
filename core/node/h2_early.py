"""HTTP/2: answer a request before its body has arrived, then tell the client to stop sending it.

A gateway posts a segment's headers and its body at once. When the headers are refused (a bad
Livepeer-Segment, a ladder over the cap, no slot free) the node should answer at once, not after
reading up to 300 MB. RFC 9113 §8.1 allows exactly this: a server may send a complete response before
the request is complete, then reset the stream with NO_ERROR so the client stops sending (Go's HTTP/2
client, which go-livepeer's gateway uses, returns the response and stops its upload).

Hypercorn (0.17/0.18) does neither by itself: it never resets a stream it answered early, and DATA that
arrives for a stream whose response has ended raises KeyError in its event loop, which ends the whole
connection, every other stream of that gateway with it. `EarlyAnswerH2` adds both, as a subclass:
  - after a response's last frame, a stream the client is still sending on is reset with NO_ERROR;
  - DATA for a stream that is no longer served is acknowledged (flow control) and dropped.
A client that keeps waiting for flow-control window on a reset stream instead of reading the answer
(httpx/httpcore 1.x does, when the body is larger than the window) sees the connection end at the
keep-alive timeout rather than the refusal; Go's client reads the answer and stops.
`install()` makes hypercorn use it for every h2 connection; `installed()` says whether it is in use, so
the segment endpoint may skip reading a refused body (over HTTP/1.1 it still must).
"""

from __future__ import annotations

import logging

import h2.errors
import h2.events
import h2.exceptions
from h2.stream import StreamState

log = logging.getLogger(__name__)

_installed = False


def _protocol_class():
    from hypercorn.protocol.h2 import H2Protocol

    class EarlyAnswerH2(H2Protocol):
        async def _handle_events(self, events: list[h2.events.Event]) -> None:
            # one at a time: a stream may end while an earlier event of the same batch is handled
            for event in events:
                if isinstance(event, h2.events.DataReceived) and event.stream_id not in self.streams:
                    # the response to this request has been sent: the rest of its body is not wanted
                    self.connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    await self._flush()
                else:
                    await super()._handle_events([event])

        async def _send_data(self, stream_id: int) -> None:
            await super()._send_data(stream_id)
            if stream_id not in self.stream_buffers:  # the response's last frame is out
                await self._stop_request_body(stream_id)

        async def _stop_request_body(self, stream_id: int) -> None:
            stream = self.connection.streams.get(stream_id)
            if stream is None or stream.state_machine.state != StreamState.HALF_CLOSED_LOCAL:
                return  # the client had sent all of it (or the stream is gone)
            try:
                self.connection.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.NO_ERROR)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                return
            log.debug("stream %d answered before its body arrived: reset (NO_ERROR)", stream_id)
            await self._flush()

    return EarlyAnswerH2


def install() -> bool:
    """Make hypercorn serve HTTP/2 with EarlyAnswerH2 (idempotent). False when this hypercorn is not the
    shape it was written for; the node then reads refused bodies as before."""
    global _installed
    if _installed:
        return True
    try:
        import hypercorn.protocol as protocol
        from hypercorn.protocol.h2 import H2Protocol

        missing = [name for name in ("_handle_events", "_send_data", "_flush") if not hasattr(H2Protocol, name)]
        if missing or not hasattr(protocol, "H2Protocol"):
            log.warning("hypercorn's HTTP/2 protocol lacks %s: refused segment bodies are read in full", missing)
            return False
        protocol.H2Protocol = _protocol_class()
    except ImportError:
        return False
    _installed = True
    return True


def installed() -> bool:
    return _installed
