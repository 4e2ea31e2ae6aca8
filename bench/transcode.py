"""Transcoding speed: the node's /segment against the ffmpeg CLI, same segments, same encoder settings.

    .venv/bin/python bench/transcode.py [--segments 3] [--preset veryfast]

Makes real-looking 2 s 720p30 segments (moving content, noise, AAC audio), then
1. sends them one after another through a local offchain node's /segment (common 4-rung ladder),
2. transcodes them with one ffmpeg CLI process per segment (split + bicubic scale, identical libx264
   options from core.media.encoders), and prints both times and their ratio, and the CPU seconds each
   used (this process's for the node, the children's for ffmpeg): on a machine shared with other work
   the wall times follow the load, the CPU seconds much less;
3. runs 1, 2 and 4 concurrent sessions through the node and prints livepeer_bench's real-time
   duration ratio (transcode wall time / source duration; <= 0.8 is the capacity rule) and the most OS
   threads the process had meanwhile (renditions are encoded on one pool per node, node.encoder_threads).
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psutil  # noqa: E402
from eth_hash.auto import keccak  # noqa: E402

from core.media.encoders import encoder_options, ffmpeg_cli_args, probe_encoder  # noqa: E402
from core.media.profiles import COMMON_LADDER, to_wire  # noqa: E402
from core.media.rendition_pool import default_threads  # noqa: E402
from core.media.synthetic import make_segment  # noqa: E402
from core.node import Node, NodeConfig  # noqa: E402
from core.proto import net  # noqa: E402

SEGMENT_S = 2.0


def _rpc(port: int, method: str, request, response_type):
    import ssl

    import grpc

    pem = ssl.get_server_certificate(("127.0.0.1", port)).encode()
    with grpc.secure_channel(f"127.0.0.1:{port}", grpc.ssl_channel_credentials(pem),
                             options=[("grpc.ssl_target_name_override", "localhost")]) as ch:
        call = ch.unary_unary(f"/net.Orchestrator/{method}", request_serializer=type(request).SerializeToString,
                              response_deserializer=response_type.FromString)
        return call(request, timeout=10)


def get_orchestrator(port: int) -> net.OrchestratorInfo:
    return _rpc(port, "GetOrchestrator", net.OrchestratorRequest(ignoreCapacityCheck=True), net.OrchestratorInfo)


def run_session(port: int, segments: list[bytes]) -> float:
    """Send every segment through /segment in one session; returns wall seconds."""
    info = get_orchestrator(port)
    wire = [to_wire(p, net.VideoProfile) for p in COMMON_LADDER]
    started = time.perf_counter()
    with httpx.Client(verify=False, timeout=60) as client:
        for seq, data in enumerate(segments):
            seg = net.SegData(manifestId=b"bench", seq=seq, hash=keccak(data), duration=int(SEGMENT_S * 1000),
                              profiles=b"invalid", auth_token=info.auth_token)
            seg.fullProfiles3.extend(wire)
            r = client.post(info.transcoder + "/segment", content=data, headers={
                "Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(),
                "Livepeer-Payment": "", "Content-Type": "video/MP2T"})
            if r.status_code != 200:
                raise SystemExit(f"segment {seq} refused: {r.status_code} {r.text}")
            result = net.TranscodeResult.FromString(r.content)
            if result.WhichOneof("result") != "data":
                raise SystemExit(f"segment {seq} failed: {result.error}")
    wall = time.perf_counter() - started
    _rpc(port, "EndTranscodingSession", net.EndTranscodingSessionRequest(auth_token=info.auth_token),
         net.EndTranscodingSessionResponse)  # free the slot now rather than after 70 s idle
    return wall


def ffmpeg_command(src: Path, out_dir: Path, encoder) -> list[str]:
    n = len(COMMON_LADDER)
    graph = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)) + ";" + ";".join(
        f"[s{i}]scale={p.width}:{p.height}:flags=bicubic[o{i}]" for i, p in enumerate(COMMON_LADDER))
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-filter_complex", graph]
    for i, p in enumerate(COMMON_LADDER):
        opts = encoder_options(p, encoder, Fraction(30))
        cmd += ["-map", f"[o{i}]", "-map", "0:a?", *ffmpeg_cli_args(encoder.name, opts), "-c:a", "copy",
                "-f", "mpegts", str(out_dir / f"{src.stem}_{i}.ts")]
    return cmd


def run_ffmpeg(paths: list[Path], out_dir: Path, encoder) -> float:
    started = time.perf_counter()
    for src in paths:
        subprocess.run(ffmpeg_command(src, out_dir, encoder), check=True)
    return time.perf_counter() - started


class PeakThreads:
    """The most OS threads this process had while the block ran (sampled every 10 ms)."""

    def __enter__(self):
        self.peak, self._done = 0, threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._done.wait(0.01):
            self.peak = max(self.peak, proc.num_threads())

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._sampler.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=3)
    ap.add_argument("--preset", default="veryfast")
    args = ap.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg CLI not found (apt-get install -y ffmpeg)")
    print(f"making {args.segments} x 2 s 720p30 segments…", flush=True)
    segments = [make_segment(1280, 720, SEGMENT_S, 30, bitrate=6_000_000, preset="veryfast", audio=True,
                             start_seconds=i * SEGMENT_S, seed=i) for i in range(args.segments)]
    work = Path(tempfile.mkdtemp(prefix="lpc-bench-"))
    paths = []
    for i, data in enumerate(segments):
        paths.append(work / f"seg{i}.ts")
        paths[-1].write_bytes(data)
    encoder = probe_encoder("x264", x264_preset=args.preset)
    node = Node(NodeConfig(data_dir=work / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                           cli_addr=None, max_sessions=4, encoder="x264", x264_preset=args.preset,
                           # every bench session comes from 127.0.0.1: let one gateway hold all four
                           gateway_session_share=1.0))
    status = node.start()
    port = int(status.listening.rsplit(":", 1)[1])
    try:
        run_session(port, segments[:1])  # warm-up
        source_s = SEGMENT_S * len(segments)
        own = psutil.Process()
        cpu = own.cpu_times()
        node_s = run_session(port, segments)
        node_cpu = sum(own.cpu_times()[:2]) - sum(cpu[:2])
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        ffmpeg_s = run_ffmpeg(paths, work, encoder)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ffmpeg_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        print(f"\nladder: {', '.join(f'{p.name} {p.width}x{p.height}' for p in COMMON_LADDER)}; "
              f"libx264 preset {args.preset}; {len(segments)} segments = {source_s:.0f} s of 720p30")
        print(f"node /segment : {node_s:6.2f} s   {node_cpu:6.2f} CPU s")
        print(f"ffmpeg CLI    : {ffmpeg_s:6.2f} s   {ffmpeg_cpu:6.2f} CPU s")
        print(f"node / ffmpeg : {node_s / ffmpeg_s:6.2f}x  ({(node_s / ffmpeg_s - 1) * 100:+.0f} %)   "
              f"CPU {node_cpu / ffmpeg_cpu:.2f}x")
        print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"\nconcurrent sessions -> real-time duration ratio (<= 0.8 fits), peak OS threads of this process "
              f"(encoder pool: {default_threads()} threads)")
        for n in (1, 2, 4):
            with PeakThreads() as threads, ThreadPoolExecutor(n) as pool:
                walls = list(pool.map(lambda _: run_session(port, segments), range(n)))
            ratio = max(walls) / source_s
            print(f"  {n}: {ratio:5.2f}   {threads.peak:4d} threads")
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
