"""Soak: the headless node (`lpc node`, offchain, libx264) under a mix of valid and hostile gateways.

    .venv/bin/python bench/soak.py [--minutes 10] [--valid 2] [--hostile 2]

Starts `lpc node` in a child process on loopback ports, then for the given time runs
- `--valid` gateways (from 127.0.0.1): a session per 20 segments (then EndTranscodingSession), 1 s
  320x180 segments with a one-rung
  ladder, alternately over HTTP/1.1 and HTTP/2; the round-trip time of each is recorded;
- `--hostile` clients (from 127.0.0.2, so the node's per-gateway share applies to them and not to the
  valid ones), each cycling through: a body trickled then stalled (cut at the upload deadline), 64 KB of
  garbage as a segment, a 64-rendition ladder, an undecodable Livepeer-Segment, an HTTP/2 upload killed
  half-way (TCP reset), gRPC over HTTP/1.1, and a 4 MB body behind a refused header over HTTP/2.
Everything goes to 127.0.0.1/127.0.0.2 only, one request at a time per client, each bounded by a timeout.

Prints the node process's RSS, threads and open fds, and p50/p99 of the valid round trips, for the
first and the last tenth of the run (at least 30 s each), and what each hostile case got back.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psutil  # noqa: E402

from core.media.profiles import COMMON_LADDER, VideoProfile, to_wire  # noqa: E402
from core.media.synthetic import make_segment  # noqa: E402
from core.proto import net  # noqa: E402
from tests.node.gateway import Gateway, headers_for, seg_data  # noqa: E402
from tests.node.h2_client import RawH2  # noqa: E402

LADDER = COMMON_LADDER[:1]
HOSTILE_IP = "127.0.0.2"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(data_dir: Path) -> tuple[subprocess.Popen, int, int]:
    port, mgmt = _free_port(), _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), "node", "--orchestrator", "--transcoder",
         "--offchain", "--service-addr", f"127.0.0.1:{port}", "--http-addr", f"0.0.0.0:{port}",
         "--cli-addr", f"127.0.0.1:{mgmt}", "--max-sessions", "8", "--encoder", "x264", "--x264-preset", "ultrafast"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(data_dir / "node.log", "w"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"lpc node exited {proc.returncode}: {(data_dir / 'node.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{mgmt}/status", timeout=2).json()["running"]:
                return proc, port, mgmt
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("lpc node did not start within 120 s")


class Figures:
    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.samples: list[tuple[float, int, int, int]] = []  # (t, rss, threads, fds)
        self.latencies: list[tuple[float, float]] = []  # (t, seconds) of valid round trips
        self.valid_failures = Counter()
        self.hostile = Counter()
        self.lock = threading.Lock()

    def sample(self) -> None:
        with self.proc.oneshot():
            self.samples.append((time.monotonic(), self.proc.memory_info().rss, self.proc.num_threads(),
                                 self.proc.num_fds()))


def valid_gateway(port: int, clip: bytes, stop: threading.Event, figures: Figures, index: int) -> None:
    gw = Gateway("127.0.0.1", port)
    clients = {False: httpx.Client(verify=False, timeout=30), True: httpx.Client(verify=False, http2=True, timeout=30)}
    try:
        seq = 0
        info = None
        while not stop.is_set():
            if seq % 20 == 0:  # a new stream: end the last session, as a go-livepeer gateway does
                if info is not None:
                    gw.end_session(info.auth_token)
                info = gw.get_orchestrator()
            headers = headers_for(seg_data(info, clip, LADDER, seq=seq, manifest=f"soak-{index}".encode()))
            t0 = time.monotonic()
            try:
                r = clients[seq % 2 == 1].post(info.transcoder + "/segment", content=clip, headers=headers)
                ok = r.status_code == 200 and net.TranscodeResult.FromString(r.content).WhichOneof("result") == "data"
                why = "ok" if ok else f"{r.status_code} {r.text[:60] if r.status_code != 200 else 'transcode error'}"
            except httpx.HTTPError as exc:
                ok, why = False, type(exc).__name__
            with figures.lock:
                if ok:
                    figures.latencies.append((t0, time.monotonic() - t0))
                else:
                    figures.valid_failures[why] += 1
            seq += 1
    finally:
        gw.close()
        for c in clients.values():
            c.close()


def _tls(port: int, alpn: str) -> ssl.SSLSocket:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(HOSTILE_IP, 0))
    return ctx.wrap_socket(raw)


def _status_line(tls: ssl.SSLSocket) -> str:
    reply = b""
    while b"\r\n" not in reply and (chunk := tls.recv(4096)):
        reply += chunk
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")


def hostile_client(port: int, clip: bytes, stop: threading.Event, figures: Figures) -> None:
    gw = Gateway("127.0.0.1", port)
    transport = httpx.HTTPTransport(verify=False, local_address=HOSTILE_IP)
    h1 = httpx.Client(transport=transport, timeout=30)
    many = [to_wire(VideoProfile(f"r{i}", 1280, 720, 30), net.VideoProfile) for i in range(64)]

    def slow_body() -> str:
        info = gw.get_orchestrator()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers_for(seg_data(info, clip, LADDER)).items())
        with _tls(port, "http/1.1") as tls:
            tls.sendall(f"POST /segment HTTP/1.1\r\nHost: x\r\nContent-Length: {len(clip)}\r\n{head}\r\n".encode())
            for i in range(0, 3000, 1000):  # a trickle, then nothing
                tls.sendall(clip[i:i + 1000])
                if stop.wait(0.5):
                    break
            return _status_line(tls)

    def garbage() -> str:
        info = gw.get_orchestrator()
        junk = os.urandom(64 * 1024)
        r = h1.post(info.transcoder + "/segment", content=junk, headers=headers_for(seg_data(info, junk, LADDER)))
        err = net.TranscodeResult.FromString(r.content).error if r.status_code == 200 else r.text
        return f"{r.status_code} {err[:50]}"

    def big_ladder() -> str:
        info = gw.get_orchestrator()
        seg = seg_data(info, clip, LADDER)
        del seg.fullProfiles3[:]
        seg.fullProfiles3.extend(many)
        r = h1.post(info.transcoder + "/segment", content=clip, headers=headers_for(seg))
        return f"{r.status_code} {r.text[:50]}"

    def bad_header() -> str:
        r = h1.post(f"https://127.0.0.1:{port}/segment", content=clip, headers=headers_for("@@notbase64"))
        return f"{r.status_code} {r.text[:50]}"

    def killed_upload() -> str:
        info = gw.get_orchestrator()
        c = RawH2(port, source_address=HOSTILE_IP)
        c.send_body(c.post_segment(headers_for(seg_data(info, clip, LADDER)), len(clip)), clip[: len(clip) // 2])
        c.kill()
        return "killed"

    def grpc_over_h1() -> str:
        r = h1.post(f"https://127.0.0.1:{port}/net.Orchestrator/GetOrchestrator", content=b"\0\0\0\0\0",
                    headers={"content-type": "application/grpc"})
        return f"{r.status_code} {r.text[:50]}"

    def early_refusal_h2() -> str:
        c = RawH2(port, source_address=HOSTILE_IP)
        try:
            body = os.urandom(4 * 1024 * 1024)
            stream = c.post_segment(headers_for("@@notbase64"), len(body))
            sent = c.upload_until_answered(stream, body)
            r = c.responses[stream]
            c.read_until(lambda: r["ended"] or r["reset"])
            return f"{r['status']} after {sent // 1024} KB of 4096"
        finally:
            c.kill()

    cases = [slow_body, garbage, big_ladder, bad_header, killed_upload, grpc_over_h1, early_refusal_h2]
    try:
        i = 0
        while not stop.is_set():
            case = cases[i % len(cases)]
            try:
                outcome = case()
            except (OSError, httpx.HTTPError, TimeoutError) as exc:
                outcome = f"client error {type(exc).__name__}"
            with figures.lock:
                figures.hostile[f"{case.__name__}: {_bucket(outcome)}"] += 1
            i += 1
    finally:
        gw.close()
        h1.close()


def _bucket(outcome: str) -> str:
    """Outcomes without the numbers that vary, so equal answers count together."""
    if " after " in outcome and " KB of " in outcome:
        kb = int(outcome.split(" after ")[1].split(" ")[0])
        return outcome.split(" after ")[0] + (" answered within the first 1 MB" if kb <= 1024 else " answered late")
    return outcome


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(figures: Figures, t_start: float, t_end: float) -> None:
    window = max(30.0, (t_end - t_start) / 10)
    first = [s for s in figures.samples if s[0] <= t_start + window]
    last = [s for s in figures.samples if s[0] >= t_end - window]
    lat_first = [d for t, d in figures.latencies if t <= t_start + window]
    lat_last = [d for t, d in figures.latencies if t >= t_end - window]
    print(f"\nsoak of {(t_end - t_start) / 60:.1f} min; windows of {window:.0f} s at the start and the end")
    print(f"{'':24}{'start':>12}{'end':>12}")
    print(f"{'node RSS (MB, max)':24}{max(s[1] for s in first) / 2**20:12.0f}{max(s[1] for s in last) / 2**20:12.0f}")
    print(f"{'node threads (max)':24}{max(s[2] for s in first):12d}{max(s[2] for s in last):12d}")
    print(f"{'node open fds (max)':24}{max(s[3] for s in first):12d}{max(s[3] for s in last):12d}")
    print(f"{'valid p50 (ms)':24}{_pct(lat_first, 0.5) * 1000:12.0f}{_pct(lat_last, 0.5) * 1000:12.0f}")
    print(f"{'valid p99 (ms)':24}{_pct(lat_first, 0.99) * 1000:12.0f}{_pct(lat_last, 0.99) * 1000:12.0f}")
    print(f"{'valid segments':24}{len(lat_first):12d}{len(lat_last):12d}   (all: {len(figures.latencies)}, "
          f"failed: {sum(figures.valid_failures.values())} {dict(figures.valid_failures) or ''})")
    print("hostile requests and what they got:")
    for what, n in sorted(figures.hostile.items()):
        print(f"  {n:6d}  {what}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--valid", type=int, default=2, help="valid gateways (threads)")
    ap.add_argument("--hostile", type=int, default=2, help="hostile clients (threads)")
    args = ap.parse_args()
    clip = make_segment(320, 180, 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, _ = start_node(Path(tmp))
        figures = Figures(proc.pid)
        stop = threading.Event()
        threads = [threading.Thread(target=valid_gateway, args=(port, clip, stop, figures, i), daemon=True)
                   for i in range(args.valid)]
        threads += [threading.Thread(target=hostile_client, args=(port, clip, stop, figures), daemon=True)
                    for _ in range(args.hostile)]
        t_start = time.monotonic()
        figures.sample()
        for t in threads:
            t.start()
        try:
            while time.monotonic() - t_start < args.minutes * 60:
                stop.wait(5)
                figures.sample()
                if proc.poll() is not None:
                    raise SystemExit(f"the node died (exit {proc.returncode})")
        finally:
            stop.set()
            t_end = time.monotonic()
            figures.sample()
            for t in threads:
                t.join(40)
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        errors = [ln for ln in (Path(tmp) / "node.log").read_text().splitlines() if " ERROR " in ln or "Traceback" in ln]
        report(figures, t_start, t_end)
        print(f"node log: {len(errors)} ERROR/traceback lines" + (f", first: {errors[0][:160]}" if errors else ""))


if __name__ == "__main__":
    main()
