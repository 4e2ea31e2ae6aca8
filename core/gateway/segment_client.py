"""The gateway's half of `POST {transcoder}/segment`, as go-livepeer's gateway sends it (segment-wire.md):
HTTP/2 (warm connections per orchestrator, kept between segments and streams; one request per connection
at a time, see SegmentClients), the TLS certificate not verified, `Livepeer-Segment` = base64 SegData, `Livepeer-Payment` = base64 Payment ("" offchain),
`Content-Type: video/MP2T`; the orchestrator answers 200 as soon as the upload is checked and sends the
raw-protobuf TranscodeResult as the body when transcoding ends. Then every rendition URL is downloaded.

Deadlines (go-livepeer `server/segment_rpc.go`): the 200 must arrive within the upload deadline
max(2 s, 0.5 × duration); the whole call within max(8 s, 4 × duration). httpx's timeouts are per socket
operation, so the upload deadline is the connect/write/first-read timeout and, once the headers are in,
the read timeout is lowered to what is left of the call deadline (httpcore reads it from the request's
`timeout` extension at every read), with the elapsed time checked between body chunks.

Every failure is a TranscodeError with go-livepeer's error code as `kind`; `retryable` is False only for
an answer that says the segment itself is bad (that orchestrator is not to blame).
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from core.gateway.ports import TranscodeError
from core.proto import net

UPLOAD_MIN_S = 2.0
UPLOAD_FACTOR = 0.5
CALL_MIN_S = 8.0
CALL_FACTOR = 4.0
MAX_RESULT_BYTES = 1 << 20  # a TranscodeResult is URLs and numbers; a megabyte is already absurd

# Words in an orchestrator's TranscodeResult.error that say the INPUT is bad (lpms's non-retryable errors
# and lpc's own MediaError texts for unusable input). Another orchestrator would fail the same way.
INPUT_ERRORS = (
    "invalid data found when processing input", "no keyframes in input", "unsupported input pixel format",
    "invalid argument", "empty segment", "not an mpeg-ts segment", "truncated mpeg-ts segment",
    "are not mpeg-ts video", "has no video stream", "has no picture size", "cannot be decoded",
    "has no decodable frame",
)


def upload_deadline(duration_s: float) -> float:
    return max(UPLOAD_MIN_S, UPLOAD_FACTOR * duration_s)


def call_deadline(duration_s: float) -> float:
    return max(CALL_MIN_S, CALL_FACTOR * duration_s)


def is_input_error(message: str) -> bool:
    low = message.lower()
    return any(words in low for words in INPUT_ERRORS)


class SegmentClients:
    """HTTP/2 clients per orchestrator origin (scheme://host:port), kept between segments and streams so
    segments ride warm connections as go-livepeer's do. Each client is leased to ONE request at a time:
    httpcore's sync HTTP/2 connection is not safe for requests from several threads at once (it encodes
    headers with the shared HPACK state outside its write lock; concurrent segments and rendition
    downloads on one connection were answered with GOAWAY PROTOCOL_ERROR, about 1 in 60 segments), so
    concurrent requests to one orchestrator use one connection each. Thread-safe."""

    MAX_IDLE = 4  # idle clients kept per orchestrator

    def __init__(self) -> None:
        self._idle: dict[str, list[httpx.Client]] = {}
        self._lock = threading.Lock()
        self._closed = False

    @staticmethod
    def _origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    @contextlib.contextmanager
    def lease(self, url: str) -> Iterator[httpx.Client]:
        origin = self._origin(url)
        with self._lock:
            idle = self._idle.get(origin)
            client = idle.pop() if idle else None
        if client is None:
            client = httpx.Client(verify=False, http2=True, follow_redirects=False,
                                  limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        broken = False
        try:
            yield client
        except BaseException:  # a failed request's connection is not worth keeping
            broken = True
            raise
        finally:
            with self._lock:
                keep = not broken and not self._closed and len(self._idle.setdefault(origin, [])) < self.MAX_IDLE
                if keep:
                    self._idle[origin].append(client)
            if not keep:
                client.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients = [c for group in self._idle.values() for c in group]
            self._idle = {}
        for c in clients:
            c.close()


def _failed(kind: str, message: str) -> TranscodeError:
    return TranscodeError(kind, message)


def post_segment(clients: SegmentClients, transcoder: str, seg: net.SegData, data: bytes, payment: str,
                 duration_s: float) -> tuple[net.TranscodeResult, float]:
    """The TranscodeResult for one segment and the seconds the call took (upload + transcode). Raises
    TranscodeError: kind "Transcode" for anything the orchestrator is to blame for (retryable), with
    retryable False when its answer says the input is bad."""
    up, whole = upload_deadline(duration_s), call_deadline(duration_s)
    started = time.monotonic()
    headers = {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(),
               "Livepeer-Payment": payment, "Content-Type": "video/MP2T"}
    with clients.lease(transcoder) as client:
        return _post(client, transcoder, headers, data, up, whole, started)


def _post(client: httpx.Client, transcoder: str, headers: dict, data: bytes, up: float, whole: float,
          started: float) -> tuple[net.TranscodeResult, float]:
    for fresh in (False, True):
        timeout = httpx.Timeout(connect=up, read=up, write=up, pool=up)
        request = client.build_request("POST", transcoder.rstrip("/") + "/segment", content=data, headers=headers,
                                       timeout=timeout)
        try:
            response = client.send(request, stream=True)
            break
        except httpx.TimeoutException:
            raise _failed("Transcode", f"no answer to the upload within {up:g} s (upload deadline)") from None
        except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError) as exc:
            # a pooled connection the orchestrator closed as we used it (it closes idle ones after 20 s):
            # once more on a new connection before blaming the orchestrator
            if fresh or time.monotonic() - started > up / 2:
                raise _failed("Transcode", f"could not send the segment ({type(exc).__name__}: {exc})") from None
        except httpx.HTTPError as exc:
            raise _failed("Transcode", f"could not send the segment ({type(exc).__name__}: {exc})") from None
    try:
        if response.status_code != 200:
            text = response.read()[:300].decode("utf-8", "replace").strip()
            raise _failed("Transcode", f"HTTP {response.status_code} from /segment: {text or 'no message'}")
        request.extensions["timeout"]["read"] = max(0.05, whole - (time.monotonic() - started))
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESULT_BYTES:
                    raise _failed("Transcode", f"the result is over {MAX_RESULT_BYTES} bytes: not a TranscodeResult")
                if time.monotonic() - started > whole:
                    raise httpx.ReadTimeout("call deadline")
        except httpx.TimeoutException:
            raise _failed("Transcode", f"no transcoded result within {whole:g} s (call deadline)") from None
        except httpx.HTTPError as exc:
            raise _failed("Transcode", f"the result did not arrive ({type(exc).__name__}: {exc})") from None
    finally:
        response.close()
    try:
        result = net.TranscodeResult.FromString(bytes(body))
    except Exception:  # noqa: BLE001 - DecodeError and friends: garbage is garbage
        raise _failed("Transcode", f"the answer ({len(body)} bytes) is not a TranscodeResult") from None
    which = result.WhichOneof("result")
    if which == "error":
        if is_input_error(result.error):
            raise TranscodeError("BadInput", f"the orchestrator says the segment is unusable: {result.error}",
                                 retryable=False)
        raise _failed("Transcode", f"the orchestrator failed the segment: {result.error}")
    if which != "data" or not result.data.segments:
        raise _failed("Transcode", "the result carries no renditions")
    return result, time.monotonic() - started


def download(clients: SegmentClients, url: str, deadline_s: float) -> bytes:
    """One rendition's bytes, GET exactly as the orchestrator gave the URL. TranscodeError("Download")."""
    if not url.startswith(("http://", "https://")):
        raise TranscodeError("Download", f"rendition URL {url[:80]!r} is not absolute")
    try:
        with clients.lease(url) as client:
            r = client.get(url, timeout=max(0.5, deadline_s))
    except httpx.HTTPError as exc:
        raise TranscodeError("Download", f"could not download {url}: {type(exc).__name__}: {exc}") from None
    if r.status_code != 200:
        raise TranscodeError("Download", f"HTTP {r.status_code} downloading {url}")
    if not r.content:
        raise TranscodeError("Download", f"{url} is empty")
    return r.content
