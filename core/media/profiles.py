"""Video profiles (one rung of a transcoding ladder): the lpms presets and the network's common ladder.

A `VideoProfile` is what a gateway asks for in SegData.fullProfiles*; `from_wire` turns the protobuf
message into this checked, immutable form and refuses what this node cannot produce.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class H264Profile(IntEnum):
    """Wire values of VideoProfile.Profile."""

    ENCODER_DEFAULT = 0
    BASELINE = 1
    MAIN = 2
    HIGH = 3
    CONSTRAINED_HIGH = 4


class Codec(IntEnum):
    """Wire values of VideoProfile.VideoCodec."""

    H264 = 0
    H265 = 1
    VP8 = 2
    VP9 = 3


class Format(IntEnum):
    """Wire values of VideoProfile.Format."""

    MPEGTS = 0
    MP4 = 1


# The largest frame this node decodes or encodes: DCI 4K. 8K input or output is refused.
MAX_FRAME_PIXELS = 4096 * 2160
MAX_SIDE = 4096
# Output pixels per frame that one segment's renditions may add up to: two DCI 4K frames (a 2160p..240p
# ladder is 16.2 M). A libx264 encoder holds about 45 bytes per pixel of its frame size (~370 MB at
# 4096x2160), so 8 x 4K renditions (70.8 M pixels) would hold ~3 GB for one segment.
MAX_LADDER_PIXELS = 2 * MAX_FRAME_PIXELS


def ladder_pixels(profiles) -> int:
    """Output pixels per frame, summed over the renditions (as requested)."""
    return sum(p.width * p.height for p in profiles)


def _even(n: int) -> int:
    return max(2, n - n % 2)


def _scaled_even(side: int, num: int, den: int) -> int:
    """side * num / den rounded to the nearest even number, halves up (FFmpeg's scale=-2), at least 2."""
    return max(2, (side * num + den) // (2 * den) * 2)


def output_size(profile: VideoProfile, src_width: int, src_height: int) -> tuple[int, int]:
    """The size of a rendition of a `src_width` x `src_height` source, by lpms's rule: a landscape (or
    square) source takes the profile's width, a portrait one its height, and the other side follows the
    source's aspect ratio, rounded to an even number (lpms scales with `w=if(gte(iw,ih),W,-2):
    h=if(lt(iw,ih),H,-2)`). H.264 in 4:2:0 needs even sides: where lpms hands an odd requested side to the
    encoder, which refuses it, this node rounds it down to even (427x241 from 16:9 gives 426x240).

    >>> output_size(VideoProfile("240p", 426, 240, 0), 640, 480)
    (426, 320)
    """
    if src_width >= src_height:
        width = _even(profile.width)
        return width, _scaled_even(width, src_height, src_width)
    height = _even(profile.height)
    return _scaled_even(height, src_width, src_height), height


class ProfileError(ValueError):
    """A requested profile cannot be produced; the message says which and why."""


@dataclass(frozen=True)
class VideoProfile:
    name: str
    width: int
    height: int
    bitrate: int  # bits per second
    fps: int = 0  # 0 = pass the source frame rate through
    fps_den: int = 1
    profile: H264Profile = H264Profile.ENCODER_DEFAULT
    gop_ms: int = 0  # 0 = encoder default, < 0 = intra only
    codec: Codec = Codec.H264
    format: Format = Format.MPEGTS

    @property
    def frame_rate(self) -> tuple[int, int] | None:
        return (self.fps, self.fps_den or 1) if self.fps else None


def checked(p: VideoProfile) -> VideoProfile:
    """The profile if this node can encode it, else ProfileError with the reason."""
    label = p.name or f"{p.width}x{p.height}"
    if p.codec is not Codec.H264:
        raise ProfileError(f"profile {label}: codec {p.codec.name} is not supported (only H264)")
    if p.format is not Format.MPEGTS:
        raise ProfileError(f"profile {label}: output format {p.format.name} is not supported (only MPEGTS)")
    if p.width <= 0 or p.height <= 0:
        raise ProfileError(f"profile {label}: invalid resolution {p.width}x{p.height}")
    if p.width > MAX_SIDE or p.height > MAX_SIDE or p.width * p.height > MAX_FRAME_PIXELS:
        raise ProfileError(
            f"profile {label}: {p.width}x{p.height} is larger than this node's limit (4096x2160 pixels)"
        )
    if p.bitrate < 0:
        raise ProfileError(f"profile {label}: negative bitrate {p.bitrate}")
    if p.fps > 240 or (p.fps and p.fps_den > p.fps * 1000):
        raise ProfileError(f"profile {label}: frame rate {p.fps}/{p.fps_den} is out of range")
    return p


def from_wire(msg) -> VideoProfile:
    """A checked VideoProfile from a `net.VideoProfile` protobuf message."""
    try:
        profile = H264Profile(msg.profile)
    except ValueError:
        raise ProfileError(f"profile {msg.name or '?'}: unknown H.264 profile value {msg.profile}") from None
    try:
        codec = Codec(msg.encoder)
    except ValueError:
        raise ProfileError(f"profile {msg.name or '?'}: unknown codec value {msg.encoder}") from None
    try:
        fmt = Format(msg.format)
    except ValueError:
        raise ProfileError(f"profile {msg.name or '?'}: unknown format value {msg.format}") from None
    return checked(
        VideoProfile(
            name=msg.name,
            width=msg.width,
            height=msg.height,
            bitrate=msg.bitrate,
            fps=msg.fps,
            fps_den=msg.fpsDen or 1,
            profile=profile,
            gop_ms=msg.gop,
            codec=codec,
            format=fmt,
        )
    )


def to_wire(p: VideoProfile, msg_cls):
    """The `net.VideoProfile` message for a profile (used by clients, tests and the bench)."""
    return msg_cls(
        name=p.name,
        width=p.width,
        height=p.height,
        bitrate=p.bitrate,
        fps=p.fps,
        fpsDen=p.fps_den,
        profile=int(p.profile),
        gop=p.gop_ms,
        encoder=int(p.codec),
        format=int(p.format),
    )


def _preset(name: str, w: int, h: int, kbps: int, fps: int) -> VideoProfile:
    return VideoProfile(name=name, width=w, height=h, bitrate=kbps * 1000, fps=fps)


# lpms built-in presets (name -> profile), as a gateway's -transcodingOptions names them.
LPMS_PRESETS: dict[str, VideoProfile] = {
    p.name: p
    for p in (
        _preset("P720p60fps16x9", 1280, 720, 6000, 60),
        _preset("P720p30fps16x9", 1280, 720, 4000, 30),
        _preset("P720p25fps16x9", 1280, 720, 3500, 25),
        _preset("P720p30fps4x3", 960, 720, 3500, 30),
        _preset("P576p30fps16x9", 1024, 576, 1500, 30),
        _preset("P576p25fps16x9", 1024, 576, 1500, 25),
        _preset("P360p30fps16x9", 640, 360, 1200, 30),
        _preset("P360p25fps16x9", 640, 360, 1000, 25),
        _preset("P360p30fps4x3", 480, 360, 1000, 30),
        _preset("P240p30fps16x9", 426, 240, 600, 30),
        _preset("P240p25fps16x9", 426, 240, 600, 25),
        _preset("P240p30fps4x3", 320, 240, 600, 30),
        _preset("P144p30fps16x9", 256, 144, 400, 30),
    )
}


def _rung(name: str, w: int, h: int, kbps: int) -> VideoProfile:
    return VideoProfile(
        name=name, width=w, height=h, bitrate=kbps * 1000, profile=H264Profile.CONSTRAINED_HIGH, gop_ms=1000
    )


# The network's common ladder (livepeer_bench transcodingOptions.json): fps passthrough,
# constrained-high, 1 s GOP.
COMMON_LADDER: tuple[VideoProfile, ...] = (
    _rung("240p0", 426, 240, 250),
    _rung("360p0", 640, 360, 800),
    _rung("480p0", 854, 480, 1600),
    _rung("720p0", 1280, 720, 3000),
)


def lpms_preset(name: str) -> VideoProfile:
    try:
        return LPMS_PRESETS[name]
    except KeyError:
        raise ProfileError(f"unknown profile name {name!r}; known: {', '.join(LPMS_PRESETS)}") from None
