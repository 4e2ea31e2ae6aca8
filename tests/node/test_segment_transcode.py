"""Segments through /segment for the common ladder: renditions decode to the asked size, frame count and
pixel count, over HTTP/1.1 and HTTP/2 on the same TLS port as gRPC."""

import io

import av
import numpy as np
import pytest

from core.media.profiles import COMMON_LADDER, VideoProfile, lpms_preset
from tests.node.gateway import b_frames, download, probe, transcode


@pytest.mark.parametrize("source", ["180p", "360p", "720p"])
def test_common_ladder_renditions_match_the_request(node_and_gateway, clips, source):
    _, gw = node_and_gateway
    info = gw.get_orchestrator()
    result = transcode(info, clips[source], COMMON_LADDER, seq=3)
    assert result.WhichOneof("result") == "data", result.error
    assert result.seq == 3
    assert len(result.data.segments) == len(COMMON_LADDER)
    assert result.data.sig == b""  # offchain: go-livepeer leaves the signature empty
    for profile, seg in zip(COMMON_LADDER, result.data.segments):
        assert seg.url.startswith(info.transcoder + "/")
        data = download(seg.url)
        frames, w, h, _ = probe(data)
        assert (w, h) == (profile.width, profile.height)
        assert frames == 30
        assert seg.pixels == frames * w * h
        assert not b_frames(data)  # constrained-high
    # the refreshed info keeps the session and carries a usable token
    assert result.info.transcoder == info.transcoder
    assert result.info.auth_token.session_id == info.auth_token.session_id


def test_http2_gateway_gets_the_same_service(node_and_gateway, clips):
    """go-livepeer gateways post /segment over HTTP/2: it must not be mistaken for gRPC."""
    _, gw = node_and_gateway
    info = gw.get_orchestrator()
    ladder = COMMON_LADDER[:2]
    result = transcode(info, clips["360p"], ladder, http2=True)
    assert result.WhichOneof("result") == "data", result.error
    for profile, seg in zip(ladder, result.data.segments):
        frames, w, h, _ = probe(download(seg.url, http2=True))
        assert (frames, w, h) == (30, profile.width, profile.height)


def test_audio_is_carried_into_renditions(node_and_gateway, clips):
    _, gw = node_and_gateway
    result = transcode(gw.get_orchestrator(), clips["360p"], COMMON_LADDER[:1])
    with av.open(io.BytesIO(download(result.data.segments[0].url))) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]


def test_lpms_preset_with_a_set_frame_rate_and_gop(node_and_gateway, clips):
    _, gw = node_and_gateway
    half = VideoProfile("P240p15", 426, 240, 300_000, fps=15, gop_ms=500)
    result = transcode(gw.get_orchestrator(), clips["360p"], [lpms_preset("P144p30fps16x9"), half])
    assert result.WhichOneof("result") == "data", result.error
    p144, p240 = result.data.segments
    assert probe(download(p144.url))[:3] == (30, 256, 144)
    data = download(p240.url)
    frames, w, h, _ = probe(data)
    assert (frames, w, h) == (15, 426, 240)
    assert p240.pixels == 15 * 426 * 240
    with av.open(io.BytesIO(data)) as c:
        keys = [f.key_frame for f in c.decode(video=0)]
    assert [i for i, k in enumerate(keys) if k] == [0, 8]  # 500 ms GOP at 15 fps ≈ 8 frames


def test_status_shows_the_session_with_stats_and_a_preview(node_and_gateway, clips):
    node, gw = node_and_gateway
    info = gw.get_orchestrator()
    transcode(info, clips["180p"], COMMON_LADDER[:1], manifest=b"stream-42")
    st = node.status()
    assert st.running and st.encoder.startswith("libx264")
    session = next(s for s in st.sessions if s.session_id == info.auth_token.session_id)
    assert session.manifest_id == "stream-42"
    assert session.segments_done == 1
    assert session.pixels == 30 * 426 * 240
    assert session.profiles == ("240p0 426x240",)
    assert session.realtime_ratio is not None and session.realtime_ratio > 0
    assert isinstance(session.preview, np.ndarray) and session.preview.shape == (90, 160, 3)
    assert st.sessions_used >= 1 and st.max_sessions == 16


def test_odd_size_request_is_rounded_to_even_and_reported_as_encoded(node_and_gateway, clips):
    """427x241 used to fail in libx264 ("Generic error in an external library"); lpms's rule gives 426x240
    on a 16:9 source, and the pixels the gateway pays for are those of the encoded frames."""
    _, gw = node_and_gateway
    result = transcode(gw.get_orchestrator(), clips["180p"], [VideoProfile("odd", 427, 241, 300_000)])
    assert result.WhichOneof("result") == "data", result.error
    (seg,) = result.data.segments
    frames, w, h, _ = probe(download(seg.url))
    assert (frames, w, h) == (30, 426, 240)
    assert seg.pixels == 30 * 426 * 240
