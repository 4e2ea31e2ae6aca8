"""A minimal go-livepeer-style gateway for the tests: GetOrchestrator over TLS (trust on first use),
then segments through /segment with the SegData and Payment headers."""

from __future__ import annotations

import base64
import io
import ssl

import av
import grpc
import httpx
from eth_hash.auto import keccak

from core.media.profiles import VideoProfile, to_wire
from core.proto import net


def server_cert(host: str, port: int) -> bytes:
    return ssl.get_server_certificate((host, port)).encode()


class Gateway:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.pem = server_cert(host, port)
        self.channel = grpc.secure_channel(
            f"{host}:{port}", grpc.ssl_channel_credentials(self.pem),
            options=[("grpc.ssl_target_name_override", "localhost"), ("grpc.default_authority", "localhost")],
        )

    def close(self) -> None:
        self.channel.close()

    def _unary(self, method: str, req, resp_type):
        call = self.channel.unary_unary(
            f"/net.Orchestrator/{method}", request_serializer=type(req).SerializeToString,
            response_deserializer=resp_type.FromString,
        )
        return call(req, timeout=10)

    def get_orchestrator(self, *, ignore_capacity: bool = True, caps: net.Capabilities | None = None) -> net.OrchestratorInfo:
        req = net.OrchestratorRequest(address=b"\0" * 20, ignoreCapacityCheck=ignore_capacity)
        if caps is not None:
            req.capabilities.CopyFrom(caps)
        return self._unary("GetOrchestrator", req, net.OrchestratorInfo)

    def ping(self, value: bytes) -> net.PingPong:
        return self._unary("Ping", net.PingPong(value=value), net.PingPong)

    def end_session(self, token: net.AuthToken) -> None:
        self._unary("EndTranscodingSession", net.EndTranscodingSessionRequest(auth_token=token),
                    net.EndTranscodingSessionResponse)


def seg_data(info: net.OrchestratorInfo, data: bytes, profiles, *, seq: int = 0, manifest: bytes = b"manifest",
             duration_ms: int = 1000) -> net.SegData:
    seg = net.SegData(manifestId=manifest, seq=seq, hash=keccak(data), profiles=b"invalid", duration=duration_ms)
    seg.auth_token.CopyFrom(info.auth_token)
    seg.fullProfiles3.extend(to_wire(p, net.VideoProfile) if isinstance(p, VideoProfile) else p for p in profiles)
    return seg


def headers_for(seg: net.SegData | bytes | str, payment: str = "") -> dict[str, str]:
    if isinstance(seg, net.SegData):
        seg = base64.b64encode(seg.SerializeToString()).decode()
    elif isinstance(seg, bytes):
        seg = base64.b64encode(seg).decode()
    return {"Livepeer-Segment": seg, "Livepeer-Payment": payment, "Content-Type": "video/MP2T"}


def post_segment(info: net.OrchestratorInfo, data: bytes, headers: dict, *, http2: bool = False,
                 timeout: float = 30) -> httpx.Response:
    with httpx.Client(verify=False, http2=http2, timeout=timeout) as c:
        return c.post(info.transcoder + "/segment", content=data, headers=headers)


def transcode(info, data, profiles, **kw) -> net.TranscodeResult:
    r = post_segment(info, data, headers_for(seg_data(info, data, profiles, **{k: v for k, v in kw.items() if k != "http2"})),
                     http2=kw.get("http2", False))
    assert r.status_code == 200, r.text
    return net.TranscodeResult.FromString(r.content)


def download(url: str, http2: bool = False) -> bytes:
    with httpx.Client(verify=False, http2=http2, timeout=10) as c:
        r = c.get(url)
        r.raise_for_status()
        return r.content


def probe(ts: bytes) -> tuple[int, int, int, str]:
    """(frames, width, height, profile) of the first video stream, decoding every frame."""
    with av.open(io.BytesIO(ts)) as c:
        s = c.streams.video[0]
        frames = 0
        w = h = 0
        for f in c.decode(s):
            frames += 1
            w, h = f.width, f.height
        return frames, w, h, s.codec_context.profile or ""


def b_frames(ts: bytes) -> int:
    with av.open(io.BytesIO(ts)) as c:
        return sum(1 for f in c.decode(video=0) if int(f.pict_type) == 3)  # AV_PICTURE_TYPE_B
