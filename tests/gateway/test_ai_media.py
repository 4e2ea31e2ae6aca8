"""The gateway's re-hosted AI results (core/gateway/ai_media.py): a ring of 12 files per request, a byte
bound, nothing stored for a file over the limit, and the HTTP side: `/stream/<requestID>/<file>` served
with the extension's Content-Type by a real GatewayNode, while the HLS paths under /stream/ still answer."""

from __future__ import annotations

import httpx
import pytest

from core.gateway.ai_media import AIMediaStore, MediaTooLarge, new_request_id
from core.gateway.broadcast import NetworkBroadcaster
from core.gateway.config import GatewayConfig
from core.gateway.node import GatewayNode


def test_a_result_comes_back_under_its_request_url():
    store = AIMediaStore()
    rid = new_request_id()
    url = store.put(rid, b"\x89PNG-bytes", ".png")
    assert url.startswith(f"/stream/{rid}/") and url.endswith(".png")
    got = store.get_path(url[len("/stream/"):])
    assert got.data == b"\x89PNG-bytes" and got.content_type == "image/png"
    assert store.get_path(f"{rid}/00000000.png") is None
    assert store.get_path("../etc/passwd") is None


def test_each_request_keeps_its_newest_twelve_files():
    store = AIMediaStore()
    rid = new_request_id()
    urls = [store.put(rid, bytes([i]) * 10, ".wav") for i in range(14)]
    kept = [u for u in urls if store.get_path(u[len("/stream/"):]) is not None]
    assert kept == urls[2:]
    assert store.bytes == 120


def test_the_oldest_files_go_when_the_store_is_full():
    store = AIMediaStore(max_bytes=1000, max_file_bytes=600)
    first = store.put(new_request_id(), b"a" * 500, ".png")
    second = store.put(new_request_id(), b"b" * 400, ".png")
    third = store.put(new_request_id(), b"c" * 300, ".png")
    assert store.get_path(first[8:]) is None
    assert store.get_path(second[8:]).data == b"b" * 400 and store.get_path(third[8:]).data == b"c" * 300
    assert store.bytes == 700
    with pytest.raises(MediaTooLarge, match="601 bytes is larger than the gateway keeps"):
        store.put(new_request_id(), b"d" * 601, ".png")
    assert store.bytes == 700


def test_a_dropped_request_leaves_nothing():
    store = AIMediaStore()
    rid = new_request_id()
    a = store.put(rid, b"x" * 5, ".mp4")
    store.drop_request(rid)
    assert store.get_path(a[8:]) is None and store.bytes == 0


def test_the_gateway_serves_results_with_their_type_and_hls_still_answers(tmp_path):
    config = GatewayConfig(data_dir=tmp_path, http_addr="127.0.0.1:0", cli_addr=None, rtmp_addr=None)
    node = GatewayNode(config, NetworkBroadcaster(config))
    status = node.start()
    try:
        rid = new_request_id()
        png = node.ai_media.put(rid, b"\x89PNG\r\n\x1a\n-not-really", ".png")
        wav = node.ai_media.put(rid, b"RIFF....WAVE", ".wav")
        mp4 = node.ai_media.put(rid, b"....ftypisom", ".mp4")
        base = f"http://{status.http}"
        for url, ctype, data in ((png, "image/png", b"\x89PNG\r\n\x1a\n-not-really"), (wav, "audio/wav", b"RIFF....WAVE"),
                                 (mp4, "video/mp4", b"....ftypisom")):
            r = httpx.get(base + url)
            assert r.status_code == 200 and r.headers["content-type"] == ctype and r.content == data
        assert httpx.head(base + png).headers["content-length"] == str(len(b"\x89PNG\r\n\x1a\n-not-really"))
        gone = httpx.get(f"{base}/stream/{rid}/ffffffff.png")
        assert gone.status_code == 404 and "no such stream" in gone.text  # the HLS answer for an unknown path
        assert httpx.get(f"{base}/stream/nosuch/source.m3u8").status_code == 404
    finally:
        node.stop()
