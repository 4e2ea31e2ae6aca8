"""Test helpers for RTMP ingest: a Streams that records what ingest hands it (it stands in for the
gateway's own streams.py, not for anything outside lpc), the ffmpeg CLI as a publisher, and a raw RTMP
client for what ffmpeg will not send (bare paths, hostile bytes)."""

from __future__ import annotations

import io
import random
import shutil
import socket
import string
import subprocess
import threading
from dataclasses import dataclass, field

import av

from core.gateway import amf0
from core.gateway.ports import SourceSegment, StreamRefused, StreamStart, TranscodedSegment
from core.gateway.rtmp_chunks import COMMAND_AMF0, ChunkReader, Message, encode_message

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


@dataclass
class CollectedStream:
    manifest_id: str
    start: StreamStart
    segments: list[SourceSegment] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event | None = None  # when given, segment() waits for it (a transcode in progress)

    def segment(self, segment: SourceSegment) -> TranscodedSegment:
        if self.gate is not None:
            self.gate.wait(30)
        self.segments.append(segment)
        return TranscodedSegment(seq=segment.seq, renditions=(), orchestrator="none (test)", attempts=1,
                                 latency_s=0.0)

    def end(self) -> None:
        self.ended.set()

    def seqs(self) -> list[int]:
        return sorted(s.seq for s in self.segments)


class CollectingStreams:
    """Streams as ingest sees it: one live stream per manifest, at most `max_streams`, a random 4-character
    manifest ID when none is given; every stream ever started is kept in `history`."""

    def __init__(self, max_streams: int = 10, gate: threading.Event | None = None) -> None:
        self.max_streams = max_streams
        self.gate = gate
        self.live: dict[str, CollectedStream] = {}
        self.history: list[CollectedStream] = []
        self.lock = threading.Lock()

    def start(self, start: StreamStart) -> CollectedStream:
        with self.lock:
            self.live = {m: s for m, s in self.live.items() if not s.ended.is_set()}
            mid = start.manifest_id or "".join(random.choices(string.ascii_lowercase + string.digits, k=4))
            if mid in self.live:
                raise StreamRefused(f"stream {mid} is already live")
            if len(self.live) >= self.max_streams:
                raise StreamRefused("Too many connections", status=500)
            stream = CollectedStream(mid, start, gate=self.gate)
            self.live[mid] = stream
            self.history.append(stream)
            return stream

    def get(self, manifest_id: str) -> CollectedStream | None:
        with self.lock:
            stream = self.live.get(manifest_id)
            return stream if stream is not None and not stream.ended.is_set() else None

    def named(self, manifest_id: str) -> list[CollectedStream]:
        return [s for s in self.history if s.manifest_id == manifest_id]


def ffmpeg_publish(url: str, seconds: float, *, size: str = "320x180", gop: int = 30, realtime: bool = False,
                   audio: bool = True) -> subprocess.Popen:
    """The ffmpeg CLI publishing lavfi testsrc (+ a sine tone) as H.264/AAC FLV to `url`, a keyframe every
    `gop` frames at 30 fps."""
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error"]
    if realtime:
        cmd.append("-re")
    cmd += ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=30"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    cmd += ["-t", str(seconds), "-c:v", "libx264", "-preset", "superfast", "-profile:v", "main",
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-pix_fmt", "yuv420p"]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "64k"]
    cmd += ["-f", "flv", url]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass(frozen=True)
class Decoded:
    width: int
    height: int
    profile: str
    keyframe_first: bool
    video_pts: list[int]  # 90 kHz
    audio_packets: int


def decode_segment(data: bytes) -> Decoded:
    """Decode every frame of an MPEG-TS segment on its own (as a player that joins at it would)."""
    with av.open(io.BytesIO(data), format="mpegts") as container:
        video = container.streams.video[0]
        audio_packets = 0
        frames = []
        for packet in container.demux():
            if packet.stream.type == "audio" and packet.size:
                audio_packets += 1
            elif packet.stream.type == "video":
                frames.extend(packet.decode())
        return Decoded(video.codec_context.width, video.codec_context.height, video.codec_context.profile or "",
                       bool(frames) and frames[0].key_frame, sorted(f.pts for f in frames), audio_packets)


class RawRtmpClient:
    """A minimal RTMP publisher over a plain socket (handshake, connect, createStream, publish), for
    paths ffmpeg will not publish to and for watching how the server answers."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = ChunkReader()
        self.messages: list[Message] = []

    def handshake(self) -> None:
        self.sock.sendall(b"\x03" + bytes(1536))
        got = self._exactly(1 + 1536 + 1536)
        assert got[0] == 3
        self.sock.sendall(got[1:1537])  # C2 = echo of S1

    def _exactly(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def command(self, *values, stream_id: int = 0) -> None:
        self.sock.sendall(encode_message(Message(COMMAND_AMF0, stream_id, 0, amf0.encode(*values), 3), 128))

    def publish(self, app: str, name: str, tc_url: str) -> None:
        self.handshake()
        self.command("connect", 1, {"app": app, "tcUrl": tc_url, "type": "nonprivate"})
        self.command("createStream", 2, None)
        self.command("publish", 0, None, name, "live", stream_id=1)

    def status_codes(self) -> list[str]:
        """onStatus codes received until the server closes the connection (or the socket times out)."""
        codes = []
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                for m in self.reader.feed(data):
                    if m.type_id == COMMAND_AMF0:
                        values = amf0.decode_all(m.payload)
                        if values[0] == "onStatus":
                            codes.append(values[3]["code"])
        except (TimeoutError, ConnectionError):
            pass
        return codes

    def close(self) -> None:
        self.sock.close()


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (a read returns end of file or a reset)."""
    try:
        sock.settimeout(0.2)
        return sock.recv(65536) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


