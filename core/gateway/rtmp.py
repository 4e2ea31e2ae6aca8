"""RTMP ingest for the gateway (go-livepeer's `-rtmpAddr`): many publishers (ffmpeg, OBS) on one port,
each stream cut into ~2 s MPEG-TS segments at keyframes (segmenter.py) and handed to Streams.

Why our own server: PyAV/ffmpeg's `listen=1` takes one connection per port (a gateway serves many
publishers on 1935). Of the pure-Python RTMP servers on PyPI, pyrtmp (last release 2024) parses every
field through bitstring (bit-level, a copy per read), checks message lengths and chunk headers with
asserts, and has no deadline or bound anywhere; rtmplite3 last had a release in 2021. The publish half
of RTMP is small: the handshake and chunk stream are rtmp_chunks.py, the values amf0.py, this module the
commands. One asyncio loop on one thread serves every connection; the demuxing and muxing run on a
thread per stream (PyAV blocks), transcoding on the stream's SegmentQueue workers.

What a publisher sees:
- connect → Window Acknowledgement Size, Set Peer Bandwidth, Set Chunk Size 4096, `_result`
  NetConnection.Connect.Success; releaseStream/FCPublish/createStream answered (stream ID 1);
  publish → onStatus NetStream.Publish.Start, or an `error` onStatus and the connection closed:
  NetStream.Publish.BadName when the manifest is already live, NetStream.Publish.Rejected when Streams
  refuses (-maxSessions, the auth webhook) — each with a log line saying who and why.
- The path → (manifest ID, key) rules are go-livepeer's (rtmp_path.py).
- Acknowledgements every window the publisher asked for; a ping is answered.
- When the gateway ends a live stream (stop(), the segmenter timeout, media it cannot read) the
  publisher gets an error onStatus NetStream.Publish.Failed with the reason (ffmpeg prints it as
  "Server error: …"), then the connection closes (after GOODBYE_S, see _Connection._goodbye).
- FCUnpublish/deleteStream or the connection closing ends the stream: the last partial segment is
  handed on, the segments still waiting are transcoded, then `LiveStream.end()`. A publish to that
  manifest meanwhile (OBS reconnecting after a network blip) waits up to RECONNECT_WAIT_S for it instead
  of being refused as a second publisher.

Where this is stricter than go-livepeer (joy4), and why:
- A second publisher on a live manifest is refused and the first carries on. go-livepeer refuses it
  with errAlreadyExists and then runs the end-stream handler for that manifest, ending the first too: a
  stray or malicious second publish would take a live stream down.
- The handshake has a deadline (HANDSHAKE_TIMEOUT_S; joy4 waits forever, so a port scanner holds a
  goroutine and a socket per probe); garbage (C0 ≠ 3) is closed at once (joy4 leaves the socket open).
- A connection that sends nothing for IDLE_TIMEOUT_S is closed; no keyframe for 10 × segment length
  (wall clock, or in the stream's own time, see segmenter.py) ends the stream with a log line (and an
  onStatus error) telling the publisher to set a keyframe interval below 8 s, as lpms's segmenter timeout.
- At most MAX_PENDING connections may be open without publishing (in the handshake, or connected and
  silent); more are closed on accept, so a flood of idle sockets cannot use up the file descriptors
  that publishers need. go-livepeer has no such bound.
- Message length, chunk streams and unfinished bytes are bounded (rtmp_chunks.py); a connection that
  breaks the rules is closed, and nothing of it reaches another connection.
- The RTMP key is a secret: log lines show the path with `<key>` in its place.
- Play is not served (the gateway does not pull its own stream back over RTMP as lpms does); a play
  gets NetStream.Play.Failed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from core.gateway import amf0, flv
from core.gateway.config import GatewayConfig
from core.gateway.ports import LiveStream, StreamRefused, Streams, StreamStart
from core.gateway.rtmp_chunks import (
    ACK, AUDIO, COMMAND_AMF0, COMMAND_AMF3, DATA_AMF0, DATA_AMF3, HANDSHAKE_SIZE, SET_CHUNK_SIZE,
    SET_PEER_BANDWIDTH, USER_CONTROL, VIDEO, WINDOW_ACK_SIZE, ChunkReader, Message, ProtocolError,
    check_c0, control, encode_message, server_handshake, user_control,
)
from core.gateway.rtmp_path import listen_address, parse_stream_path, publish_path, publish_query
from core.gateway.segment_queue import SegmentQueue
from core.gateway.segmenter import KEYFRAME_TIMEOUT_SEGMENTS, PIPE_HIGH_WATER, Segmenter

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 20.0
OUT_CHUNK_SIZE = 4096
WINDOW_ACK = 2_500_000
STREAM_ID = 1  # the message stream createStream hands out
STOP_TIMEOUT_S = 30.0  # how long stop() waits for a stream's segments in flight
GOODBYE_S = 1.0  # how long a publisher has to read why the gateway is stopping
MAX_PENDING = 64  # connections not (yet) publishing; more are closed on accept
RECONNECT_WAIT_S = 10.0  # how long a publish waits for the same manifest's previous publisher to finish


class RtmpIngest:
    """The RTMP port. `start()` binds `config.rtmp_addr` and serves on a thread of its own, returning the
    bound (host, port); `stop()` ends every publisher's stream, frees the port and leaves no thread."""

    def __init__(self, config: GatewayConfig, streams: Streams, *,
                 handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S, idle_timeout_s: float = IDLE_TIMEOUT_S,
                 max_pending: int = MAX_PENDING) -> None:
        if not config.rtmp_addr:
            raise ValueError("RTMP ingest is off (no -rtmpAddr)")
        self.config = config
        self.streams = streams
        self.handshake_timeout_s = handshake_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.max_pending = max_pending
        self._refused_logged = 0.0
        self.keyframe_timeout_s = config.segment_s * KEYFRAME_TIMEOUT_SEGMENTS
        self.stopping = False
        self.address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[_Connection] = set()
        self._publishers: list[_Publisher] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rtmp-streams")

    # life cycle -----------------------------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        if self._thread is not None:
            raise RuntimeError("RTMP ingest is already started")
        host, port = listen_address(self.config.rtmp_addr or "")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = socket.create_server((host, port), family=family, backlog=64)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen for RTMP on {host}:{port} (-rtmpAddr): {exc.strerror}") from None
        sock.setblocking(False)
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = self._loop
            assert loop is not None
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(asyncio.start_server(self._serve, sock=sock))
            except BaseException as exc:  # noqa: BLE001 — handed to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="rtmp-ingest", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            sock.close()
            raise failure[0]
        bound = sock.getsockname()
        self.address = (bound[0], bound[1])
        log.info("RTMP ingest listening on %s:%d", *self.address)
        return self.address

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self.stopping = True
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            try:
                future.result(timeout=15)
            except Exception as exc:  # noqa: BLE001
                log.warning("RTMP ingest: closing connections: %s", exc)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)
        with self._lock:
            publishers = list(self._publishers)
        for publisher in publishers:
            publisher.finish(flush=False)  # no-op for those whose connection already ended
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for publisher in publishers:
            if not publisher.segmenter.join(max(0.1, deadline - time.monotonic())):
                log.warning("RTMP ingest: stream %s still has a segment in flight after %g s",
                            publisher.live.manifest_id, STOP_TIMEOUT_S)
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._loop = None
        self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.shut("the gateway is stopping")
        tasks = [conn.task for conn in self._connections if conn.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=3)
            for conn in list(self._connections):
                conn.writer.transport.abort()  # a peer that did not take the goodbye
            if pending:
                await asyncio.wait(pending, timeout=5)
        if self._server is not None:
            await self._server.wait_closed()

    # connections ----------------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending = sum(1 for c in self._connections if c.publisher is None)
        if pending >= self.max_pending:
            now = time.monotonic()
            if now - self._refused_logged > 10:  # one line per 10 s, not one per connection of a flood
                self._refused_logged = now
                peer = writer.get_extra_info("peername") or ("?", 0)
                log.warning("RTMP connection from %s:%s closed at once: %d connections are already waiting to "
                            "publish (the most taken)", peer[0], peer[1], pending)
            writer.transport.abort()
            return
        conn = _Connection(self, reader, writer)
        conn.task = asyncio.current_task()
        self._connections.add(conn)
        try:
            await conn.run()
        finally:
            self._connections.discard(conn)

    def _register(self, publisher: _Publisher) -> None:
        with self._lock:
            self._publishers = [p for p in self._publishers if p.segmenter.alive]
            self._publishers.append(publisher)

    def _draining(self, manifest_id: str) -> _Publisher | None:
        """The publisher of `manifest_id` whose connection has ended but whose last segments are still
        going out (its stream is live until they are)."""
        with self._lock:
            for p in self._publishers:
                if p.live.manifest_id == manifest_id and p.finished and p.segmenter.alive:
                    return p
        return None


class _Publisher:
    """One published stream: its LiveStream, segmenter thread and segment queue."""

    def __init__(self, ingest: RtmpIngest, conn: _Connection, live: LiveStream) -> None:
        self.ingest = ingest
        self.conn = conn
        self.live = live
        self.queue = SegmentQueue(live.manifest_id, live.segment)
        loop = asyncio.get_running_loop()
        self.space = asyncio.Event()
        self.segmenter = Segmenter(live.manifest_id, segment_s=ingest.config.segment_s,
                                   on_segment=self.queue.put, on_done=self._done,
                                   on_space=lambda: loop.call_soon_threadsafe(self.space.set))
        self.header_sent = False
        self.metadata: dict | None = None
        self.finished = False

    def start(self) -> None:
        self.segmenter.start()

    def write(self, tag_type: int, timestamp: int, body: bytes) -> int:
        if not self.header_sent:
            audio = video = True
            if self.metadata and ("audiocodecid" in self.metadata or "videocodecid" in self.metadata):
                audio, video = "audiocodecid" in self.metadata, "videocodecid" in self.metadata
            self.segmenter.write(flv.header(audio=audio, video=video), media=False)
            self.header_sent = True
        return self.segmenter.write(flv.tag(tag_type, timestamp, body), media=tag_type != flv.SCRIPT_TAG)

    def finish(self, *, flush: bool) -> None:
        """No more media: the segmenter cuts what it has (the last partial segment too when `flush`)."""
        if not self.finished:
            self.finished = True
            self.segmenter.finish(flush=flush)

    def _done(self, reason: str | None) -> None:
        """On the segmenter's thread once it has stopped: the last segments out, then the stream ended."""
        mid = self.live.manifest_id
        if reason is not None:
            log.warning("RTMP stream %s from %s stopped: %s", mid, self.conn.remote, reason)
            self.conn.close_soon(reason)
        self.queue.close(wait=not self.ingest.stopping, timeout=STOP_TIMEOUT_S)
        try:
            self.live.end()
        finally:
            dropped = f", {len(self.queue.dropped)} dropped (queue full)" if self.queue.dropped else ""
            log.info("RTMP stream %s from %s ended: %d segments%s", mid, self.conn.remote,
                     self.segmenter.segments, dropped)


class _Connection:
    def __init__(self, ingest: RtmpIngest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.ingest = ingest
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.remote = f"{peer[0]}:{peer[1]}"
        self.task: asyncio.Task | None = None
        self.chunks = ChunkReader()
        self.out_chunk = 128
        self.ack_window = 0
        self.bytes_in = 0
        self.acked = 0
        self.app = ""
        self.tc_url = ""
        self.publisher: _Publisher | None = None
        self.closing: str | None = None
        self.grace_until = 0.0
        self.loop = asyncio.get_running_loop()

    # the connection's life --------------------------------------------------------------------------

    async def run(self) -> None:
        reason = "the publisher closed the connection"
        try:
            try:
                async with asyncio.timeout(self.ingest.handshake_timeout_s):
                    await self._handshake()
            except TimeoutError:
                raise ProtocolError(f"no RTMP handshake within {self.ingest.handshake_timeout_s:g} s") from None
            while self.closing is None or time.monotonic() < self.grace_until:
                data = await self._read()
                if not data:
                    break
                if self.closing is not None:
                    continue  # told to go: what it still sends is read (so it can read why) and dropped
                for message in self.chunks.feed(data):
                    await self._on_message(message)
                    if self.closing is not None:
                        break
                self._count(len(data))  # after the messages: a Window Ack Size among them applies to these bytes
                self._check_keyframes()
            if self.closing is not None:
                reason = self.closing
        except ProtocolError as exc:
            reason = str(exc)
            log.warning("RTMP connection from %s closed: %s", self.remote, reason)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:  # noqa: BLE001 — a fault here ends this connection only
            log.warning("RTMP connection from %s closed after an internal error: %s", self.remote, exc)
            log.debug("RTMP connection from %s", self.remote, exc_info=True)
        finally:
            self._end_publish(flush=not self.ingest.stopping)
            await self._close()
        log.debug("RTMP connection from %s over: %s", self.remote, reason)

    async def _read(self) -> bytes:
        try:
            async with asyncio.timeout(self.ingest.idle_timeout_s):
                return await self.reader.read(65536)
        except TimeoutError:
            raise ProtocolError(f"nothing received for {self.ingest.idle_timeout_s:g} s") from None

    async def _handshake(self) -> None:
        c0 = await self.reader.readexactly(1)
        check_c0(c0)
        c1 = await self.reader.readexactly(HANDSHAKE_SIZE)
        self.writer.write(server_handshake(c0 + c1))
        await self.writer.drain()
        await self.reader.readexactly(HANDSHAKE_SIZE)  # C2, not checked (the simple handshake)

    def _count(self, n: int) -> None:
        self.bytes_in += n
        if self.ack_window and self.bytes_in - self.acked >= self.ack_window:
            self.acked = self.bytes_in
            self._send(control(ACK, self.bytes_in & 0xFFFFFFFF))

    def _check_keyframes(self) -> None:
        pub = self.publisher
        if pub is None or pub.finished:
            return
        if time.monotonic() - pub.segmenter.last_cut > self.ingest.keyframe_timeout_s:
            reason = (f"no segment in {self.ingest.keyframe_timeout_s:g} s: set the encoder's keyframe interval "
                      "below 8 s (2 s is best; ffmpeg -g, OBS Keyframe Interval)")
            log.warning("RTMP stream %s from %s stopped: %s", pub.live.manifest_id, self.remote, reason)
            self._goodbye(reason)  # what is held has no keyframe to cut at; go-livepeer drops it too

    def _goodbye(self, reason: str) -> None:
        """On the loop: the publisher is told why (an error onStatus, which ffmpeg prints as 'Server
        error: …'), its stream ends without the partial segment, and the connection closes. ffmpeg reads
        the server's messages after its next write, so the connection is read (and what arrives dropped)
        for GOODBYE_S first: a write that met a closed socket would get a reset that discards the message."""
        if self.closing is not None:
            return
        self.closing = reason
        self._end_publish(flush=False)
        self._status_error("NetStream.Publish.Failed", reason)
        self.grace_until = time.monotonic() + GOODBYE_S
        self.loop.call_later(GOODBYE_S, self.writer.transport.close)

    def shut(self, reason: str) -> None:
        """From the loop, the gateway stopping: a publisher gets a goodbye, any other connection is cut."""
        if self.publisher is not None:
            self._goodbye(reason)
        else:
            self.closing = reason
            self.writer.transport.abort()

    def close_soon(self, reason: str) -> None:
        """From any thread: the stream stopped (segmenter failure); tell the publisher and close."""
        try:
            self.loop.call_soon_threadsafe(self._goodbye, reason)
        except RuntimeError:
            pass  # the loop is gone: the connection is too

    async def _close(self) -> None:
        """Send what is queued (a refusal's onStatus), close, and give up on a peer that reads nothing."""
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except Exception:  # noqa: BLE001 — the peer is gone or reads nothing; nothing more to tell it
            self.writer.transport.abort()

    def _end_publish(self, *, flush: bool) -> None:
        if self.publisher is not None and not self.publisher.finished:
            self.publisher.finish(flush=flush)

    # messages ---------------------------------------------------------------------------------------

    def _send(self, message: Message) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode_message(message, self.out_chunk))

    def _command(self, *values, stream_id: int = 0) -> None:
        self._send(Message(COMMAND_AMF0, stream_id, 0, amf0.encode(*values), 5 if stream_id else 3))

    def _status_error(self, code: str, description: str) -> None:
        self._command("onStatus", 0, None, {"level": "error", "code": code, "description": description},
                      stream_id=STREAM_ID)

    async def _on_message(self, m: Message) -> None:
        if m.type_id in (AUDIO, VIDEO):
            await self._media(m)
        elif m.type_id in (DATA_AMF0, DATA_AMF3):
            body = m.payload[1:] if m.type_id == DATA_AMF3 and m.payload[:1] == b"\x00" else m.payload
            await self._data(body, m.timestamp)
        elif m.type_id in (COMMAND_AMF0, COMMAND_AMF3):
            body = m.payload[1:] if m.type_id == COMMAND_AMF3 and m.payload[:1] == b"\x00" else m.payload
            try:
                values = amf0.decode_all(body)
            except amf0.Amf0Error as exc:
                raise ProtocolError(f"undecodable command: {exc}") from None
            if values and isinstance(values[0], str):
                await self._on_command(values[0], values[1:])
        elif m.type_id == WINDOW_ACK_SIZE and len(m.payload) >= 4:
            self.ack_window = struct.unpack(">I", m.payload[:4])[0]
        elif m.type_id == USER_CONTROL and len(m.payload) >= 6:
            event, value = struct.unpack(">HI", m.payload[:6])
            if event == 6:  # ping request → ping response
                self._send(user_control(7, value))
        # Set Chunk Size and Abort act in the chunk reader; Ack and Set Peer Bandwidth need nothing

    async def _media(self, m: Message) -> None:
        pub = self.publisher
        if pub is None or pub.finished or not m.payload:
            return
        tag_type = flv.AUDIO_TAG if m.type_id == AUDIO else flv.VIDEO_TAG
        if pub.write(tag_type, m.timestamp, m.payload) > PIPE_HIGH_WATER:
            pub.space.clear()
            try:
                async with asyncio.timeout(self.ingest.idle_timeout_s):
                    await pub.space.wait()
            except TimeoutError:
                raise ProtocolError(f"the segmenter read nothing for {self.ingest.idle_timeout_s:g} s") from None

    async def _data(self, body: bytes, timestamp: int) -> None:
        pub = self.publisher
        if pub is None or pub.finished:
            return
        script = flv.metadata_body(body)
        if not script.startswith(b"\x02\x00\x0aonMetaData"):
            return
        if not pub.header_sent:
            try:
                values = amf0.decode_all(script)
                pub.metadata = values[1] if len(values) > 1 and isinstance(values[1], dict) else None
            except amf0.Amf0Error:
                pub.metadata = None
        pub.write(flv.SCRIPT_TAG, timestamp, script)

    async def _on_command(self, name: str, args: list) -> None:
        txn = args[0] if args else 0
        if name == "connect":
            obj = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
            self.app = str(obj.get("app") or "")
            self.tc_url = str(obj.get("tcUrl") or "")
            self._send(control(WINDOW_ACK_SIZE, WINDOW_ACK))
            self._send(control(SET_PEER_BANDWIDTH, WINDOW_ACK, b"\x02"))
            self._send(control(SET_CHUNK_SIZE, OUT_CHUNK_SIZE))
            self.out_chunk = OUT_CHUNK_SIZE
            self._command("_result", txn, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31},
                          {"level": "status", "code": "NetConnection.Connect.Success",
                           "description": "Connection succeeded.", "objectEncoding": 0})
        elif name == "createStream":
            self._command("_result", txn, None, STREAM_ID)
        elif name == "releaseStream":
            self._command("_result", txn, None)
        elif name == "FCPublish":
            stream = args[2] if len(args) > 2 else ""
            self._command("onFCPublish", 0, None, {"code": "NetStream.Publish.Start", "description": str(stream)})
        elif name == "publish":
            await self._publish(str(args[2]) if len(args) > 2 and args[2] is not None else "")
        elif name in ("FCUnpublish", "deleteStream", "closeStream"):
            self._end_publish(flush=True)
        elif name == "play":
            self._command("onStatus", 0, None, {"level": "error", "code": "NetStream.Play.Failed",
                                                "description": "this gateway takes published streams only"},
                          stream_id=STREAM_ID)
            self.closing = "play is not served"
        await self.writer.drain()

    async def _publish(self, name: str) -> None:
        if self.publisher is not None:
            self._refuse("NetStream.Publish.BadName", "this connection is already publishing")
            return
        path = publish_path(self.app, name)
        parsed = parse_stream_path(path)
        host = urlsplit(self.tc_url).netloc if self.tc_url.startswith("rtmp") else ""
        if not host and self.ingest.address:
            host = "%s:%d" % self.ingest.address
        query = publish_query(self.app, name)
        url = f"rtmp://{host}{path}" + (f"?{query}" if query else "")
        draining = self.ingest._draining(parsed.manifest_id) if parsed.manifest_id else None
        if draining is not None:  # a publisher reconnecting (OBS after a network blip): let the old one end
            log.info("RTMP publish of %s from %s waits for the previous publisher's last segments",
                     parsed.manifest_id, self.remote)
            await self.loop.run_in_executor(self.ingest._executor, draining.segmenter.join, RECONNECT_WAIT_S)
        if parsed.manifest_id is not None and self.ingest.streams.get(parsed.manifest_id) is not None:
            self._refuse("NetStream.Publish.BadName",
                         f"stream {parsed.manifest_id} is already being published; the live one carries on",
                         parsed.shown)
            return
        start = StreamStart(manifest_id=parsed.manifest_id, key=parsed.key, ingest_url=url, origin="rtmp",
                            remote=self.remote)
        shown = parsed.shown
        try:
            live = await self.loop.run_in_executor(self.ingest._executor, self.ingest.streams.start, start)
        except StreamRefused as exc:
            self._refuse("NetStream.Publish.Rejected", str(exc), shown)
            return
        except Exception as exc:  # noqa: BLE001 — a fault of the gateway, not of this publisher
            log.debug("starting stream for %s", shown, exc_info=True)
            self._refuse("NetStream.Publish.Failed", f"the gateway could not start the stream: {exc}", shown)
            return
        if self.closing is not None or self.ingest.stopping:
            live.end()
            return
        pub = _Publisher(self.ingest, self, live)
        self.publisher = pub
        self.ingest._register(pub)
        pub.start()
        self._command("onStatus", 0, None, {"level": "status", "code": "NetStream.Publish.Start",
                                            "description": f"Publishing {live.manifest_id}."},
                      stream_id=STREAM_ID)
        log.info("RTMP stream %s published from %s (%s)", live.manifest_id, self.remote, shown)

    def _refuse(self, code: str, why: str, path: str = "") -> None:
        log.warning("RTMP publish%s from %s refused: %s", f" to {path}" if path else "", self.remote, why)
        self._status_error(code, why)
        self.closing = why
