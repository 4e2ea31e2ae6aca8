"""The gateway's own cost on the HTTP push path, printed beside its baseline in one run.

    PYTHONPATH=. python bench/gateway_push.py [--runs 8] [--size 1280x720] [--seconds 1]

Baseline: the segment posted straight to an lpc orchestrator's /segment (a go-livepeer-style gateway
client: GetOrchestrator once, then SegData + POST, then every rendition downloaded). Gateway: the same
segment pushed to `lpc node --gateway`'s /live/<mid>/<seq>.ts with `Accept: multipart/mixed` (so the
renditions come back in the reply), which probes it with PyAV, adds it to the playlists, has the
broadcaster send it to the same orchestrator, adds the renditions and answers. The difference of the
medians is the gateway's overhead per segment (issue #11 aims at <= 150 ms). Runs alternate, so the
machine's load falls on both alike; the load average is printed.

The broadcaster is the engine's NetworkBroadcaster when this build has it, else the test adapter
tests/gateway/direct.py (which does what the baseline does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from core.gateway.config import GatewayConfig  # noqa: E402
from core.gateway.node import GatewayNode  # noqa: E402
from core.gateway.transcoding_options import parse  # noqa: E402
from core.media.synthetic import make_segment  # noqa: E402
from core.node import Node, NodeConfig  # noqa: E402
from core.proto import net  # noqa: E402
from tests.node.gateway import Gateway, headers_for, seg_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--ladder", default="P240p30fps16x9,P360p30fps16x9")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    segment = make_segment(width, height, args.seconds)
    ladder = parse(args.ladder)
    tmp = Path(tempfile.mkdtemp(prefix="lpc-bench-gw-"))

    orch = Node(NodeConfig(data_dir=tmp / "orch", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0", cli_addr=None,
                           max_sessions=4, gateway_session_share=1.0))
    status = orch.start()
    port = int(status.listening.rsplit(":", 1)[1])
    uri = f"https://127.0.0.1:{port}"
    cfg = GatewayConfig(data_dir=tmp / "gw", rtmp_addr=None, http_addr="127.0.0.1:0", cli_addr=None,
                        orch_addrs=(uri,), transcoding_options=args.ladder)
    try:
        from core.gateway.broadcast import NetworkBroadcaster

        broadcaster, which = NetworkBroadcaster(cfg), "NetworkBroadcaster"
    except ImportError:
        from tests.gateway.direct import DirectBroadcaster

        broadcaster, which = DirectBroadcaster("127.0.0.1", port), "tests/gateway/direct.py DirectBroadcaster"
    gw = GatewayNode(cfg, broadcaster)
    gw_status = gw.start()
    client = Gateway("127.0.0.1", port)
    info = client.get_orchestrator()
    direct_http = httpx.Client(verify=False, timeout=60)
    push_http = httpx.Client(base_url=f"http://{gw_status.http}", timeout=60)

    def direct(seq: int) -> float:
        nonlocal info
        t0 = time.perf_counter()
        seg = seg_data(info, segment, ladder, seq=seq, manifest=b"bench-direct", duration_ms=round(args.seconds * 1000))
        r = direct_http.post(info.transcoder + "/segment", content=segment, headers=headers_for(seg))
        r.raise_for_status()
        result = net.TranscodeResult.FromString(r.content)
        assert result.WhichOneof("result") == "data", result.error
        for s in result.data.segments:
            direct_http.get(s.url).raise_for_status()
        info = result.info if result.info.transcoder else info
        return time.perf_counter() - t0

    def push(seq: int) -> float:
        t0 = time.perf_counter()
        r = push_http.post(f"/live/bench/{seq}.ts", content=segment, headers={
            "Accept": "multipart/mixed", "Content-Duration": str(round(args.seconds * 1000)),
            "Content-Resolution": args.size})
        assert r.status_code == 200, r.text
        return time.perf_counter() - t0

    try:
        direct(0), push(0)  # warm: sessions, connections, encoders
        d, p = [], []
        for i in range(1, args.runs + 1):
            d.append(direct(i))
            p.append(push(i))
        md, mp = statistics.median(d), statistics.median(p)
        print(f"{args.size} {args.seconds:g} s segment, ladder {args.ladder}, {args.runs} alternating runs, "
              f"broadcaster: {which}, load average {os.getloadavg()[0]:.2f}")
        print(f"  direct /segment + downloads : median {md * 1000:7.1f} ms  (min {min(d) * 1000:.1f}, max {max(d) * 1000:.1f})")
        print(f"  push through the gateway    : median {mp * 1000:7.1f} ms  (min {min(p) * 1000:.1f}, max {max(p) * 1000:.1f})")
        print(f"  gateway overhead            : {(mp - md) * 1000:+7.1f} ms per segment (aim <= 150 ms)")
    finally:
        client.close()
        direct_http.close()
        push_http.close()
        gw.stop()
        orch.stop()


if __name__ == "__main__":
    main()
