"""Capability bits a node advertises (transcoding 0..26, the AI pipelines 27..36), the per-model AI
constraints, and the gateway-compatibility check.

Capability c is bit c % 64 of word c // 64 of `Capabilities.bitstring` (numbering shared by go-livepeer
and the Python SDK). An AI model is advertised as go-livepeer does: its pipeline's bit, the pipeline's
capacity in `capacities`, and `constraints.PerCapability[cap].models[model_id]` = ModelConstraint(warm,
capacity = IDLE slots (go puts its idle containers there), runnerVersion, capacityInUse).
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


# The batch AI pipelines' ids (core.ai.ports.CAPABILITY_ID): 27..34 and 36 (35 is live-video-to-video)
AI_CAPABILITIES = frozenset({27, 28, 29, 30, 31, 32, 33, 34, 36})


def bitstring(caps) -> list[int]:
    words = [0] * (max(int(c) for c in caps) // 64 + 1) if caps else []
    for c in caps:
        words[int(c) // 64] |= 1 << (int(c) % 64)
    return words


def bits_of(words) -> set[int]:
    return {i * 64 + b for i, w in enumerate(words) for b in range(64) if w >> b & 1}


def to_wire(caps=TRANSCODING, version: str = "", ai=()) -> net.Capabilities:
    """The Capabilities message: `caps` (transcoding; empty on an AI-only node) with capacity 1 each, and
    `ai` = (ModelSpec, warm, capacity, capacity_in_use) of every model with weights (AIWorkerPort.advertised)."""
    ai_caps = {spec.pipeline.capability for spec, *_ in ai}
    msg = net.Capabilities(bitstring=bitstring({int(c) for c in caps} | ai_caps), version=version)
    for c in caps:
        msg.capacities[int(c)] = 1
    for spec, warm, capacity, in_use in ai:
        cap = spec.pipeline.capability
        msg.capacities[cap] = msg.capacities[cap] + capacity
        msg.constraints.PerCapability[cap].models[spec.model_id].CopyFrom(
            net.Capabilities.CapabilityConstraints.ModelConstraint(
                warm=warm, capacity=max(0, capacity - in_use), runnerVersion=version, capacityInUse=in_use))
    return msg


def requested_models(req: net.Capabilities | None) -> tuple[tuple[int, str], ...]:
    """(capability, model_id) pairs a gateway's OrchestratorRequest names in its constraints (an AI
    gateway asks for exactly the model it wants a price for); () for a plain discovery request."""
    if req is None:
        return ()
    return tuple((int(cap), model) for cap, cc in req.constraints.PerCapability.items() for model in cc.models)


def missing(required: net.Capabilities, offered=TRANSCODING) -> set[int]:
    """Capabilities a gateway requires (its bitstring) that this node lacks; empty = compatible. An
    AI-only node offers no transcoding, so a transcoding gateway's segment is refused."""
    return bits_of(required.bitstring) - {int(c) for c in offered}
