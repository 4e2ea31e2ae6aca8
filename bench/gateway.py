"""The gateway's own cost on the HTTP push path, printed beside its baseline in one run.

    PYTHONPATH=. python bench/gateway.py [--runs 8] [--size 1280x720] [--seconds 1] [--streams 1,2,3 (default)]

Baseline: the segment posted straight to an lpc orchestrator's /segment (a go-livepeer-style gateway
client: GetOrchestrator once, then SegData + POST, then every rendition downloaded). Gateway: the same
segment pushed to `lpc node --gateway`'s /live/<mid>/<seq>.ts with `Accept: multipart/mixed` (so the
renditions come back in the reply), which probes it with PyAV, adds it to the playlists, has the
broadcaster send it to the same orchestrator, adds the renditions and answers. The difference of the
medians is the gateway's overhead per segment (issue #11 aims at <= 150 ms). Runs alternate, so the
machine's load falls on both alike; the load average is printed.

`--streams 1,2,3`: then N pushers at once, each pushing its own stream's segments at real time (one
per segment duration) for `--for` seconds; a level is sustained when every segment's reply came within
its duration (the renditions are in the playlist before the next segment is due).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from core.gateway.broadcast import NetworkBroadcaster  # noqa: E402
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
    ap.add_argument("--streams", default="1,2,3", help="comma list of concurrent stream counts to try ('': none)")
    ap.add_argument("--for", dest="for_s", type=float, default=10.0, help="seconds per concurrency level")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    segment = make_segment(width, height, args.seconds)
    ladder = parse(args.ladder)
    tmp = Path(tempfile.mkdtemp(prefix="lpc-bench-gw-"))

    levels = [int(n) for n in args.streams.split(",") if n.strip()]
    orch = Node(NodeConfig(data_dir=tmp / "orch", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0", cli_addr=None,
                           max_sessions=2 + sum(levels), gateway_session_share=1.0))
    # (every level's streams keep their orchestrator sessions until the idle timeout: room for all of them)
    status = orch.start()
    port = int(status.listening.rsplit(":", 1)[1])
    uri = f"https://127.0.0.1:{port}"
    # earlier levels' streams stay live until the push idle timeout: room for every level at once
    cfg = GatewayConfig(data_dir=tmp / "gw", rtmp_addr=None, http_addr="127.0.0.1:0", cli_addr=None,
                        orch_addrs=(uri,), transcoding_options=args.ladder, max_sessions=1 + sum(levels))
    broadcaster, which = NetworkBroadcaster(cfg), "NetworkBroadcaster"
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

    def concurrent(n: int) -> None:
        count = max(1, int(args.for_s / args.seconds))
        results: list[list[float]] = [[] for _ in range(n)]
        errors: list[str] = []

        def pusher(k: int) -> None:
            with httpx.Client(base_url=f"http://{gw_status.http}", timeout=60) as c:
                t0 = time.perf_counter()
                for seq in range(count):
                    due = t0 + seq * args.seconds
                    if (wait := due - time.perf_counter()) > 0:
                        time.sleep(wait)
                    t = time.perf_counter()
                    r = c.post(f"/live/load{n}x{k}/{seq}.ts", content=segment,
                               headers={"Content-Duration": str(round(args.seconds * 1000))})
                    if r.status_code == 200:
                        results[k].append(time.perf_counter() - t)
                    else:
                        errors.append(f"{r.status_code} {r.text.strip()[:160]}")


        with ThreadPoolExecutor(n) as pool:
            list(pool.map(pusher, range(n)))
        flat = sorted(x for r in results for x in r)
        late = sum(1 for x in flat if x > args.seconds) + len(errors)
        if flat:
            p90 = flat[min(len(flat) - 1, int(len(flat) * 0.9))]
            figures = f"median {statistics.median(flat) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms"
        else:
            figures = "no segment came back"
        print(f"  {n} concurrent {args.size} streams: {len(flat) + len(errors)} segments, {figures}, {len(errors)} failed, "
              f"{late} late or failed -> {'sustained' if not late else 'NOT sustained'} "
              f"(load average {os.getloadavg()[0]:.2f})")
        if errors:
            print(f"    first failure: {errors[0]}")

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
        for n in levels:
            concurrent(n)
    finally:
        client.close()
        direct_http.close()
        push_http.close()
        gw.stop()
        orch.stop()


if __name__ == "__main__":
    main()
