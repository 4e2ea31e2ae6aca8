"""The broadcaster's overhead per segment: NetworkBroadcaster.transcode against a direct /segment call
(POST + download of every rendition, one reused HTTP/2 client) of the same segment to the same local
offchain lpc orchestrator, alternating, in one run.

    .venv/bin/python bench/broadcast.py [--segments 10] [--size 1280x720] [--verify]

Prints the median and p90 of both, their difference (the issue's aim: gateway overhead <= 150 ms per
segment), and what the broadcaster adds by itself: the input check (PyAV open) and, with --verify, the
decoded pixel count of every rendition.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from eth_hash.auto import keccak  # noqa: E402

from core.gateway.broadcast import NetworkBroadcaster, check_input  # noqa: E402
from core.gateway.config import GatewayConfig  # noqa: E402
from core.gateway.discovery import get_orchestrator  # noqa: E402
from core.gateway.ports import SourceSegment  # noqa: E402
from core.gateway.verify import decoded_pixels  # noqa: E402
from core.media.profiles import LPMS_PRESETS, to_wire  # noqa: E402
from core.media.synthetic import make_segment  # noqa: E402
from core.node import Node, NodeConfig  # noqa: E402
from core.proto import net  # noqa: E402

LADDER = (LPMS_PRESETS["P240p30fps16x9"], LPMS_PRESETS["P360p30fps16x9"])


def direct(client: httpx.Client, info: net.OrchestratorInfo, data: bytes, seq: int) -> float:
    t0 = time.perf_counter()
    seg = net.SegData(manifestId=b"direct", seq=seq, hash=keccak(data), profiles=b"invalid", duration=2000)
    seg.auth_token.CopyFrom(info.auth_token)
    seg.fullProfiles3.extend(to_wire(p, net.VideoProfile) for p in LADDER)
    r = client.post(info.transcoder + "/segment", content=data, timeout=30,
                    headers={"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(),
                             "Livepeer-Payment": "", "Content-Type": "video/MP2T"})
    result = net.TranscodeResult.FromString(r.content)
    assert result.WhichOneof("result") == "data", result.error
    for s in result.data.segments:
        client.get(s.url).raise_for_status()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--verify", action="store_true", help="local verification on (decode every rendition)")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    data = make_segment(w, h, 2.0)
    tmp = Path(tempfile.mkdtemp())
    node = Node(NodeConfig(data_dir=tmp / "orch", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0", cli_addr=None,
                           max_sessions=4, encoder="x264", x264_preset="ultrafast", gateway_session_share=1.0))
    addr = "127.0.0.1:" + node.start().listening.rsplit(":", 1)[1]
    bc = NetworkBroadcaster(GatewayConfig(data_dir=tmp, orch_addrs=(addr,), discovery_timeout_s=3.0,
                                          local_verify=args.verify))
    client = httpx.Client(http2=True, verify=False)
    try:
        info = get_orchestrator(f"https://{addr}", net.OrchestratorRequest(address=bytes(20)))
        stream = bc.open("bench", LADDER)
        stream.transcode(SourceSegment("bench", 0, data, 2.0))  # warm both paths
        direct(client, info, data, 0)
        gw, dr = [], []
        for n in range(1, args.segments + 1):  # alternating which goes first
            if n % 2:
                dr.append(direct(client, info, data, n))
            t0 = time.perf_counter()
            stream.transcode(SourceSegment("bench", n, data, 2.0))
            gw.append(time.perf_counter() - t0)
            if not n % 2:
                dr.append(direct(client, info, data, n))
        t0 = time.perf_counter()
        for _ in range(10):
            check_input(SourceSegment("bench", 0, data, 2.0))
        check_ms = (time.perf_counter() - t0) * 100
        rendition = make_segment(640, 360, 2.0)
        t0 = time.perf_counter()
        decoded_pixels(rendition)
        decode_ms = (time.perf_counter() - t0) * 1000
    finally:
        client.close()
        bc.close()
        node.stop()

    def q(xs, p):
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000

    print(f"{args.segments} segments of 2 s {w}x{h} -> {', '.join(p.name for p in LADDER)}"
          f"{' (verify on)' if args.verify else ''}")
    print(f"  direct /segment + downloads : median {statistics.median(dr) * 1000:7.1f} ms  p90 {q(dr, 0.9):7.1f} ms")
    print(f"  NetworkBroadcaster.transcode: median {statistics.median(gw) * 1000:7.1f} ms  p90 {q(gw, 0.9):7.1f} ms")
    print(f"  overhead (median difference): {(statistics.median(gw) - statistics.median(dr)) * 1000:+7.1f} ms "
          "(aim <= 150 ms)")
    print(f"  of which input check {check_ms:.1f} ms; decoding one 2 s 360p rendition for verification {decode_ms:.1f} ms")


if __name__ == "__main__":
    main()
