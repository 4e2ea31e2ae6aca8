"""Which H.264 encoder this machine uses, and the encoder settings for one profile.

`probe_encoder` opens h264_nvenc on a tiny frame; with no GPU or driver FFmpeg fails with
PermissionError "Cannot load libcuda.so.1" (or another av error), and libx264 is used instead.
`encoder_settings` is the single description of how a profile is encoded, so the bench can give the
ffmpeg CLI exactly the same settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import av

from core.media.profiles import H264Profile, VideoProfile

log = logging.getLogger(__name__)

NVENC = "h264_nvenc"
X264 = "libx264"


@dataclass(frozen=True)
class EncoderChoice:
    name: str  # FFmpeg encoder name: h264_nvenc or libx264
    hw_decode: bool  # decode with NVDEC (CUDA hwaccel)
    preset: str  # libx264 preset, or an NVENC preset (p1..p7)
    reason: str = ""  # why this encoder was chosen, for status and logs

    @property
    def label(self) -> str:
        return f"{self.name} ({'NVDEC' if self.hw_decode else 'CPU'} decode)"


def _try_open(name: str) -> str | None:
    """None when the encoder opens on a 64x64 frame, else the reason it does not."""
    try:
        ctx = av.CodecContext.create(name, "w")
        ctx.width, ctx.height, ctx.pix_fmt = 64, 64, "yuv420p"
        ctx.time_base = Fraction(1, 30)
        ctx.open()
        frame = av.VideoFrame(64, 64, "yuv420p")
        frame.pts = 0
        ctx.encode(frame)
        ctx.encode(None)
        return None
    except (PermissionError, OSError, av.FFmpegError, ValueError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def probe_encoder(prefer: str = "auto", x264_preset: str = "veryfast") -> EncoderChoice:
    """NVENC (with NVDEC) when a GPU and driver answer, else libx264. `prefer` = auto|nvenc|x264."""
    if prefer in ("auto", "nvenc"):
        why_not = _try_open(NVENC)
        if why_not is None:
            return EncoderChoice(NVENC, hw_decode=True, preset="p4", reason="NVENC opened")
        if prefer == "nvenc":
            raise RuntimeError(f"h264_nvenc cannot be opened: {why_not}")
        log.info("h264_nvenc unavailable (%s); using libx264", why_not)
        return EncoderChoice(X264, hw_decode=False, preset=x264_preset, reason=f"no NVENC: {why_not}")
    return EncoderChoice(X264, hw_decode=False, preset=x264_preset, reason="libx264 chosen by configuration")


_PROFILE_NAMES = {
    H264Profile.BASELINE: "baseline",
    H264Profile.MAIN: "main",
    H264Profile.HIGH: "high",
    H264Profile.CONSTRAINED_HIGH: "high",
}


def gop_frames(profile: VideoProfile, fps: Fraction) -> int | None:
    """Frames between keyframes: None = encoder default, 1 = intra only (negative GOP on the wire)."""
    if profile.gop_ms < 0:
        return 1
    if profile.gop_ms == 0:
        return None
    return max(1, round(profile.gop_ms / 1000 * fps))


def encoder_options(profile: VideoProfile, encoder: EncoderChoice, fps: Fraction) -> dict[str, str]:
    """The FFmpeg codec options (as `avcodec_open2` and the ffmpeg CLI take them) for one rendition.

    Constrained-high is High without B-frames (as lpms encodes it); a GOP gives keyframes exactly every
    GOP frames, with no scene-cut keyframes in between."""
    opts = {"preset": encoder.preset}
    if profile.bitrate:
        opts["b"] = str(profile.bitrate)
    gop = gop_frames(profile, fps)
    if gop is not None:
        opts["g"] = str(gop)
        if encoder.name == X264:
            opts["keyint_min"] = str(gop)
            opts["sc_threshold"] = "0"
        else:
            opts["forced-idr"] = "1"
    name = _PROFILE_NAMES.get(profile.profile)
    if name:
        opts["profile"] = name
    if profile.profile in (H264Profile.CONSTRAINED_HIGH, H264Profile.BASELINE):
        opts["bf"] = "0"
    return opts


def ffmpeg_cli_args(codec: str, options: dict[str, str]) -> list[str]:
    """The same encoder settings as ffmpeg command-line output options (for the bench)."""
    args = ["-c:v", codec, "-pix_fmt", "yuv420p"]
    for k, v in options.items():
        args += [f"-{k}:v", v]
    return args
