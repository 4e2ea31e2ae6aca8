"""The gateway's plain-HTTP port (`-httpAddr`, 127.0.0.1:9935): HLS out under `/stream/`, `/healthz`, and
HTTP push ingest under `/live/` (gateway-wire.md §2.3, §3.1). An ASGI app served by hypercorn, as the
orchestrator's ports are.

HLS (`/stream/<mid>.m3u8`, `/stream/<mid>/<rendition>.m3u8`, `/stream/<mid>/<rendition>/<seq>.ts`,
`/stream/current.m3u8` with -currentManifest): playlists with `Content-Type: application/x-mpegURL`,
`Cache-Control: max-age=5` and `Access-Control-Allow-Origin: *` as go-livepeer; anything unknown or gone
404. Segments say `video/mp2t` (go-livepeer takes the OS mime table's answer for `.ts`, which on Debian is
a Qt translation file's type).

Push: POST/PUT `/live/<mid>/<seq>.ts|.mp4` (or `/live/<mid>.ts`, seq 0); `Content-Duration` in ms
(missing or not a number: 2000), `Content-Resolution` WxH, `Livepeer-Transcode-Configuration` (JSON,
used when the push creates the stream), `Accept: multipart/mixed` for the renditions in the reply (one
part per rendition, not the source, go-livepeer's part headers). The request blocks until transcoded.
Status codes are go-livepeer's (405, 400 for a bad URL, extension or header, 403 auth webhook, 422 a
non-retryable failure, 503 no orchestrator, 500 other failures), except where it is wrong or unsafe:

- a declared Content-Length over config.max_segment_bytes is answered **413 at once**, the body unread
  (go-livepeer reads up to 300 MB and then says 500);
- the body must arrive within `read_timeout_s` (10 s) + 1 s per MiB declared (a chunked body: per MiB
  received so far), else **408** (go-livepeer has no read deadline: a client that declares much and
  sends little holds a worker for ever);
- an empty body is **400** and a body that does not demux as MPEG-TS/MP4 with a decodable video frame
  is **422**, decided here with PyAV before any stream is created, webhook asked or orchestrator
  touched (go-livepeer's probe never fails, so garbage goes to orchestrators and suspends them);
- without Content-Resolution the source variant's RESOLUTION is the probed size (go-livepeer: 0x0);
- a full gateway answers 503 (streams.py says why).

AI: the batch AI routes (`POST /text-to-image` … `/text-to-speech`) and their re-hosted results
(`GET /stream/<requestID>/<file>`, looked up before HLS) are core/gateway/ai_api.py's.

Push is served only when `push_enabled` (config.http_ingest, or by default while the HTTP address is
loopback or an auth webhook is set); otherwise `/live/` is 404, as go-livepeer does not route it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import io
import logging
import secrets

from core.gateway.config import GatewayConfig
from core.gateway.hls import HlsPlaylists
from core.gateway.ports import SourceSegment, StreamRefused, StreamStart, TranscodedSegment, TranscodeError
from core.gateway.streams import GatewayStreams, parse_terms
from core.node.asgi_io import BodyTooLarge, ClientGone, drain, header

log = logging.getLogger(__name__)

DEFAULT_DURATION_MS = 2000
PLAYLIST_HEADERS = [(b"content-type", b"application/x-mpegURL"), (b"cache-control", b"max-age=5"),
                    (b"access-control-allow-origin", b"*")]
SEGMENT_HEADERS = [(b"content-type", b"video/mp2t"), (b"access-control-allow-origin", b"*")]
READ_TIMEOUT_S = 10.0
READ_MIN_RATE = 1 << 20  # bytes/s a declared body must keep up
DRAIN_BYTES = 8 << 20  # an unread body up to this size is read and dropped before an early refusal


class PushRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def probe_segment(data: bytes, container: str) -> tuple[int, int]:
    """(width, height) of the segment's first video stream, checked by demuxing it as `container`
    ("ts" or "mp4") and decoding its first video frame; PushRefused(422) with what was wrong."""
    import av

    fmt = "mpegts" if container == "ts" else "mp4"
    what = "MPEG-TS" if container == "ts" else "MP4"
    try:
        with av.open(io.BytesIO(data), format=fmt) as c:
            if not c.streams.video:
                raise PushRefused(422, f"the body is not {what} with a video stream (no video stream found)")
            stream = c.streams.video[0]
            if stream.codec_context is None or stream.codec_context.name in ("", "none"):
                raise PushRefused(422, "the segment's video codec is unknown")
            for frame in c.decode(stream):
                return frame.width, frame.height
    except PushRefused:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise PushRefused(422, f"the body is not {what} with a video stream (FFmpeg: {reason})") from None
    raise PushRefused(422, f"the body holds no decodable video frame ({what})")


def _error_status(error: TranscodeError) -> int:
    if error.kind in ("NoOrchestrators", "NoSessions"):
        return 503
    if not error.retryable or error.kind == "MaxAttempts":
        return 422
    return 500


async def _send(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, head: bool = False) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _text(send, status: int, text: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
    await _send(send, status, (text + "\n").encode(), [(b"content-type", b"text/plain; charset=utf-8"), *extra])


async def _lifespan(receive, send) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def multipart(result: TranscodedSegment, seq: int) -> tuple[bytes, bytes]:
    """(content type, body) of go-livepeer's multipart/mixed push reply: one part per rendition."""
    boundary = secrets.token_hex(15)
    out = io.BytesIO()
    for r in result.renditions:
        name = f"{r.profile}_{seq}.ts"
        out.write(f"--{boundary}\r\n".encode())
        out.write(f'Content-Type: video/mp2t; name="{name}"\r\n'.encode())
        out.write(f"Content-Length: {len(r.data)}\r\n".encode())
        out.write(f'Content-Disposition: attachment; filename="{name}"\r\n'.encode())
        out.write(f"Rendition-Name: {r.profile}\r\n\r\n".encode())
        out.write(r.data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}".encode(), out.getvalue()


class GatewayHttpApp:
    def __init__(self, config: GatewayConfig, playlists: HlsPlaylists, streams: GatewayStreams, *,
                 push_enabled: bool, pool: concurrent.futures.Executor,
                 read_timeout_s: float = READ_TIMEOUT_S, ai=None):
        """`ai`: the AI API (core/gateway/ai_api.py AIApi): its POST routes, and its re-hosted results
        under /stream/, which are looked up before the HLS paths."""
        self.config = config
        self.ai = ai
        self.playlists = playlists
        self.streams = streams
        self.push_enabled = push_enabled
        self.pool = pool
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if self.ai is not None and self.ai.handles(path):
            await self.ai(scope, receive, send)
            return
        if path.startswith("/live/") or path == "/live":
            if not self.push_enabled:
                await _text(send, 404, "HTTP push is off on this gateway (-httpIngest; it is on by default only "
                                       "while -httpAddr is loopback or -authWebhookUrl is set)")
                return
            body = {"read": False}
            try:
                await self._push(scope, receive, send, body)
            except PushRefused as exc:
                client = (scope.get("client") or ("?",))[0]
                log.info("push %s %r from %s refused %d: %s", scope["method"], path[:200], client, exc.status, exc)
                extra = [(b"allow", b"POST, PUT")] if exc.status == 405 else []
                if not body["read"] and not await self._drained(scope, receive, exc.status):
                    extra.append((b"connection", b"close"))
                await _text(send, exc.status, str(exc), extra)
            except ClientGone:
                pass
        elif scope["method"] not in ("GET", "HEAD"):
            await _text(send, 405, "method not allowed", [(b"allow", b"GET, HEAD")])
        elif path == "/healthz":
            await _send(send, 200, b"", [])
        elif path.startswith("/stream/"):
            if self.ai is not None and await self.ai.serve_media(path[len("/stream/"):], send,
                                                                 head=scope["method"] == "HEAD"):
                return
            await self._hls(path[len("/stream/"):], send, head=scope["method"] == "HEAD")
        else:
            await _text(send, 404, "404 page not found")

    # ---------------------------------------------------------------- HLS
    async def _hls(self, rest: str, send, *, head: bool) -> None:
        parts = rest.split("/")
        body: str | bytes | None = None
        if len(parts) == 1 and parts[0].endswith(".m3u8"):
            mid = parts[0][: -len(".m3u8")]
            if mid == "current" and self.config.current_manifest:
                mid = self.playlists.current() or ""
            body = self.playlists.master(mid)
        elif len(parts) == 2 and parts[1].endswith(".m3u8"):
            body = self.playlists.media(parts[0], parts[1][: -len(".m3u8")])
        elif len(parts) == 3 and parts[2].endswith(".ts") and parts[2][:-3].isdigit():
            data = self.playlists.segment(parts[0], parts[1], int(parts[2][:-3]))
            if data is not None:
                await _send(send, 200, data, SEGMENT_HEADERS, head=head)
                return
        if body is None:
            await _text(send, 404, "not found (no such stream, no segment yet, or the stream has ended)")
            return
        await _send(send, 200, body.encode(), PLAYLIST_HEADERS, head=head)

    # ---------------------------------------------------------------- push
    async def _read_body(self, receive, declared: int | None) -> bytes:
        return await _read_all(receive, self.config.max_segment_bytes, declared, self.read_timeout_s)

    async def _drained(self, scope, receive, status: int) -> bool:
        """Before an early refusal over HTTP/1.1: read and drop a small unread body (at most DRAIN_BYTES,
        within read_timeout_s), so the client's keep-alive connection stays usable for its next push.
        False when the body is too big, too slow or over the cap: the answer then says Connection: close
        (a client reusing the connection would otherwise send its next request into a closing socket)."""
        if status in (408, 413):
            return False
        declared = header(scope, b"content-length")
        if declared is None:
            return header(scope, b"transfer-encoding") is None  # no body at all: nothing to drop
        if not declared.isdigit():
            return False
        if int(declared) > DRAIN_BYTES:
            return False
        try:
            await asyncio.wait_for(drain(receive, DRAIN_BYTES), self.read_timeout_s)
        except TimeoutError:
            return False
        return True

    async def _push(self, scope, receive, send, body: dict) -> None:
        cfg = self.config
        if scope["method"] not in ("POST", "PUT"):
            raise PushRefused(405, f"method {scope['method']} not allowed; push a segment with POST or PUT")
        mid, seq, container = _push_path(scope["path"])
        duration_s, resolution, profiles = _push_headers(scope)
        declared = header(scope, b"content-length")
        length = None
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                raise PushRefused(400, "Content-Length is not a number") from None
            if length > cfg.max_segment_bytes:
                raise PushRefused(413, f"segment of {length} bytes is larger than this gateway takes "
                                       f"({cfg.max_segment_bytes} bytes)")
        try:
            data = await self._read_body(receive, length)
            body["read"] = True
        except TimeoutError as exc:
            raise PushRefused(408, str(exc)) from None
        except BodyTooLarge:
            raise PushRefused(413, f"segment larger than this gateway takes ({cfg.max_segment_bytes} bytes)") from None
        if not data:
            raise PushRefused(400, "empty body: push an MPEG-TS or MP4 segment")
        loop = asyncio.get_running_loop()
        probed = await loop.run_in_executor(self.pool, probe_segment, data, container)
        host = (header(scope, b"host") or b"").decode("latin-1") or cfg.http_addr
        client = scope.get("client") or ("", 0)
        start = StreamStart(manifest_id=mid, key=None, ingest_url=f"http://{host}{scope['path']}",
                            origin="push", remote=f"{client[0]}:{client[1]}")
        try:
            stream = await loop.run_in_executor(
                self.pool, functools.partial(self.streams.get_or_start, start, profiles=profiles))
        except StreamRefused as exc:
            raise PushRefused(exc.status, str(exc)) from None
        segment = SourceSegment(manifest_id=stream.manifest_id, seq=seq, data=data, duration_s=duration_s,
                                container=container, resolution=resolution or probed)
        try:
            result = await loop.run_in_executor(self.pool, stream.segment, segment)
        except TranscodeError as exc:
            status = _error_status(exc)
            text = f"No sessions available ({exc})" if status == 503 else f"transcode failed: {exc.kind}: {exc}"
            raise PushRefused(status, text) from None
        if _wants_multipart(scope):
            content_type, body = multipart(result, seq)
            await _send(send, 200, body, [(b"content-type", content_type)])
        else:
            await _send(send, 200, b"", [])


async def _read_all(receive, limit: int, declared: int | None, base_s: float) -> bytes:
    """The request body, at most `limit` bytes (BodyTooLarge), in time: a declared body must be in within
    `base_s` + 1 s per MiB declared; a chunked one may take `base_s` + 1 s per MiB received so far (a
    steady sender is never cut, a stalled one is). TimeoutError with the words for the 408."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    chunks: list[bytes] = []
    size = 0
    while True:
        allowed = base_s + (declared if declared is not None else size) / READ_MIN_RATE
        left = t0 + allowed - loop.time()
        try:
            if left <= 0:
                raise TimeoutError
            msg = await asyncio.wait_for(receive(), left)
        except TimeoutError:
            raise TimeoutError(f"the segment did not arrive in time: {size} bytes in {loop.time() - t0:.1f} s "
                               f"(allowed {allowed:.1f} s, {base_s:g} s + 1 s per MiB)") from None
        if msg["type"] == "http.disconnect":
            raise ClientGone()
        body = msg.get("body", b"")
        size += len(body)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(body)
        if not msg.get("more_body", False):
            return b"".join(chunks)


def _push_path(path: str) -> tuple[str, int, str]:
    """(manifest ID, seq, "ts" | "mp4") of /live/<mid>/<seq>.<ext> or /live/<mid>.<ext> (seq 0)."""
    rest = path[len("/live/"):] if path.startswith("/live/") else ""
    parts = rest.split("/")
    if len(parts) > 2:
        raise PushRefused(400, "Bad URL: push to /live/<manifestID>/<seq>.ts (or .mp4)")
    stem, dot, ext = parts[-1].rpartition(".")
    if not dot or ext not in ("ts", "mp4"):
        raise PushRefused(400, f"ignoring file extension: push .ts or .mp4 segments, not {rest!r}")
    mid = parts[0] if len(parts) == 2 else stem
    if not mid:
        raise PushRefused(400, "Bad URL: the manifest ID is empty (/live/<manifestID>/<seq>.ts)")
    if len(parts) == 1:
        return mid, 0, ext
    seq = int(stem) if stem.isascii() and stem.isdigit() else 0  # go-livepeer: a stem that is not a number is 0
    return mid, seq, ext


def _push_headers(scope):
    raw = header(scope, b"content-duration")
    try:
        ms = int(raw) if raw is not None else DEFAULT_DURATION_MS
    except ValueError:
        ms = DEFAULT_DURATION_MS  # as go-livepeer
    if ms <= 0:
        ms = DEFAULT_DURATION_MS
    resolution = None
    if (raw := header(scope, b"content-resolution")) is not None:
        w, sep, h = raw.decode("latin-1").lower().partition("x")
        if not (sep and w.strip().isdigit() and h.strip().isdigit() and int(w) > 0 and int(h) > 0):
            raise PushRefused(400, f"Content-Resolution {raw.decode('latin-1')!r} must be WIDTHxHEIGHT, like 1280x720")
        resolution = (int(w), int(h))
    slice_from, slice_to = header(scope, b"content-slice-from"), header(scope, b"content-slice-to")
    try:
        if slice_from is not None and slice_to is not None and int(slice_from) > int(slice_to):
            raise PushRefused(400, "Content-Slice-From is after Content-Slice-To")
    except ValueError:
        raise PushRefused(400, "Content-Slice-From and Content-Slice-To must be milliseconds") from None
    profiles = None
    if (raw := header(scope, b"livepeer-transcode-configuration")) is not None:
        try:
            profiles = parse_terms(raw, who="Livepeer-Transcode-Configuration").profiles
        except ValueError as exc:
            raise PushRefused(400, str(exc)) from None
    return ms / 1000, resolution, profiles


def _wants_multipart(scope) -> bool:
    """go-livepeer answers multipart only for an Accept of exactly multipart/mixed; any Accept that lists
    it is taken here."""
    accept = (header(scope, b"accept") or b"").decode("latin-1").lower()
    return any(part.split(";")[0].strip() == "multipart/mixed" for part in accept.split(","))
