"""The gateway's management API on -cliAddr as a go-livepeer operator's tools read it (livepeer_cli, a
Prometheus scraper): /status's NodeStatus shape, the broadcast config, the preset list, and the metric
names with node_type="bctr", after a real push transcoded by a real lpc orchestrator."""

from __future__ import annotations

import re
import socket
from fractions import Fraction

import httpx
import pytest

from core.media.profiles import LPMS_PRESETS
from core.media.synthetic import make_segment
from tests.gateway.direct import gateway_node, orchestrator, orchestrator_port


@pytest.fixture(scope="module")
def clip() -> bytes:
    return make_segment(640, 360, 1.0)


@pytest.fixture()
def gateway(tmp_path):
    started = []

    def make(**overrides):
        gw, broadcaster = gateway_node(tmp_path, **overrides)
        started.append(gw)
        st = gw.status()
        return (gw, broadcaster, httpx.Client(base_url=f"http://{st.http}", timeout=60),
                httpx.Client(base_url=f"http://{st.cli}", timeout=10))

    yield make
    for gw in started:
        gw.stop()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample, matched by exact name and a subset of its labels."""
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return None


def test_status_and_stream_ids_after_a_push(gateway, clip):
    port = orchestrator_port(orchestrator())
    gw, broadcaster, http, cli = gateway(orch_addrs=(f"127.0.0.1:{port}",))  # as -orchAddr gives it
    assert cli.get("/status").json()["OrchestratorPool"] == [f"https://127.0.0.1:{port}"]
    assert cli.get("/manifestID").text == "" and cli.get("/status").json()["Manifests"] == {}
    assert http.post("/live/abc/0.ts", content=clip, headers={"Content-Duration": "1000"}).status_code == 200
    status = cli.get("/status").json()
    for key in ("Manifests", "InternalManifests", "StreamInfo", "OrchestratorPool", "OrchestratorPoolInfos",
                "Version", "GolangRuntimeVersion", "GOArch", "GOOS", "RegisteredTranscodersNumber",
                "RegisteredTranscoders", "LocalTranscoding", "BroadcasterPrices"):
        assert key in status, key
    variants = status["Manifests"]["abc"]["Variants"]
    assert [(v["URI"], v["Bandwidth"], v["Resolution"]) for v in variants] == [
        ("abc/source.m3u8", 4000000, "640x360"), ("abc/P240p30fps16x9.m3u8", 600000, "426x240"),
        ("abc/P360p30fps16x9.m3u8", 1200000, "640x360")]
    info = status["StreamInfo"]["abc"]
    assert info["SourceBytes"] == len(clip) and info["TranscodedBytes"] > 0
    assert status["OrchestratorPool"] == [broadcaster.uri]  # one entry: the configured one is the one in use
    (pool_info,) = status["OrchestratorPoolInfos"]
    assert (pool_info["Url"], pool_info["Score"]) == (broadcaster.uri, 1) and pool_info["Latency"] >= 0
    (stream,) = status["Streams"]
    assert stream["manifest_id"] == "abc" and stream["segments_done"] == 1
    assert stream["pool"]["in_use"] == broadcaster.uri
    assert cli.get("/manifestID").text == "abc"
    assert cli.get("/streamID").text == "abc/source"
    assert cli.get("/localStreams").json() == []
    assert cli.get("/healthz").status_code == 200
    assert cli.get("/metrics").status_code == 404  # only with -monitor
    assert cli.get("/nothing").status_code == 404


def test_broadcast_config_is_read_and_set_for_new_streams(gateway, clip):
    gw, broadcaster, http, cli = gateway()
    assert cli.get("/getBroadcastConfig").json() == {"MaxPrice": None,
                                                     "TranscodingOptions": "P240p30fps16x9,P360p30fps16x9"}
    assert sorted(cli.get("/getAvailableTranscodingOptions").json()) == sorted(LPMS_PRESETS)
    assert http.post("/live/before/0.ts", content=clip).status_code == 200

    r = cli.post("/setBroadcastConfig", data={"transcodingOptions": "P144p30fps16x9,P240p30fpsXX"})
    assert r.status_code == 400 and "'P240p30fpsXX'" in r.text and "P240p30fps16x9" in r.text
    r = cli.post("/setBroadcastConfig", data={"maxPricePerUnit": "10"})
    assert r.status_code == 400 and "go together" in r.text
    r = cli.post("/setBroadcastConfig", data={"maxPricePerUnit": "1", "pixelsPerUnit": "1", "currency": "USD"})
    assert r.status_code == 400 and "price feed" in r.text
    assert cli.get("/getBroadcastConfig").json()["TranscodingOptions"] == "P240p30fps16x9,P360p30fps16x9"
    assert cli.get("/setBroadcastConfig").status_code == 405
    r = cli.post("/setBroadcastConfig", data={"maxPricePerUnit": "1000", "pixelsPerUnit": "1"},
                 headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "web page" in r.text
    assert cli.get("/getBroadcastConfig").json()["MaxPrice"] != "1000"

    r = cli.post("/setBroadcastConfig", data={"transcodingOptions": "P144p30fps16x9", "maxPricePerUnit": "10",
                                             "pixelsPerUnit": "4"})
    assert r.status_code == 200, r.text
    assert cli.get("/getBroadcastConfig").json() == {"MaxPrice": "5/2", "TranscodingOptions": "P144p30fps16x9"}
    assert broadcaster.max_price() == Fraction(5, 2)  # the broadcaster filters new streams' orchestrators by it
    # a new stream gets the new ladder; the live one keeps its own
    assert http.post("/live/after/0.ts", content=clip).status_code == 200
    assert re.findall(r"after/(\w+)\.m3u8", http.get("/stream/after.m3u8").text) == ["source", "P144p30fps16x9"]
    assert http.post("/live/before/1.ts", content=clip).status_code == 200
    assert "before/P360p30fps16x9.m3u8" in http.get("/stream/before.m3u8").text
    r = cli.post("/setBroadcastConfig", data={"maxPricePerUnit": "0", "pixelsPerUnit": "1"})
    assert r.status_code == 200 and cli.get("/getBroadcastConfig").json()["MaxPrice"] is None
    assert broadcaster.max_price() is None


def test_metrics_carry_go_livepeers_gateway_names(gateway, clip):
    gw, broadcaster, http, cli = gateway(monitor=True)
    assert http.post("/live/m/0.ts", content=clip).status_code == 200
    assert http.post("/live/m/1.ts", content=b"\x47" * 1000).status_code == 422  # refused: counts nowhere
    text = cli.get("/metrics").text
    bctr = {"node_type": "bctr"}
    assert sample(text, "livepeer_stream_created_total", **bctr) == 1
    assert sample(text, "livepeer_current_sessions_total", **bctr) == 1
    assert sample(text, "livepeer_max_sessions_total", **bctr) == 10
    assert sample(text, "livepeer_segment_source_appeared_total", **bctr, profile="source") == 1
    assert sample(text, "livepeer_segment_transcoded_total", **bctr,
                  profiles="P240p30fps16x9,P360p30fps16x9") == 1
    assert sample(text, "livepeer_transcode_overall_latency_seconds_count", **bctr) == 1
    assert sample(text, "livepeer_success_rate", **bctr) == 1

    broadcaster.point_at("127.0.0.1", 9)  # the next stream finds no orchestrator
    assert http.post("/live/lost/0.ts", content=clip).status_code == 503
    text = cli.get("/metrics").text
    assert sample(text, "livepeer_segment_transcode_failed_total", **bctr, error_code="NoOrchestrators") == 1
    assert sample(text, "livepeer_success_rate", **bctr) == 0.5
    gw.streams.get("m").end()
    assert sample(cli.get("/metrics").text, "livepeer_stream_ended_total", **bctr) == 1


def test_the_gateway_does_not_start_on_a_bad_ladder_or_a_taken_port(tmp_path):
    from core.gateway.config import GatewayConfig
    from core.gateway.node import GatewayNode, GatewayStartError
    from core.gateway.broadcast import NetworkBroadcaster

    cfg = GatewayConfig(data_dir=tmp_path, rtmp_addr=None, http_addr="127.0.0.1:0", cli_addr=None,
                        transcoding_options="P240p30fps16x9,P999p", orch_addrs=("127.0.0.1:9",))
    bad = GatewayNode(cfg, NetworkBroadcaster(cfg))
    with pytest.raises(GatewayStartError, match="-transcodingOptions: unknown transcoding profile 'P999p'"):
        bad.start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        cfg = GatewayConfig(data_dir=tmp_path, rtmp_addr=None, http_addr=f"127.0.0.1:{port}", cli_addr=None,
                            orch_addrs=("127.0.0.1:9",))
        node = GatewayNode(cfg, NetworkBroadcaster(cfg))
        with pytest.raises(GatewayStartError, match=f"cannot listen on 127.0.0.1:{port}"):
            node.start()
        assert not node.status().running


def test_count_views_keep_go_livepeers_names_without_total():
    """What the broadcaster reports (ports.BroadcastObserver) lands under go-livepeer's exact names:
    its count views carry no _total, so a dashboard written for go-livepeer finds them."""
    from core.gateway.metrics import GatewayMetrics
    from core.gateway.ports import TranscodeError

    metrics = GatewayMetrics(node_id="n1")
    metrics.swapped("abc", "https://a:8935", "https://b:8935")
    metrics.attempt_failed("abc", 3, "https://a:8935", TranscodeError("SubmitSegment", "refused"), 1)
    metrics.paid("abc", "https://b:8935", 2, 1500)
    metrics.discovery_error("https://c:8935", "no TLS answer")
    text = metrics.render().decode()
    labels = {"node_type": "bctr", "node_id": "n1"}
    assert sample(text, "livepeer_orchestrator_swaps", **labels) == 1
    assert sample(text, "livepeer_transcode_retried", **labels, **{"try": "1"}) == 1
    assert sample(text, "livepeer_tickets_sent", **labels) == 2
    assert sample(text, "livepeer_ticket_value_sent", **labels) == 1500
    assert sample(text, "livepeer_discovery_errors_total", **labels) == 1
    assert "# TYPE livepeer_orchestrator_swaps counter" in text
    for name in ("livepeer_orchestrator_swaps_total", "livepeer_tickets_sent_total", "livepeer_ticket_value_sent_total"):
        assert sample(text, name) is None


def test_metrics_per_stream_add_the_manifest_id_label():
    from core.gateway.metrics import GatewayMetrics

    metrics = GatewayMetrics(node_id="n1", per_stream=True)
    metrics.source_segment("abc", 2.0)
    metrics.segment_failed("abc", "MaxAttempts")
    metrics.swapped("abc", "https://a:8935", "https://b:8935")
    text = metrics.render().decode()
    assert sample(text, "livepeer_segment_source_appeared_total", manifestID="abc", profile="source") == 1
    assert sample(text, "livepeer_segment_transcode_failed_total", manifestID="abc", error_code="MaxAttempts") == 1
    assert sample(text, "livepeer_orchestrator_swaps", manifestID="abc", node_type="bctr") == 1
    plain = GatewayMetrics(node_id="n2")
    plain.source_segment("abc", 2.0)
    assert "manifestID" not in plain.render().decode()
