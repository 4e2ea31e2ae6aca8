"""The node half of bench/lv2v.py: one live session through a real `lpc node --orchestrator --aiWorker`
(a separate process, offchain), driven the way the livepeer-gateway SDK drives it, timed per frame.

    GetOrchestrator (gRPC, auth token) -> POST {transcoder}/live-video-to-video {model_id, params}
    -> publish MPEG-TS segments (H.264, 512x512, 30 fps, 1 s each, IDR first) to publish_url, each frame's
       bytes written into the open POST when its time comes (30 fps pacing, as a camera would)
    -> subscribe to subscribe_url, reading the output stream as it arrives; a frame is "out" when the first
       TS packet of its PES (found by its PTS) arrives
    -> per frame: out - in (the end-to-end latency) and out - in - the model's own time per frame
       (the node's figure from /status when it reports one, else the pipeline alone in this process)

The client's side is this file (httpx over HTTP/1.1, a small TS packet reader), not the SDK: the SDK
would add its own encoder and decoder to every figure. Frames are paired by PTS when the node keeps the
input's timestamps, else by order (and it says so).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FPS = 30
SEGMENT_FRAMES = 30
TS_PACKET = 188


# ------------------------------------------------------------------------------------- MPEG-TS reading
@dataclass
class TsReader:
    """Feed bytes as they arrive; `starts` gets (pts, byte offset) of each video PES start."""

    starts: list[tuple[int | None, int]] = field(default_factory=list)
    _buf: bytes = b""
    _offset: int = 0  # stream offset of _buf[0]

    def feed(self, data: bytes) -> list[int | None]:
        """The PTSs of the video frames that began in `data` (with what was left over before)."""
        self._buf += data
        found = []
        i = 0
        while len(self._buf) - i >= TS_PACKET:
            if self._buf[i] != 0x47:  # lost sync: look for the next sync byte
                j = self._buf.find(b"\x47", i + 1)
                if j < 0:
                    i = len(self._buf)
                    break
                i = j
                continue
            pkt = self._buf[i:i + TS_PACKET]
            pts = _video_pes_start(pkt)
            if pts is not False:
                self.starts.append((pts, self._offset + i))
                found.append(pts)
            i += TS_PACKET
        self._offset += i
        self._buf = self._buf[i:]
        return found


def _video_pes_start(pkt: bytes):
    """The PTS (or None) when this TS packet starts a video PES, else False."""
    if not pkt[1] & 0x40:  # payload_unit_start_indicator
        return False
    afc = (pkt[3] >> 4) & 3
    if afc == 2:  # adaptation field only
        return False
    p = 4 + (1 + pkt[4] if afc == 3 else 0)
    payload = pkt[p:]
    if len(payload) < 9 or payload[:3] != b"\x00\x00\x01" or not 0xE0 <= payload[3] <= 0xEF:
        return False
    if not payload[7] & 0x80 or len(payload) < 14:
        return None
    b = payload[9:14]
    return ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


# ------------------------------------------------------------------------------------- the input clip
def encode_segments(frames: list[np.ndarray]) -> list[list[tuple[int, bytes]]]:
    """The clip as self-contained 1 s MPEG-TS segments (PAT/PMT, IDR first, PTS continuing across them),
    each cut into per-frame pieces: [(pts, bytes from this frame's PES start to the next)]."""
    import av

    segments = []
    for s0 in range(0, len(frames), SEGMENT_FRAMES):
        buf = io.BytesIO()
        out = av.open(buf, "w", format="mpegts")
        st = out.add_stream("libx264", rate=FPS)
        st.width, st.height, st.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        st.codec_context.time_base = Fraction(1, FPS)
        st.options = {"preset": "superfast", "tune": "zerolatency", "bf": "0", "g": str(SEGMENT_FRAMES)}
        for j, rgb in enumerate(frames[s0:s0 + SEGMENT_FRAMES]):
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            vf.pts = s0 + j
            vf.time_base = Fraction(1, FPS)
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
        out.close()
        data = buf.getvalue()
        reader = TsReader()
        reader.feed(data)
        cuts = [off for _pts, off in reader.starts]
        cuts[0] = 0  # PAT/PMT go with the first frame
        pieces = [(reader.starts[k][0], data[cuts[k]:cuts[k + 1] if k + 1 < len(cuts) else len(data)])
                  for k in range(len(cuts))]
        segments.append(pieces)
    return segments


# ------------------------------------------------------------------------------------- the node
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """`lpc node --orchestrator --aiWorker --offchain` serving only the live model `model_id`."""

    def __init__(self, model_id: str, data_dir: Path):
        self.port, self.cli = _free_port(), _free_port()
        models = data_dir / "aiModels.json"
        models.write_text(json.dumps([{"pipeline": "live-video-to-video", "model_id": model_id, "warm": True}]))
        lpc = Path(sys.executable).with_name("lpc")
        cmd = [str(lpc), "--data-dir", str(data_dir), "node", "--orchestrator", "--ai-worker", "--offchain",
               "--service-addr", f"127.0.0.1:{self.port}", "--cli-addr", f"127.0.0.1:{self.cli}",
               "--ai-models", str(models)]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO)
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if "node up" in line or self.proc.poll() is not None:
                break
        if "node up" not in line:
            rest = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.close()
            raise RuntimeError(f"lpc node did not start: {line}{rest}"[-2000:])
        # keep draining stderr so the node never blocks on a full pipe
        import threading

        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_session(node: Node, model_id: str, params: dict) -> dict:
    """GetOrchestrator for capability 35 + model, then POST /live-video-to-video as the SDK does."""
    import httpx

    from core.gateway.discovery import get_orchestrator
    from core.proto import net

    cap = 35
    caps = net.Capabilities(bitstring=[0] * (cap // 64) + [1 << (cap % 64)])
    caps.capacities[cap] = 1
    caps.constraints.PerCapability[cap].models[model_id].CopyFrom(
        net.Capabilities.CapabilityConstraints.ModelConstraint())
    req = net.OrchestratorRequest(address=b"\0" * 20, ignoreCapacityCheck=True)
    req.capabilities.CopyFrom(caps)
    info = get_orchestrator(f"127.0.0.1:{node.port}", req)
    seg = net.SegData(manifestId=f"{cap}_{model_id}".encode())
    seg.auth_token.CopyFrom(info.auth_token)
    headers = {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(), "Livepeer-Payment": "",
               "Content-Type": "application/json", "Accept": "application/json"}
    r = httpx.post(f"{info.transcoder.rstrip('/')}/live-video-to-video", headers=headers,
                   json={"model_id": model_id, "params": params}, verify=False, timeout=30)
    if r.status_code // 100 != 2:
        raise RuntimeError(f"live-video-to-video answered {r.status_code}: {r.text[:300]}")
    return r.json()


def node_status(node: Node, manifest_id: str) -> dict | None:
    """This session's figures as the node reports them (/status on the management port), if it does."""
    import httpx

    try:
        st = httpx.get(f"http://127.0.0.1:{node.cli}/status", timeout=5).json()
    except Exception:
        return None
    found = []

    def walk(v):
        if isinstance(v, dict):
            if v.get("manifest_id") == manifest_id:
                found.append(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(st)
    return found[0] if found else None


# ------------------------------------------------------------------------------------- trickle client
async def publish(client, url: str, segments, sent: dict, t0: float) -> None:
    """Each segment as one POST {url}/{seq}, its frames' bytes written at 30 fps."""
    r = await client.get(f"{url}/next")
    seq = int(r.headers.get("Lp-Trickle-Latest", "0")) if r.status_code == 200 else 0
    frame_no = 0
    for k, pieces in enumerate(segments):
        async def body(pieces=pieces, start=frame_no):
            for j, (pts, data) in enumerate(pieces):
                due = t0 + (start + j) / FPS
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent[pts] = time.monotonic()
                yield data
        headers = {"Content-Type": "video/mp2t"}
        if k == 0:
            headers["Lp-Trickle-Reset"] = "1"
        resp = await client.post(f"{url}/{seq + k}", content=body(), headers=headers)
        if resp.status_code != 200:
            raise RuntimeError(f"publish segment {seq + k}: HTTP {resp.status_code} {resp.text[:200]}")
        frame_no += len(pieces)
    await asyncio.sleep(1.0)  # let the last frames come out before the channel closes
    await client.delete(url)


async def subscribe(client, url: str, arrived: dict, order: list, stop: asyncio.Event) -> None:
    reader = TsReader()
    seq = 0
    misses = 0
    while not stop.is_set():
        async with client.stream("GET", f"{url}/{seq}") as resp:
            if resp.status_code == 404 or "Lp-Trickle-Closed" in resp.headers:
                return
            if resp.status_code == 470:
                latest = int(resp.headers.get("Lp-Trickle-Latest", seq))
                if latest < seq:
                    await asyncio.sleep(0.05)
                else:
                    seq = latest
                continue
            if resp.status_code != 200:
                misses += 1
                if misses > 5:
                    return
                await asyncio.sleep(0.2)
                continue
            seq = int(resp.headers.get("Lp-Trickle-Seq", seq)) + 1
            async for chunk in resp.aiter_raw():
                now = time.monotonic()
                for pts in reader.feed(chunk):
                    arrived.setdefault(pts, now)
                    order.append(now)


async def run_session(info: dict, segments, timeout_s: float) -> tuple[dict, dict, list]:
    import httpx

    sent: dict = {}
    arrived: dict = {}
    order: list = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(verify=False, timeout=httpx.Timeout(30, read=30)) as client:
        t0 = time.monotonic() + 0.3
        sub = asyncio.create_task(subscribe(client, info["subscribe_url"].rstrip("/"), arrived, order, stop))
        try:
            await asyncio.wait_for(publish(client, info["publish_url"].rstrip("/"), segments, sent, t0), timeout_s)
            await asyncio.wait_for(sub, 15)
        except asyncio.TimeoutError:
            pass
        finally:
            stop.set()
            sub.cancel()
    return sent, arrived, order


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def through_node(model_id: str, params: dict, frames: list[np.ndarray], model_ms_alone: float) -> dict:
    """End-to-end per-frame figures of one session through a real node."""
    segments = encode_segments(frames)
    with tempfile.TemporaryDirectory(prefix="lpc-bench-lv2v-") as tmp:
        env_cache = os.environ.get("LPC_AI_CACHE")
        node = Node(model_id, Path(tmp))
        try:
            info = start_session(node, model_id, params)
            sent, arrived, order = asyncio.run(run_session(info, segments, timeout_s=len(frames) / FPS + 30))
            status = node_status(node, info.get("manifest_id", ""))
        finally:
            node.close()
        del env_cache
    paired_by = "pts"
    latencies = [arrived[p] - sent[p] for p in sent if p in arrived]
    if len(latencies) < 0.5 * len(order):  # the node re-timestamped its output: pair by order
        paired_by = "order"
        ins = [sent[p] for p in sorted(sent)]
        latencies = [o - i for o, i in zip(order, ins)]
    model_ms = model_ms_alone
    model_from = "alone"
    if status and status.get("model_ms_p50"):
        model_ms, model_from = float(status["model_ms_p50"]), "node"
    frames_out = len(order)
    fps = (frames_out - 1) / (order[-1] - order[0]) if frames_out > 1 and order[-1] > order[0] else 0.0
    e2e = [x * 1000 for x in latencies]
    added = [x - model_ms for x in e2e]
    return {"frames_in": len(sent), "frames_out": frames_out, "fps": fps, "paired_by": paired_by,
            "e2e_p50": statistics.median(e2e) if e2e else float("nan"),
            "e2e_p95": pct(e2e, 0.95) if e2e else float("nan"),
            "added_p50": statistics.median(added) if added else float("nan"),
            "added_p95": pct(added, 0.95) if added else float("nan"),
            "model_ms": model_ms, "model_from": model_from, "status": status}
