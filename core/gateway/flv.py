"""FLV bytes rebuilt from RTMP messages (Adobe FLV specification 10.1, Annex E), so that libavformat's
FLV demuxer (through PyAV) can read a published stream: an RTMP audio, video or data message's payload
is exactly an FLV tag's body.

    header:  "FLV" 0x01 <flags: 0x04 audio | 0x01 video> 00 00 00 09, then PreviousTagSize0 = 0
    tag:     type (8 audio, 9 video, 18 script) · body size (24 bit) · timestamp (lower 24 bits, then the
             upper 8) · stream ID 0 (24 bit) · body · PreviousTagSize (11 + body size, 32 bit)

A publisher's `@setDataFrame` data message becomes the script tag `onMetaData …` (the
`@setDataFrame` string is the RTMP wrapper, not part of the FLV body).
"""

from __future__ import annotations

import struct

AUDIO_TAG, VIDEO_TAG, SCRIPT_TAG = 8, 9, 18
HAS_AUDIO, HAS_VIDEO = 0x04, 0x01

_SET_DATA_FRAME = b"\x02\x00\x0d@setDataFrame"  # the AMF0 string "@setDataFrame"


def header(*, audio: bool = True, video: bool = True) -> bytes:
    flags = (HAS_AUDIO if audio else 0) | (HAS_VIDEO if video else 0)
    return b"FLV\x01" + bytes((flags,)) + struct.pack(">I", 9) + b"\x00\x00\x00\x00"


def tag(tag_type: int, timestamp_ms: int, body: bytes) -> bytes:
    ts = timestamp_ms & 0xFFFFFFFF
    size = len(body)
    if size > 0xFFFFFF:
        raise ValueError(f"an FLV tag body holds at most 16 MiB ({size} bytes given)")
    head = bytes((tag_type,)) + size.to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big")
    head += bytes((ts >> 24,)) + b"\x00\x00\x00"
    return head + body + struct.pack(">I", 11 + size)


def metadata_body(payload: bytes) -> bytes:
    """The script tag body of an RTMP data message (`@setDataFrame` dropped when it leads)."""
    return payload[len(_SET_DATA_FRAME) :] if payload.startswith(_SET_DATA_FRAME) else payload


def is_video_keyframe(body: bytes) -> bool:
    """A video tag whose frame type (upper 4 bits of the first byte) is 1, a keyframe."""
    return bool(body) and body[0] >> 4 == 1


def is_sequence_header(tag_type: int, body: bytes) -> bool:
    """An AVC decoder configuration (video, codec 7, packet type 0) or AAC AudioSpecificConfig (audio,
    format 10, packet type 0): the codec parameters a demuxer must see before the first frame."""
    if len(body) < 2:
        return False
    if tag_type == VIDEO_TAG:
        return body[0] & 0x0F == 7 and body[1] == 0
    if tag_type == AUDIO_TAG:
        return body[0] >> 4 == 10 and body[1] == 0
    return False
