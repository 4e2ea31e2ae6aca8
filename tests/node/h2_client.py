"""A hand-driven HTTP/2 client for hostile-client tests: it sends exactly the frames a test asks for (a
segment's headers, part of its body, nothing more) and reads only when asked, as a stalled, slow or dying
gateway would. Loopback only."""

from __future__ import annotations

import socket
import ssl
import struct
import time

import h2.config
import h2.connection
import h2.events


class RawH2:
    def __init__(self, port: int, timeout: float = 20.0, source_address: str | None = None):
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        self.sock = ctx.wrap_socket(socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source_address, 0) if source_address else None))
        assert self.sock.selected_alpn_protocol() == "h2"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.responses: dict[int, dict] = {}  # stream id -> {"status", "body", "ended", "reset"}

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def post_segment(self, headers: dict[str, str], content_length: int, path: str = "/segment") -> int:
        stream = self.conn.get_next_available_stream_id()
        fields = [(":method", "POST"), (":path", path), (":scheme", "https"), (":authority", "127.0.0.1"),
                  ("content-length", str(content_length))]
        fields += [(k.lower(), v) for k, v in headers.items()]
        self.conn.send_headers(stream, fields)
        self.flush()
        self.responses[stream] = {"status": None, "body": b"", "ended": False, "reset": False}
        return stream

    def send_body(self, stream: int, data: bytes, end: bool = False) -> int:
        """Send as much of `data` as the flow-control window allows now; the number of bytes sent."""
        room = min(len(data), self.conn.local_flow_control_window(stream))
        sent = 0
        while sent < room:
            n = min(room - sent, self.conn.max_outbound_frame_size)
            self.conn.send_data(stream, data[sent:sent + n], end_stream=end and sent + n == len(data))
            sent += n
        self.flush()
        return sent

    def upload_until_answered(self, stream: int, data: bytes, timeout: float = 30.0) -> int:
        """Send `data` as fast as flow control allows, as a gateway does, but stop as soon as the node has
        answered; the number of body bytes sent."""
        sent = 0
        r = self.responses[stream]
        while r["status"] is None and not r["reset"] and sent < len(data):
            sent += self.send_body(stream, data[sent:], end=True)
            if sent < len(data):  # wait for window updates, or the answer
                self.read_until(lambda: r["status"] is not None or r["reset"]
                                or self.conn.local_flow_control_window(stream) > 0, timeout)
        return sent

    def read_until(self, done, timeout: float = 20.0) -> None:
        """Read frames (answering pings and window updates) until `done()` or the deadline."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the node in time")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the node closed the connection")
            for event in self.conn.receive_data(data):
                r = self.responses.get(getattr(event, "stream_id", 0))
                if isinstance(event, h2.events.ResponseReceived) and r is not None:
                    r["status"] = int(dict(event.headers)[":status"])
                elif isinstance(event, h2.events.DataReceived) and r is not None:
                    r["body"] += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded) and r is not None:
                    r["ended"] = True
                elif isinstance(event, h2.events.StreamReset) and r is not None:
                    r["reset"] = True
            self.flush()

    def kill(self) -> None:
        """Vanish as a killed process does: no TLS close, no GOAWAY, a TCP reset."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
