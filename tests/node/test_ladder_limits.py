"""A ladder whose renditions add up to too many output pixels is refused with a 413 before anything is
decoded: each libx264 encoder holds ~45 bytes per pixel of its frame (8 x 4096x2160 would be ~3 GB for
one segment). A real 2160p..240p ladder still fits."""

import pytest

from core.media.profiles import MAX_LADDER_PIXELS, VideoProfile, to_wire
from core.node.segment_http import Refusal, ladder_of
from core.proto import net
from tests.node.gateway import headers_for, post_segment, seg_data

UHD_LADDER = [VideoProfile(n, w, h, 1_000_000) for n, w, h in (
    ("2160p", 3840, 2160), ("1440p", 2560, 1440), ("1080p", 1920, 1080), ("720p", 1280, 720),
    ("480p", 854, 480), ("360p", 640, 360), ("240p", 426, 240))]


def test_eight_4k_renditions_are_413_before_the_body(node_factory, clips):
    node, gw = node_factory(max_sessions=2)
    info = gw.get_orchestrator()
    ladder = [VideoProfile(f"4k{i}", 4096, 2160, 8_000_000) for i in range(8)]
    r = post_segment(info, clips["180p"], headers_for(seg_data(info, clips["180p"], ladder)))
    assert r.status_code == 413
    assert "70,778,880 pixels per frame" in r.text and "at most 17,694,720" in r.text
    assert "node.max_ladder_pixels" in r.text
    st = node.status()
    assert st.segments_done + st.segments_failed == 0 and st.sessions_used == 0


def test_a_2160p_to_240p_ladder_fits_and_one_pixel_more_than_the_limit_does_not():
    seg = net.SegData()
    seg.fullProfiles3.extend(to_wire(p, net.VideoProfile) for p in UHD_LADDER)
    assert [p.name for p in ladder_of(seg)] == [p.name for p in UHD_LADDER]
    total = sum(p.width * p.height for p in UHD_LADDER)
    assert total <= MAX_LADDER_PIXELS
    with pytest.raises(Refusal) as refused:
        ladder_of(seg, max_pixels=total - 1)
    assert refused.value.status == 413 and f"{total:,} pixels per frame" in refused.value.message


def test_lpc_node_flag_sets_the_ladder_pixel_limit(tmp_path, clips):
    from chain.devnet.anvil import free_port
    from core.media.profiles import COMMON_LADDER
    from tests.node.gateway import Gateway
    from tests.node.test_node_assembly import HeadlessNode

    data = tmp_path / "data"
    port, mgmt = free_port(), free_port()
    node = HeadlessNode(data, mgmt, "--service-addr", f"127.0.0.1:{port}", "--http-addr", f"127.0.0.1:{port}",
                        "--cli-addr", f"127.0.0.1:{mgmt}", "--max-ladder-pixels", "500000", "--encoder-threads", "1")
    try:
        node.status()
        gw = Gateway("127.0.0.1", port)
        try:
            info = gw.get_orchestrator()
        finally:
            gw.close()
        r = post_segment(info, clips["180p"], headers_for(seg_data(info, clips["180p"], COMMON_LADDER)))
        assert r.status_code == 413 and "1,664,160 pixels per frame" in r.text and "at most 500,000" in r.text
        small = COMMON_LADDER[:2]  # 332,640 pixels
        r = post_segment(info, clips["180p"], headers_for(seg_data(info, clips["180p"], small)))
        assert r.status_code == 200 and net.TranscodeResult.FromString(r.content).WhichOneof("result") == "data"
    finally:
        node.stop()
