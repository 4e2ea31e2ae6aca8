"""HTTP/2: answer a request before its body has arrived, and drop the rest of that body.

A gateway posts a segment's headers and its body at once. When the headers are refused (a bad
Livepeer-Segment, a ladder over the cap, no slot free) the node should answer at once, not after
reading up to 300 MB. HTTP/2 allows a complete response before the request is complete (RFC 9113
§8.1), and Go's HTTP/2 client, which go-livepeer's gateway uses, stops uploading when it gets a response
of 300 or more; httpx finishes the upload, then reads the answer.

Hypercorn (0.17/0.18) cannot do this by itself: DATA that arrives for a stream whose response has ended
raises KeyError in its event loop, which ends the whole connection, every other stream of that gateway
with it. `EarlyAnswerH2` (a subclass) acknowledges such DATA for flow control and drops it, so the app
may answer and return without reading the body. (The stream is not reset after the answer, although
RFC 9113 allows it: httpcore 1.x, sending a body larger than the window, then waits for window on the
reset stream until the connection ends instead of reading the answer.)
`install()` makes hypercorn use it for every h2 connection; `installed()` says whether it is in use, so
the segment endpoint may skip reading a refused body (over HTTP/1.1 it still must).
"""

from __future__ import annotations

import logging

import h2.events

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

        missing = [name for name in ("_handle_events", "_flush") if not hasattr(H2Protocol, name)]
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
