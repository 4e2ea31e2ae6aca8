"""The gateway's playlists (core/gateway/hls.py) as a player reads them: go-livepeer's master and media
shapes, the sliding window, MEDIA-SEQUENCE equal to the first number shown (also after a lost
segment), out-of-order arrival, bytes kept for the last 12, everything gone after remove."""

import re

from core.gateway.hls import HlsPlaylists
from core.media.profiles import VideoProfile, lpms_preset

P240, P360 = lpms_preset("P240p30fps16x9"), lpms_preset("P360p30fps16x9")


def media_lines(text: str) -> tuple[int, list[tuple[str, str]]]:
    """(MEDIA-SEQUENCE, [(EXTINF value, URI)]) of a media playlist."""
    lines = text.splitlines()
    seq = int(next(line for line in lines if line.startswith("#EXT-X-MEDIA-SEQUENCE:")).split(":")[1])
    entries = [(lines[i].split(":")[1].rstrip(","), lines[i + 1]) for i, line in enumerate(lines)
               if line.startswith("#EXTINF:")]
    return seq, entries


def uri_seqs(text: str) -> list[int]:
    return [int(re.search(r"/(\d+)\.ts$", uri).group(1)) for _, uri in media_lines(text)[1]]


def test_master_exists_only_after_the_first_source_segment_and_lists_variants_as_they_land():
    hls = HlsPlaylists()
    hls.describe("abc", (P240, P360))
    assert hls.master("abc") is None
    hls.add("abc", "P240p30fps16x9", 0, 2.0, b"early")  # a rendition before any source: no manifest yet
    assert hls.master("abc") is None and hls.media("abc", "P240p30fps16x9") is None
    hls.add("abc", "source", 0, 2.0, b"src0", resolution=(1280, 720))
    assert hls.master("abc") == (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=4000000,RESOLUTION=1280x720\nabc/source.m3u8\n"
    )
    hls.add("abc", "P360p30fps16x9", 0, 2.0, b"r360")  # 360p lands before 240p: listed first
    hls.add("abc", "P240p30fps16x9", 0, 2.0, b"r240")
    assert hls.master("abc") == (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=4000000,RESOLUTION=1280x720\nabc/source.m3u8\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=1200000,RESOLUTION=640x360\nabc/P360p30fps16x9.m3u8\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=600000,RESOLUTION=426x240\nabc/P240p30fps16x9.m3u8\n"
    )


def test_a_source_of_unknown_size_says_0x0_and_a_custom_profile_its_own_bitrate():
    hls = HlsPlaylists()
    hls.describe("m", (VideoProfile("low", 320, 180, 250_000),))
    hls.add("m", "source", 0, 2.0, b"s")
    hls.add("m", "low", 0, 2.0, b"l")
    assert "BANDWIDTH=4000000,RESOLUTION=0x0\nm/source.m3u8" in hls.master("m")
    assert "BANDWIDTH=250000,RESOLUTION=320x180\nm/low.m3u8" in hls.master("m")


def test_media_playlist_slides_at_six_with_media_sequence_the_first_number_shown():
    hls = HlsPlaylists(live_window=6)
    for seq in range(9):
        hls.add("abc", "source", seq, 2.0 if seq != 4 else 2.3456, b"x")
    text = hls.media("abc", "source")
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-TARGETDURATION:3\n")
    seq, entries = media_lines(text)
    assert seq == 3
    assert entries == [("2.000", "/stream/abc/source/3.ts"), ("2.346", "/stream/abc/source/4.ts")] + [
        ("2.000", f"/stream/abc/source/{n}.ts") for n in range(5, 9)]
    assert "#EXT-X-ENDLIST" not in text


def test_out_of_order_segments_are_inserted_by_number():
    hls = HlsPlaylists()
    for seq in (0, 2, 1, 4, 3):
        hls.add("abc", "source", seq, 2.0, f"s{seq}".encode())
    assert uri_seqs(hls.media("abc", "source")) == [0, 1, 2, 3, 4]
    assert hls.segment("abc", "source", 2) == b"s2"


def test_a_lost_rendition_segment_does_not_shift_its_media_sequence():
    """go-livepeer counts MEDIA-SEQUENCE per segment dropped, so a rendition that lost segment 2 would say
    one less than the source for ever; here both say the first number they show."""
    hls = HlsPlaylists()
    for seq in range(12):
        hls.add("abc", "source", seq, 2.0, b"s")
        if seq != 2:
            hls.add("abc", "P240p30fps16x9", seq, 2.0, b"r")
    assert uri_seqs(hls.media("abc", "P240p30fps16x9")) == [6, 7, 8, 9, 10, 11]
    assert media_lines(hls.media("abc", "P240p30fps16x9"))[0] == 6
    assert media_lines(hls.media("abc", "source"))[0] == 6
    # while the hole is in the window the rendition lists what it has, from the first number it holds
    hls2 = HlsPlaylists()
    for seq in range(5):
        if seq != 2:
            hls2.add("m", "source", seq, 2.0, b"s")
    assert media_lines(hls2.media("m", "source"))[0] == 0
    assert uri_seqs(hls2.media("m", "source")) == [0, 1, 3, 4]


def test_bytes_are_kept_for_the_last_twelve_segments():
    hls = HlsPlaylists()
    for seq in range(14):
        hls.add("abc", "source", seq, 2.0, f"s{seq}".encode())
    assert hls.segment("abc", "source", 0) is None and hls.segment("abc", "source", 1) is None
    assert hls.segment("abc", "source", 2) == b"s2" and hls.segment("abc", "source", 13) == b"s13"
    hls.add("abc", "source", 0, 2.0, b"late")  # older than all kept: not kept, window unchanged
    assert hls.segment("abc", "source", 0) is None
    assert uri_seqs(hls.media("abc", "source")) == list(range(8, 14))


def test_remove_makes_every_path_of_the_manifest_unknown_and_late_renditions_are_dropped():
    hls = HlsPlaylists()
    hls.add("abc", "source", 0, 2.0, b"s")
    hls.add("abc", "P240p30fps16x9", 0, 2.0, b"r")
    hls.add("other", "source", 0, 2.0, b"o")
    hls.remove("abc")
    assert hls.master("abc") is None and hls.media("abc", "source") is None
    assert hls.segment("abc", "P240p30fps16x9", 0) is None
    hls.add("abc", "P240p30fps16x9", 1, 2.0, b"late")
    assert hls.master("abc") is None
    assert hls.current() == "other" and hls.master("other") is not None
