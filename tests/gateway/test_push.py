"""HTTP push into the gateway and HLS out, over real sockets, with real transcodes by a real lpc
orchestrator (tests/gateway/direct.py): the multipart reply, the playlists a player reads, and every bad
push refused before an orchestrator is touched."""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import shutil
import socket
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from core.media.synthetic import make_segment
from tests.gateway.direct import gateway_node, orchestrator
from tests.node.gateway import probe
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def clip() -> bytes:
    return make_segment(640, 360, 1.0)


@pytest.fixture()
def gateway(tmp_path):
    started = []

    def make(**overrides):
        gw, broadcaster = gateway_node(tmp_path, **overrides)
        started.append(gw)
        return gw, broadcaster, httpx.Client(base_url=f"http://{gw.status().http}", timeout=60)

    yield make
    for gw in started:
        gw.stop()


def parts(response: httpx.Response) -> list:
    """The parts of a multipart/mixed reply, as email.message objects."""
    raw = b"Content-Type: " + response.headers["content-type"].encode() + b"\r\n\r\n" + response.content
    return list(email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw).iter_parts())


def orchestrator_work() -> tuple[int, int, int]:
    st = orchestrator().status()
    return st.segments_done, st.segments_failed, len(st.sessions)


def test_a_pushed_segment_comes_back_as_renditions_and_in_the_playlists(gateway, clip):
    gw, _, http = gateway()
    r = http.post("/live/abc/0.ts", content=clip, headers={"Accept": "multipart/mixed", "Content-Duration": "1000"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("multipart/mixed; boundary=")
    got = parts(r)
    assert [p["Rendition-Name"] for p in got] == ["P240p30fps16x9", "P360p30fps16x9"]  # no source part
    for part, (w, h) in zip(got, [(426, 240), (640, 360)]):
        name = f"{part['Rendition-Name']}_0.ts"
        assert part["Content-Type"] == f'video/mp2t; name="{name}"'
        assert part["Content-Disposition"] == f'attachment; filename="{name}"'
        body = part.get_payload(decode=True)
        assert int(part["Content-Length"]) == len(body)
        assert probe(body)[:3] == (30, w, h)

    master = http.get("/stream/abc.m3u8")
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/x-mpegURL"
    assert master.headers["cache-control"] == "max-age=5"
    assert master.headers["access-control-allow-origin"] == "*"
    assert master.text == (
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=4000000,RESOLUTION=640x360\nabc/source.m3u8\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=600000,RESOLUTION=426x240\nabc/P240p30fps16x9.m3u8\n"
        "#EXT-X-STREAM-INF:PROGRAM-ID=0,BANDWIDTH=1200000,RESOLUTION=640x360\nabc/P360p30fps16x9.m3u8\n"
    )
    media = http.get("/stream/abc/P240p30fps16x9.m3u8").text
    assert media == ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:1\n"
                     "#EXTINF:1.000,\n/stream/abc/P240p30fps16x9/0.ts\n")
    seg = http.get("/stream/abc/P240p30fps16x9/0.ts")
    assert seg.status_code == 200 and probe(seg.content)[:3] == (30, 426, 240)
    assert seg.headers["content-type"] == "video/mp2t"
    assert http.get("/stream/abc/source/0.ts").content == clip
    (view,) = gw.streams_view()
    assert (view.manifest_id, view.origin, view.segments_done, view.source_resolution) == ("abc", "push", 1, (640, 360))
    assert view.recent[0].latency_s > 0 and view.recent[0].error == ""

    # a second push without Accept: 200, empty body; both segments listed by number
    r = http.post("/live/abc/1.ts", content=clip, headers={"Content-Duration": "1000"})
    assert r.status_code == 200 and r.content == b""
    assert "/stream/abc/P360p30fps16x9/1.ts" in http.get("/stream/abc/P360p30fps16x9.m3u8").text


def test_unknown_paths_404_before_the_first_segment_and_after_the_stream_ends(gateway, clip):
    gw, broadcaster, http = gateway(push_idle_s=0.3, max_attempts=0, current_manifest=True)  # no transcode needed here
    assert http.get("/stream/idle.m3u8").status_code == 404
    assert http.get("/stream/current.m3u8").status_code == 404
    assert http.get("/stream/idle/source.m3u8").status_code == 404
    assert http.get("/healthz").status_code == 200
    assert http.post("/live/idle/0.ts", content=clip).status_code == 200
    assert http.get("/stream/idle/source.m3u8").status_code == 200
    assert http.get("/stream/current.m3u8").text == http.get("/stream/idle.m3u8").text
    assert http.head("/stream/idle/source/0.ts").headers["content-length"] == str(len(clip))
    assert http.get("/stream/idle/P240p30fps16x9.m3u8").status_code == 404  # -maxAttempts 0: no renditions
    # no push for push_idle_s: the stream ends and everything of it answers 404
    wait_for(lambda: http.get("/stream/idle.m3u8").status_code == 404, 10, "the idle pushed stream to end")
    assert http.get("/stream/idle/source/0.ts").status_code == 404
    assert gw.streams_view() == () and broadcaster.closed == ["idle"]


@pytest.mark.parametrize("body, status, words", [
    (b"", 400, "empty body"),
    (b"\x47" + b"garbage!" * 500, 422, "not MPEG-TS with a video stream"),
])
def test_garbage_and_empty_pushes_are_refused_and_no_orchestrator_sees_them(gateway, body, status, words):
    gw, broadcaster, http = gateway()
    before = orchestrator_work()
    r = http.post("/live/bad/0.ts", content=body)
    assert r.status_code == status and words in r.text
    assert broadcaster.opened == [] and broadcaster.transcodes == 0
    assert orchestrator_work() == before
    assert http.get("/stream/bad.m3u8").status_code == 404 and gw.streams_view() == ()


def test_an_mp4_push_without_video_is_refused(gateway):
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:  # a real MP4 holding only audio
        a = out.add_stream("aac", rate=48000, layout="stereo")
        import numpy as np
        frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), dtype=np.float32), format="fltp", layout="stereo")
        frame.rate = 48000
        for packet in a.encode(frame):
            out.mux(packet)
        for packet in a.encode(None):
            out.mux(packet)
    _, broadcaster, http = gateway()
    r = http.post("/live/aud/0.mp4", content=buf.getvalue())
    assert r.status_code == 422 and "no video stream" in r.text
    assert broadcaster.opened == []


def _raw(address: str, request: bytes, then: bytes = b"", timeout: float = 10) -> bytes:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        if then:
            s.sendall(then)
        data = b""
        while not _complete(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return len(body) >= length


def test_a_declared_length_over_the_cap_is_413_without_reading_the_body(gateway):
    gw, broadcaster, _ = gateway(max_segment_bytes=1 << 20)
    # the headers alone, no byte of the 2 MB body ever sent: the answer must come anyway
    answer = _raw(gw.status().http, b"POST /live/big/0.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"\r\nconnection: close\r\n" in answer.lower()  # the unread body makes the connection unusable
    assert b"2097152 bytes is larger than this gateway takes (1048576 bytes)" in answer
    assert broadcaster.opened == []


def test_a_body_that_stops_arriving_is_cut_with_408(gateway):
    gw, broadcaster, http = gateway(read_timeout_s=0.3)
    answer = _raw(gw.status().http, b"POST /live/slow/0.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
                  then=b"\x47" * 100)
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive in time: 100 bytes in" in answer
    assert broadcaster.opened == []
    assert http.get("/healthz").status_code == 200  # the gateway serves on


def test_a_chunked_body_over_the_cap_is_413(gateway):
    gw, broadcaster, _ = gateway(max_segment_bytes=64 * 1024)
    chunk = b"\x47" * 40_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(2)) + b"0\r\n\r\n"
    answer = _raw(gw.status().http, b"POST /live/chunked/0.ts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                  then=body)
    assert answer.startswith(b"HTTP/1.1 413") and b"(65536 bytes)" in answer
    assert broadcaster.opened == []


@pytest.mark.parametrize("method, path, status, words", [
    ("GET", "/live/abc/0.ts", 405, "POST or PUT"),
    ("POST", "/live/abc/0.m3u8", 400, "ignoring file extension"),
    ("POST", "/live/.ts", 400, "Bad URL"),
    ("POST", "/live/a/b/0.ts", 400, "Bad URL"),
])
def test_bad_push_requests_get_go_livepeers_statuses(gateway, clip, method, path, status, words):
    _, broadcaster, http = gateway()
    r = http.request(method, path, content=clip if method == "POST" else None)
    assert r.status_code == status and words in r.text
    assert broadcaster.opened == []


def test_push_is_off_when_http_ingest_is_off(gateway, clip):
    _, broadcaster, http = gateway(http_ingest=False)
    r = http.post("/live/abc/0.ts", content=clip)
    assert r.status_code == 404 and "HTTP push is off" in r.text
    assert broadcaster.opened == []


def test_max_sessions_refuses_the_next_stream_with_503_and_words(gateway, clip):
    gw, broadcaster, http = gateway(max_sessions=1, max_attempts=0)
    assert http.post("/live/one/0.ts", content=clip).status_code == 200
    r = http.post("/live/two/0.ts", content=clip)
    assert r.status_code == 503 and "too many streams: 1 live of the 1" in r.text
    assert broadcaster.opened == ["one"]
    assert http.post("/live/one/1.ts", content=clip).status_code == 200  # the live one carries on


def test_an_orchestrator_that_cannot_be_reached_gives_503_and_the_failure_in_words(gateway, clip, tmp_path):
    gw, broadcaster, http = gateway()
    broadcaster.point_at("127.0.0.1", _closed_port())
    r = http.post("/live/lost/0.ts", content=clip)
    assert r.status_code == 503 and "No sessions available" in r.text
    assert http.get("/stream/lost/source.m3u8").status_code == 200  # the source is still served
    (view,) = gw.streams_view()
    assert view.segments_failed == 1 and view.recent[-1].error.startswith("NoOrchestrators: ")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Webhook(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Webhook.seen.append(body)
        if "/deny/" in body["url"]:
            self.send_response(403)
            self.end_headers()
            return
        if "/junk/" in body["url"]:
            answer = b"<html>not json</html>"
        elif "/typo/" in body["url"]:
            answer = json.dumps({"presets": ["P144p30fps16X9"]}).encode()
        else:
            answer = json.dumps({"manifestID": "renamed", "presets": ["P144p30fps16x9"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture()
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    _Webhook.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/auth"
    server.shutdown()
    server.server_close()


def test_the_auth_webhook_refuses_and_renames(gateway, clip, webhook):
    gw, broadcaster, http = gateway(auth_webhook_url=webhook)
    r = http.post("/live/deny/0.ts", content=clip)
    assert r.status_code == 403 and "auth webhook refused the stream (it answered 403)" in r.text
    assert broadcaster.opened == []
    r = http.post("/live/junk/0.ts", content=clip)
    assert r.status_code == 403 and "the auth webhook's answer is not JSON" in r.text
    r = http.post("/live/typo/0.ts", content=clip)
    assert r.status_code == 403 and "unknown transcoding profile 'P144p30fps16X9'" in r.text
    assert broadcaster.opened == []
    r = http.post("/live/orig/0.ts", content=clip, headers={"Accept": "multipart/mixed"})
    assert r.status_code == 200, r.text
    assert [p["Rendition-Name"] for p in parts(r)] == ["P144p30fps16x9"]
    assert probe(parts(r)[0].get_payload(decode=True))[1:3] == (256, 144)
    assert _Webhook.seen[-1] == {"url": f"http://{gw.status().http}/live/orig/0.ts"}
    assert http.get("/stream/orig.m3u8").status_code == 404
    assert "renamed/P144p30fps16x9.m3u8" in http.get("/stream/renamed.m3u8").text
    # the next push to the publisher's name goes to the same stream; the webhook is not asked again
    assert http.post("/live/orig/1.ts", content=clip).status_code == 200
    assert len(_Webhook.seen) == 4 and broadcaster.opened == ["renamed"]
    assert "/stream/renamed/P144p30fps16x9/1.ts" in http.get("/stream/renamed/P144p30fps16x9.m3u8").text


def test_concurrent_first_pushes_to_one_manifest_make_one_stream(gateway, clip):
    gw, broadcaster, http = gateway(max_attempts=0)
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda seq: http.post(f"/live/race/{seq}.ts", content=clip).status_code, range(4)))
    assert codes == [200] * 4
    assert broadcaster.opened == ["race"]
    assert [v.segments_in for v in gw.streams_view()] == [4]


def test_pushed_segments_are_listed_by_number_in_a_window_of_six(gateway, clip):
    _, _, http = gateway(max_attempts=0)  # the source playlist alone: no transcode needed
    for seq in (1, 0, 3, 2, 4, 5, 7, 6):
        assert http.post(f"/live/win/{seq}.ts", content=clip, headers={"Content-Duration": "1500"}).status_code == 200
    text = http.get("/stream/win/source.m3u8").text
    assert "#EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-TARGETDURATION:2\n" in text
    assert re.findall(r"#EXTINF:([\d.]+),\n/stream/win/source/(\d+)\.ts", text) == [
        ("1.500", str(n)) for n in range(2, 8)]


def test_a_push_may_choose_its_ladder_with_livepeer_transcode_configuration(gateway, clip):
    _, broadcaster, http = gateway()
    r = http.post("/live/own/0.ts", content=clip, headers={"Livepeer-Transcode-Configuration": "{not json"})
    assert r.status_code == 400 and "Livepeer-Transcode-Configuration is not JSON" in r.text
    ladder = {"profiles": [{"name": "tiny", "width": 256, "height": 144, "bitrate": 200000, "fps": 15}]}
    r = http.post("/live/own/0.ts", content=clip, headers={"Livepeer-Transcode-Configuration": json.dumps(ladder),
                                                          "Accept": "multipart/mixed"})
    assert r.status_code == 200, r.text
    (part,) = parts(r)
    assert part["Rendition-Name"] == "tiny" and probe(part.get_payload(decode=True))[:3] == (15, 256, 144)
    assert "BANDWIDTH=200000,RESOLUTION=256x144\nown/tiny.m3u8" in http.get("/stream/own.m3u8").text


def test_stop_ends_the_streams_and_frees_the_ports(gateway, clip):
    gw, broadcaster, http = gateway(max_attempts=0)
    assert http.post("/live/bye/0.ts", content=clip).status_code == 200
    address = gw.status().http
    gw.stop()
    gw.stop()  # twice is harmless
    assert broadcaster.closed == ["bye"] and gw.streams_view() == ()
    assert not gw.status().running
    host, port = address.rsplit(":", 1)
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()
    assert not [t for t in threading.enumerate() if t.name == "lpc-gateway"]


@pytest.mark.skipif(not (shutil.which("ffprobe") and shutil.which("ffmpeg")), reason="needs the ffmpeg CLI")
def test_ffmpegs_hls_client_plays_the_gateways_playlists(gateway):
    """A real HLS client: ffprobe finds the three variants through the master playlist, and ffmpeg plays
    the 240p media playlist from its first segment across the segment boundary."""
    gw, _, http = gateway()
    for seq in range(2):
        segment = make_segment(640, 360, 1.0, start_seconds=seq)
        assert http.post(f"/live/play/{seq}.ts", content=segment, headers={"Content-Duration": "1000"}).status_code == 200
    base = f"http://{gw.status().http}/stream"
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json",
                             f"{base}/play.m3u8"], capture_output=True, text=True, timeout=30)
    assert probed.returncode == 0, probed.stderr
    sizes = [(s["width"], s["height"]) for s in json.loads(probed.stdout)["streams"]]
    assert sizes == [(640, 360), (426, 240), (640, 360)]
    played = subprocess.run(["ffmpeg", "-v", "error", "-live_start_index", "0", "-i",
                             f"{base}/play/P240p30fps16x9.m3u8", "-frames:v", "40", "-f", "framemd5", "-"],
                            capture_output=True, text=True, timeout=30)
    assert played.returncode == 0, played.stderr
    assert len([line for line in played.stdout.splitlines() if line.startswith("0,")]) == 40


def test_content_resolution_names_the_source_variant_and_a_bad_one_is_400(gateway, clip):
    _, broadcaster, http = gateway(max_attempts=0)
    r = http.post("/live/res/0.ts", content=clip, headers={"Content-Resolution": "wide"})
    assert r.status_code == 400 and "must be WIDTHxHEIGHT" in r.text and broadcaster.opened == []
    r = http.post("/live/res/0.ts", content=clip, headers={"Content-Slice-From": "900", "Content-Slice-To": "100"})
    assert r.status_code == 400 and "Content-Slice-From is after Content-Slice-To" in r.text
    assert http.post("/live/res/0.ts", content=clip, headers={"Content-Resolution": "1920x1080",
                                                             "Content-Duration": "soon"}).status_code == 200
    assert "BANDWIDTH=4000000,RESOLUTION=1920x1080\nres/source.m3u8" in http.get("/stream/res.m3u8").text
    assert "#EXTINF:2.000," in http.get("/stream/res/source.m3u8").text  # not a number: 2000 ms, as go-livepeer


def test_an_early_refusal_leaves_the_keep_alive_connection_usable(gateway, clip):
    """A header refused before the body is read (400) drops the small body first, so the client's next
    push on the same connection is served (before, the server closed it under the client's feet)."""
    _, _, http = gateway(max_attempts=0)
    for seq in range(3):
        r = http.post(f"/live/keep/{seq}.ts", content=clip, headers={"Content-Resolution": "wide"})
        assert r.status_code == 400 and "connection" not in r.headers
        assert http.post(f"/live/keep/{seq}.ts", content=clip).status_code == 200
