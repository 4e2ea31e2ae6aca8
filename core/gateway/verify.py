"""Local verification of an orchestrator's renditions, as go-livepeer's gateway does it (gateway-wire.md §5,
`verification/verify.go`): on by default on chain, with `-localVerify` offchain.

- pixels: each rendition is decoded (PyAV) and its pixel count — Σ width × height over its frames — must
  equal the `pixels` the orchestrator reported (what it charges for); otherwise `PixelMismatch`.
- signature: when the orchestrator has an address (not 20 zero bytes), `TranscodeData.sig` must be its
  EIP-191 signature over keccak256(keccak256(rendition₁) ‖ keccak256(rendition₂) ‖ …).

A failure is retryable: that orchestrator leaves the stream's pool and the segment goes to the next; after
`RETRIES` failures the best result so far is accepted (go-livepeer's `Policy{Retries: 2}`) — only among
pixel mismatches: a result whose signature is not the orchestrator's is never used.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from eth_hash.auto import keccak

from core.payments.tickets import ZERO_ADDRESS, verify_message

RETRIES = 2


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # in words, when not ok
    pixel_error: int = 0  # Σ |decoded − reported| over the renditions (smaller is better)
    bad_signature: bool = False  # never accepted, not even as the best of failed results


def decoded_pixels(data: bytes) -> int:
    """Σ width × height over every decodable video frame of an MPEG-TS rendition (0 when none)."""
    import av

    total = 0
    try:
        with av.open(io.BytesIO(data), format="mpegts") as c:
            if not c.streams.video:
                return 0
            for frame in c.decode(video=0):
                total += frame.width * frame.height
    except (av.FFmpegError, ValueError):
        return total
    return total


def verify(renditions: list[tuple[str, bytes, int]], sig: bytes, address: bytes, *, map_fn=map) -> Verdict:
    """Check (profile name, bytes, reported pixels) for each rendition, and the signature when the
    orchestrator has an address. `map_fn` may be an executor's map: the renditions decode in parallel
    (FFmpeg releases the GIL while it decodes)."""
    if address and address != ZERO_ADDRESS:
        hashes = b"".join(keccak(data) for _, data, _ in renditions)
        if not verify_message(address, hashes, sig):
            return Verdict(False, f"the renditions are not signed by the orchestrator's address 0x{address.hex()}",
                           bad_signature=True)
    error = 0
    wrong: list[str] = []
    counts = list(map_fn(decoded_pixels, [data for _, data, _ in renditions]))
    for (name, _, reported), counted in zip(renditions, counts):
        if counted != reported:
            error += abs(counted - reported)
            wrong.append(f"{name}: {counted:,} decoded, {reported:,} reported")
    if wrong:
        return Verdict(False, "PixelMismatch (" + "; ".join(wrong) + ")", pixel_error=error)
    return Verdict(True)
