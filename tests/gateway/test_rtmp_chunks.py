"""The RTMP chunk stream and AMF0 as a publisher's bytes arrive: split anywhere, extended timestamps,
header compression, and the bounds that close a hostile connection."""

from __future__ import annotations

import struct

import pytest

from core.gateway import amf0
from core.gateway.rtmp_chunks import (
    SET_CHUNK_SIZE, VIDEO, ChunkReader, Message, ProtocolError, control, encode_message,
)


def _feed_bytewise(reader: ChunkReader, data: bytes) -> list[Message]:
    out = []
    for i in range(len(data)):
        out += reader.feed(data[i : i + 1])
    return out


def test_a_message_in_many_chunks_fed_a_byte_at_a_time_comes_out_whole_with_its_extended_timestamp():
    payload = bytes(range(256)) * 3  # 768 bytes: six 128-byte chunks
    wire = encode_message(Message(VIDEO, 1, 0x1234567, payload, 6), 128)  # timestamp over 24 bits
    (message,) = _feed_bytewise(ChunkReader(), wire)
    assert (message.type_id, message.stream_id, message.timestamp, message.payload) == (VIDEO, 1, 0x1234567, payload)


def test_compressed_headers_carry_the_timestamp_deltas():
    csid = 6
    first = bytes((csid,)) + (1000).to_bytes(3, "big") + (2).to_bytes(3, "big") + bytes((VIDEO,)) + struct.pack("<I", 1)
    second = bytes((0x80 | csid,)) + (33).to_bytes(3, "big")  # type 2: same length and type, delta 33
    third = bytes((0xC0 | csid,))  # type 3 starting a message: the same delta again
    reader = ChunkReader()
    got = reader.feed(first + b"ab" + second + b"cd" + third + b"ef")
    assert [(m.timestamp, m.payload) for m in got] == [(1000, b"ab"), (1033, b"cd"), (1066, b"ef")]


def test_chunk_size_rules():
    reader = ChunkReader()
    big = encode_message(control(SET_CHUNK_SIZE, 0x7FFFFFFF), 128)  # clamped, and then it works
    payload = b"v" * 70_000
    (_, message) = reader.feed(big + encode_message(Message(VIDEO, 1, 5, payload, 6), 0xFFFFFF))
    assert message.payload == payload
    for tiny in (0, 1, 127):
        with pytest.raises(ProtocolError, match=f"Set Chunk Size of {tiny} "):
            ChunkReader().feed(encode_message(control(SET_CHUNK_SIZE, tiny), 128))
    with pytest.raises(ProtocolError, match="type-3 chunk"):
        ChunkReader().feed(b"\xc5")


def test_amf0_round_trip_and_bad_bytes():
    values = ["connect", 1.0, {"app": "live", "tcUrl": "rtmp://h/live", "fpad": False, "n": None}, [1.0, "x"]]
    assert amf0.decode_all(amf0.encode(*values)) == values
    with pytest.raises(amf0.Amf0Error, match="cut short"):
        amf0.decode_all(amf0.encode("publish")[:-2])
    with pytest.raises(amf0.Amf0Error, match="nested deeper"):
        amf0.decode_all(b"\x03\x00\x01a" * 40)
    with pytest.raises(amf0.Amf0Error, match="0x11"):
        amf0.decode_all(b"\x11\x00")
