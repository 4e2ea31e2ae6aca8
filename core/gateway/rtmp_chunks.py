"""RTMP's wire below the commands: the handshake and the chunk stream (Adobe RTMP specification 1.0,
§5.2–§5.4), as bytes in and messages out with no socket here (rtmp.py drives it).

The rules, and where lpc is stricter than joy4 (go-livepeer's RTMP server):
- Handshake: C0 must be 3 (plain RTMP); anything else is HandshakeError and only that connection is
  closed. S0 S1 S2 are sent after C0+C1 (S1 with zero version bytes: the simple handshake, which ffmpeg
  and librtmp/OBS accept without a digest), then C2 is read and ignored. The deadline for it is the
  caller's (joy4 has none).
- Chunks: basic header (fmt, chunk stream ID in 1–3 bytes), message header of 11/7/3/0 bytes, the
  extended timestamp when the field is 0xFFFFFF (also on type-3 chunks of such a stream), then at most
  `chunk_size` bytes of the message. A type-3 chunk that starts a message adds the stream's last
  timestamp delta (for a type 0 the delta is its absolute timestamp, as the spec says).
- Bounds: a message is at most MAX_MESSAGE_BYTES (the 24-bit length allows 16 MiB; a video frame of a
  live stream is far below the bound), at most MAX_CHUNK_STREAMS chunk streams, a Set Chunk Size below
  RTMP's default 128 is refused (1-byte chunks would only multiply the parsing work; ffmpeg and OBS send
  4096) and one above 2^24 is clamped (no chunk can carry more than a message holds), and the
  partial messages of all chunk streams together hold at most MAX_HELD_BYTES. Any violation is ProtocolError,
  which closes that connection only.
- Set Chunk Size (type 1) and Abort (type 2) act inside the reader, as they must before the next chunk
  is parsed; every complete message (those two included) is returned.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

HANDSHAKE_SIZE = 1536
RTMP_VERSION = 3
DEFAULT_CHUNK_SIZE = 128
MIN_CHUNK_SIZE = DEFAULT_CHUNK_SIZE  # smaller chunks only multiply the parsing work; no publisher sends them
MAX_CHUNK_SIZE = 0xFFFFFF
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_CHUNK_STREAMS = 64
MAX_HELD_BYTES = 2 * MAX_MESSAGE_BYTES  # partial messages of all chunk streams together

# message type IDs
SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK_SIZE, SET_PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 15, 17, 18, 20


class ProtocolError(Exception):
    """The peer broke the RTMP wire rules (what it did, in words)."""


class HandshakeError(ProtocolError):
    pass


def check_c0(c0: bytes) -> None:
    """HandshakeError unless the first byte is RTMP's version 3 (checked before C1 is waited for, so
    garbage is closed at once)."""
    if not c0 or c0[0] != RTMP_VERSION:
        first = f"0x{c0[0]:02x}" if c0 else "nothing"
        raise HandshakeError(f"not RTMP: the first byte is {first}, RTMP's is 0x03")


def server_handshake(c0c1: bytes) -> bytes:
    """S0 S1 S2 for a client's C0 C1 (HandshakeError when C0 is not RTMP's 3)."""
    if len(c0c1) != 1 + HANDSHAKE_SIZE:
        raise HandshakeError(f"handshake cut short ({len(c0c1)} of {1 + HANDSHAKE_SIZE} bytes)")
    check_c0(c0c1[:1])
    s1 = b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + os.urandom(HANDSHAKE_SIZE - 8)
    s2 = c0c1[1:]  # echo of C1
    return bytes((RTMP_VERSION,)) + s1 + s2


@dataclass(frozen=True)
class Message:
    type_id: int
    stream_id: int
    timestamp: int  # ms, 32-bit
    payload: bytes
    chunk_stream: int = 0


@dataclass
class _ChunkStream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    partial: bytearray = field(default_factory=bytearray)
    in_message: bool = False


class ChunkReader:
    """Feed bytes as they arrive; get back the complete messages they finish."""

    def __init__(self, *, max_message: int = MAX_MESSAGE_BYTES) -> None:
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.max_message = max_message
        self._buf = bytearray()
        self._streams: dict[int, _ChunkStream] = {}
        self._held = 0  # bytes in partial messages

    @property
    def buffered(self) -> int:
        """Bytes held: unparsed input plus partial messages."""
        return len(self._buf) + self._held

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        pos = 0
        while True:
            step = self._one(pos)
            if step is None:
                break
            pos, message = step
            if message is not None:
                self._control(message)
                out.append(message)
        if pos:
            del self._buf[:pos]
        return out

    def _control(self, message: Message) -> None:
        if message.type_id == SET_CHUNK_SIZE:
            if len(message.payload) < 4:
                raise ProtocolError("Set Chunk Size message shorter than 4 bytes")
            size = struct.unpack(">I", message.payload[:4])[0] & 0x7FFFFFFF
            if size < MIN_CHUNK_SIZE:
                raise ProtocolError(f"Set Chunk Size of {size} (below RTMP's default of {MIN_CHUNK_SIZE})")
            self.chunk_size = min(size, MAX_CHUNK_SIZE)
        elif message.type_id == ABORT and len(message.payload) >= 4:
            stream = self._streams.get(struct.unpack(">I", message.payload[:4])[0])
            if stream is not None:
                self._held -= len(stream.partial)
                stream.partial = bytearray()
                stream.in_message = False

    def _one(self, pos: int) -> tuple[int, Message | None] | None:
        """Parse one chunk at `pos`: (next position, the message it completed or None), or None when the
        chunk is not all here yet (nothing is changed then)."""
        buf, n = self._buf, len(self._buf)
        if pos >= n:
            return None
        fmt, csid = buf[pos] >> 6, buf[pos] & 0x3F
        p = pos + 1
        if csid == 0:
            if p + 1 > n:
                return None
            csid, p = 64 + buf[p], p + 1
        elif csid == 1:
            if p + 2 > n:
                return None
            csid, p = 64 + buf[p] + 256 * buf[p + 1], p + 2
        header = (11, 7, 3, 0)[fmt]
        if p + header > n:
            return None
        stream = self._streams.get(csid)
        if stream is None:
            if fmt == 3:
                raise ProtocolError(f"chunk stream {csid} begins with a type-3 chunk (no header to continue)")
            if len(self._streams) >= MAX_CHUNK_STREAMS:
                raise ProtocolError(f"more than {MAX_CHUNK_STREAMS} chunk streams on one connection")
        st = stream or _ChunkStream()
        ts_field, length, type_id, stream_id, extended = 0, st.length, st.type_id, st.stream_id, st.extended
        if fmt <= 2:
            ts_field = int.from_bytes(buf[p : p + 3], "big")
            extended = ts_field == 0xFFFFFF
        if fmt <= 1:
            length = int.from_bytes(buf[p + 3 : p + 6], "big")
            type_id = buf[p + 6]
        if fmt == 0:
            stream_id = int.from_bytes(buf[p + 7 : p + 11], "little")
        p += header
        if extended:
            if p + 4 > n:
                return None
            ext = int.from_bytes(buf[p : p + 4], "big")
            p += 4
            if fmt <= 2:
                ts_field = ext
        starting = not st.in_message
        if not starting and fmt != 3:
            raise ProtocolError(f"chunk stream {csid}: a new message header before the last message ended")
        if starting and length > self.max_message:
            raise ProtocolError(f"message of {length} bytes (the most taken is {self.max_message})")
        take = min(self.chunk_size, length - len(st.partial))
        if p + take > n:
            return None
        if self._held + take > MAX_HELD_BYTES:
            raise ProtocolError(f"more than {MAX_HELD_BYTES} bytes of unfinished messages")
        # the whole chunk is here: commit
        if stream is None:
            self._streams[csid] = st
        if starting:
            if fmt == 0:
                st.timestamp, st.delta = ts_field, ts_field
            elif fmt in (1, 2):
                st.delta = ts_field
                st.timestamp = (st.timestamp + ts_field) & 0xFFFFFFFF
            else:
                st.timestamp = (st.timestamp + st.delta) & 0xFFFFFFFF
            st.length, st.type_id, st.stream_id = length, type_id, stream_id
            st.in_message = True
        st.extended = extended
        st.partial += buf[p : p + take]
        self._held += take
        p += take
        if len(st.partial) < st.length:
            return p, None
        message = Message(st.type_id, st.stream_id, st.timestamp, bytes(st.partial), csid)
        self._held -= len(st.partial)
        st.partial = bytearray()
        st.in_message = False
        return p, message


def encode_message(message: Message, chunk_size: int) -> bytes:
    """`message` as chunks: one type-0 chunk, then type-3 continuations of at most `chunk_size` bytes."""
    csid = message.chunk_stream or 3
    if not 2 <= csid <= 63:
        raise ValueError("this writer uses chunk streams 2–63")
    ts = message.timestamp & 0xFFFFFFFF
    extended = ts >= 0xFFFFFF
    head = bytes((csid,)) + min(ts, 0xFFFFFF).to_bytes(3, "big") + len(message.payload).to_bytes(3, "big")
    head += bytes((message.type_id,)) + message.stream_id.to_bytes(4, "little")
    ext = ts.to_bytes(4, "big") if extended else b""
    out = bytearray(head + ext)
    payload = message.payload
    out += payload[:chunk_size]
    for offset in range(chunk_size, len(payload), chunk_size):
        out += bytes((0xC0 | csid,)) + ext + payload[offset : offset + chunk_size]
    return bytes(out)


def control(type_id: int, value: int, extra: bytes = b"") -> Message:
    """A protocol control message (chunk stream 2, message stream 0) carrying one 32-bit value."""
    return Message(type_id, 0, 0, struct.pack(">I", value) + extra, 2)


def user_control(event: int, value: int) -> Message:
    return Message(USER_CONTROL, 0, 0, struct.pack(">HI", event, value), 2)
