"""Capability bits a transcoding node advertises, and the gateway-compatibility check.

Capability c is bit c % 64 of word c // 64 of `Capabilities.bitstring` (numbering shared by go-livepeer
and the Python SDK).
"""

from __future__ import annotations

from enum import IntEnum

from core.proto import net


class Capability(IntEnum):
    H264 = 0
    MPEGTS = 1
    MP4 = 2
    FRACTIONAL_FRAMERATES = 3
    STORAGE_DIRECT = 4
    STORAGE_S3 = 5
    STORAGE_GCS = 6
    PROFILE_H264_BASELINE = 7
    PROFILE_H264_MAIN = 8
    PROFILE_H264_HIGH = 9
    PROFILE_H264_CONSTRAINED_HIGH = 10
    GOP = 11
    AUTH_TOKEN = 12
    MPEG7_SIGNATURE = 14
    HEVC_DECODE = 15
    HEVC_ENCODE = 16
    VP8_DECODE = 17
    VP9_DECODE = 18
    VP8_ENCODE = 19
    VP9_ENCODE = 20
    H264_DECODE_444_8BIT = 21
    H264_DECODE_422_8BIT = 22
    H264_DECODE_444_10BIT = 23
    H264_DECODE_422_10BIT = 24
    H264_DECODE_420_10BIT = 25
    SEGMENT_SLICING = 26


# What the PyAV pipeline does: FFmpeg decodes these inputs on the CPU; the output is H.264 in MPEG-TS.
TRANSCODING = frozenset(
    {
        Capability.H264,
        Capability.MPEGTS,
        Capability.FRACTIONAL_FRAMERATES,
        Capability.STORAGE_DIRECT,
        Capability.PROFILE_H264_BASELINE,
        Capability.PROFILE_H264_MAIN,
        Capability.PROFILE_H264_HIGH,
        Capability.PROFILE_H264_CONSTRAINED_HIGH,
        Capability.GOP,
        Capability.AUTH_TOKEN,
        Capability.HEVC_DECODE,
        Capability.H264_DECODE_444_8BIT,
        Capability.H264_DECODE_422_8BIT,
        Capability.H264_DECODE_444_10BIT,
        Capability.H264_DECODE_422_10BIT,
        Capability.H264_DECODE_420_10BIT,
    }
)


def bitstring(caps) -> list[int]:
    words = [0] * (max(int(c) for c in caps) // 64 + 1) if caps else []
    for c in caps:
        words[int(c) // 64] |= 1 << (int(c) % 64)
    return words


def bits_of(words) -> set[int]:
    return {i * 64 + b for i, w in enumerate(words) for b in range(64) if w >> b & 1}


def to_wire(caps=TRANSCODING, version: str = "") -> net.Capabilities:
    msg = net.Capabilities(bitstring=bitstring(caps), version=version)
    for c in caps:
        msg.capacities[int(c)] = 1
    return msg


def missing(required: net.Capabilities, offered=TRANSCODING) -> set[int]:
    """Capabilities a gateway requires (its bitstring) that this node lacks; empty = compatible."""
    return bits_of(required.bitstring) - {int(c) for c in offered}
