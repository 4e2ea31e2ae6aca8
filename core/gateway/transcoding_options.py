"""`-transcodingOptions`: the ladder a gateway asks orchestrators for, as go-livepeer reads it — a comma
list of lpms preset names (`P240p30fps16x9,P360p30fps16x9`) or the path of a JSON file holding an array
of profiles `{name, width, height, bitrate, fps, fpsDen, profile, gop, encoder}` (lpms JsonProfile:
bitrate in bits/s, fps 0 = the source's, gop in seconds as a string or number or "intra", profile one of
H264Baseline/H264Main/H264High/H264ConstrainedHigh, encoder H264).

The rule that differs: go-livepeer drops preset names it does not know without a word (a typo in
`P720p30fps16X9` silently shrinks the ladder). Here an unknown name, a bad field or an empty list is a
TranscodingOptionsError that says what was wrong and which names exist. The same parser serves the
auth webhook's `presets`/`profiles`, the push header `Livepeer-Transcode-Configuration` and the
management API's `/setBroadcastConfig`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from core import safe_json
from core.media.profiles import LPMS_PRESETS, Codec, H264Profile, ProfileError, VideoProfile, checked

_H264_PROFILES = {
    "": H264Profile.ENCODER_DEFAULT,
    "none": H264Profile.ENCODER_DEFAULT,
    "h264baseline": H264Profile.BASELINE,
    "h264main": H264Profile.MAIN,
    "h264high": H264Profile.HIGH,
    "h264constrainedhigh": H264Profile.CONSTRAINED_HIGH,
}
_CODECS = {"": Codec.H264, "h264": Codec.H264, "h265": Codec.H265, "hevc": Codec.H265, "vp8": Codec.VP8,
           "vp9": Codec.VP9}


class TranscodingOptionsError(ValueError):
    """The ladder cannot be used; the message says what is wrong and what to give instead."""


def known_presets() -> tuple[str, ...]:
    """go-livepeer's selectable lpms preset names (/getAvailableTranscodingOptions)."""
    return tuple(LPMS_PRESETS)


def presets(names: str | Sequence[str]) -> tuple[VideoProfile, ...]:
    """Profiles for preset names, given as a comma list or a sequence; every name must be known."""
    if isinstance(names, str):
        names = names.split(",")
    wanted = [n.strip() for n in names if n.strip()]
    if not wanted:
        raise TranscodingOptionsError(
            f"no transcoding profiles given; name lpms presets ({', '.join(LPMS_PRESETS)}) or a JSON file")
    unknown = [n for n in wanted if n not in LPMS_PRESETS]
    if unknown:
        raise TranscodingOptionsError(
            f"unknown transcoding profile{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known presets: {', '.join(LPMS_PRESETS)} (or give the path of a JSON file of profiles)")
    return tuple(LPMS_PRESETS[n] for n in wanted)


def parse(value: str) -> tuple[VideoProfile, ...]:
    """`-transcodingOptions`: preset names, or a JSON file when the value names an existing file or ends
    in `.json`."""
    text = value.strip()
    path = Path(text).expanduser()
    if text.lower().endswith(".json") or (text and path.is_file()):
        try:
            raw = path.read_text()
        except OSError as exc:
            raise TranscodingOptionsError(
                f"cannot read the transcoding options file {text}: {exc.strerror or exc}") from None
        try:
            data = safe_json.loads(raw)
        except ValueError as exc:
            raise TranscodingOptionsError(f"{text} is not JSON ({exc}); it must hold an array of profiles") from None
        return json_profiles(data, where=text)
    return presets(text)


def json_profiles(data: object, *, where: str = "the profiles") -> tuple[VideoProfile, ...]:
    """Profiles from lpms JsonProfile objects (a JSON file's array, a webhook answer's `profiles`)."""
    if not isinstance(data, list):
        raise TranscodingOptionsError(f"{where} must be a JSON array of profiles, not {type(data).__name__}")
    if not data:
        raise TranscodingOptionsError(f"{where} holds no profile")
    out = []
    names: set[str] = set()
    for i, item in enumerate(data):
        p = _json_profile(item, f"{where}, profile {i + 1}")
        if p.name in names:
            raise TranscodingOptionsError(f"{where}: two profiles are named {p.name!r}; names must differ "
                                          f"(they are the rendition paths in the playlists)")
        names.add(p.name)
        out.append(p)
    return tuple(out)


def _json_profile(item: object, where: str) -> VideoProfile:
    if not isinstance(item, dict):
        raise TranscodingOptionsError(f"{where} must be an object with name, width, height, bitrate …")

    def integer(key: str, default: int | None = None) -> int:
        value = item.get(key, default)
        if value is None:
            raise TranscodingOptionsError(f"{where}: {key!r} is missing")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TranscodingOptionsError(f"{where}: {key!r} must be a whole number ≥ 0, not {value!r}")
        return value

    width, height = integer("width"), integer("height")
    name = str(item.get("name") or f"{width}x{height}")
    if "/" in name or not name.isprintable() or name in (".", ".."):
        raise TranscodingOptionsError(f"{where}: name {name!r} cannot be a playlist path")
    profile_name = str(item.get("profile") or "").lower()
    if profile_name not in _H264_PROFILES:
        raise TranscodingOptionsError(
            f"{where}: unknown profile {item.get('profile')!r}; use H264Baseline, H264Main, H264High or "
            f"H264ConstrainedHigh")
    codec_name = str(item.get("encoder") or "").lower()
    if codec_name not in _CODECS:
        raise TranscodingOptionsError(f"{where}: unknown encoder {item.get('encoder')!r}; use H264")
    try:
        return checked(VideoProfile(
            name=name, width=width, height=height, bitrate=integer("bitrate"),
            fps=integer("fps", 0), fps_den=integer("fpsDen", 1) or 1,
            profile=_H264_PROFILES[profile_name], gop_ms=_gop_ms(item.get("gop"), where),
            codec=_CODECS[codec_name],
        ))
    except ProfileError as exc:
        raise TranscodingOptionsError(f"{where}: {exc}") from None


def _gop_ms(value: object, where: str) -> int:
    """lpms: "intra" is intra-only (-1 here), else seconds (a string or a number); absent = encoder's."""
    if value in (None, "", 0, "0"):
        return 0
    if isinstance(value, str) and value.strip().lower() == "intra":
        return -1
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0 or isinstance(value, bool):
        raise TranscodingOptionsError(f"{where}: gop {value!r} must be seconds (like \"2\") or \"intra\"")
    return round(seconds * 1000)


def names(profiles: Sequence[VideoProfile]) -> str:
    """The comma list /getBroadcastConfig shows."""
    return ",".join(p.name for p in profiles)
