"""AMF0, the value encoding of RTMP commands (connect, createStream, publish, onStatus) and of the
publisher's `@setDataFrame`/`onMetaData` data message (Adobe AMF0 specification, 2007).

Decoding is bounded: a value may nest at most MAX_DEPTH deep, every length is checked against the bytes
that are there, and a marker outside AMF0 (AMF3's switch, movie clip, record set, XML) is an Amf0Error
naming it. Nothing here touches a socket.

No maintained AMF library is on PyPI (PyAMF and its fork miniamf have had no release for years and
carry AMF3, remoting and Flex, none of which RTMP publishing needs), so this is the hundred lines of it
that publishing uses.
"""

from __future__ import annotations

import struct
from typing import Any

MAX_DEPTH = 16

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED = 0x00, 0x01, 0x02, 0x03, 0x05, 0x06
REFERENCE, ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING = 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C


class Amf0Error(ValueError):
    """Bytes that are not AMF0 (what was wrong, at which offset)."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise Amf0Error(f"AMF0 value cut short at byte {self.pos} (wanted {n} more bytes)")
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def short_string(self) -> str:
        (n,) = struct.unpack(">H", self.take(2))
        return self.take(n).decode("utf-8", "replace")

    def properties(self, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            key = self.short_string()
            if key == "" and self.pos < len(self.data) and self.data[self.pos] == OBJECT_END:
                self.pos += 1
                return out
            out[key] = self.value(depth + 1)

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise Amf0Error(f"AMF0 values nested deeper than {MAX_DEPTH}")
        marker = self.take(1)[0]
        if marker == NUMBER:
            return struct.unpack(">d", self.take(8))[0]
        if marker == BOOLEAN:
            return self.take(1)[0] != 0
        if marker == STRING:
            return self.short_string()
        if marker == LONG_STRING:
            (n,) = struct.unpack(">I", self.take(4))
            return self.take(n).decode("utf-8", "replace")
        if marker == OBJECT:
            return self.properties(depth)
        if marker == ECMA_ARRAY:
            self.take(4)  # the count is a hint; the end marker ends it
            return self.properties(depth)
        if marker == STRICT_ARRAY:
            (n,) = struct.unpack(">I", self.take(4))
            if n > len(self.data) - self.pos:  # every value takes at least one byte
                raise Amf0Error(f"AMF0 strict array of {n} values in {len(self.data) - self.pos} bytes")
            return [self.value(depth + 1) for _ in range(n)]
        if marker in (NULL, UNDEFINED):
            return None
        if marker == REFERENCE:
            self.take(2)
            return None
        if marker == DATE:
            ms = struct.unpack(">d", self.take(8))[0]
            self.take(2)  # time zone, unused by the spec
            return ms
        raise Amf0Error(f"AMF0 marker 0x{marker:02x} at byte {self.pos - 1} is not one RTMP publishing uses")


def decode_all(data: bytes) -> list[Any]:
    """Every AMF0 value in `data`, in order (a command is name, transaction ID, then arguments)."""
    reader = _Reader(data)
    out = []
    while reader.pos < len(reader.data):
        out.append(reader.value())
    return out


def _encode(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(NULL)
    elif isinstance(value, bool):
        out += bytes((BOOLEAN, 1 if value else 0))
    elif isinstance(value, (int, float)):
        out.append(NUMBER)
        out += struct.pack(">d", float(value))
    elif isinstance(value, str):
        raw = value.encode()
        if len(raw) <= 0xFFFF:
            out.append(STRING)
            out += struct.pack(">H", len(raw)) + raw
        else:
            out.append(LONG_STRING)
            out += struct.pack(">I", len(raw)) + raw
    elif isinstance(value, dict):
        out.append(OBJECT)
        for key, item in value.items():
            raw = str(key).encode()
            out += struct.pack(">H", len(raw)) + raw
            _encode(item, out)
        out += b"\x00\x00" + bytes((OBJECT_END,))
    elif isinstance(value, (list, tuple)):
        out.append(STRICT_ARRAY)
        out += struct.pack(">I", len(value))
        for item in value:
            _encode(item, out)
    else:
        raise TypeError(f"no AMF0 encoding for {type(value).__name__}")


def encode(*values: Any) -> bytes:
    """The AMF0 bytes of `values` one after another (None → null, dict → object, list → strict array)."""
    out = bytearray()
    for value in values:
        _encode(value, out)
    return bytes(out)
