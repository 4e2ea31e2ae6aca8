"""Transcoding sessions: one per auth-token session id, each with a bounded queue and its own loop.

As go-livepeer: a session starts with its first segment, processes its segments one at a time from a
small queue (full -> OrchestratorBusy), ends after 70 s without a segment (node.idle_timeout_s), and the
number of live sessions is capped (-> OrchestratorCapped).

Unlike go-livepeer, offchain one gateway (its IP) may hold only a share of the slots
(node.gateway_session_share): a session costs nothing there, so one client opening a session per slot,
with one segment each, would lock every other gateway out for the idle timeout. (On chain the node
passes a share of 1: every segment is paid for.) Refusals are remembered per gateway (a bounded table) so the console can show who is
locked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from core.media.ladder import TranscodedSegment
from core.media.profiles import VideoProfile
from core.node.status import GatewayShare, SessionStatus

ORCHESTRATOR_CAPPED = "OrchestratorCapped"
ORCHESTRATOR_BUSY = "OrchestratorBusy"


class CapacityError(Exception):
    def __init__(self, message: str = ORCHESTRATOR_CAPPED) -> None:
        super().__init__(message)


class GatewayShareError(CapacityError):
    """This gateway already holds its share of the slots; others may still be free."""

    def __init__(self, gateway: str, held: int, max_sessions: int, share: float, idle_timeout_s: float) -> None:
        super().__init__(
            f"{ORCHESTRATOR_CAPPED}: gateway {gateway} holds {held} of this node's {max_sessions} sessions, the most "
            f"one gateway may hold (node.gateway_session_share {share:g}); a session ends {idle_timeout_s:g} s "
            "after its last segment (node.idle_timeout_s), or end one with EndTranscodingSession")
        self.gateway = gateway
        self.held = held


# how many refused gateways are remembered (oldest refusal forgotten first): a bounded table however many
# addresses a hostile client uses
REFUSALS_KEPT = 64


@dataclass
class _Refusals:
    count: int
    last_at: float
    reason: str  # "share" (this gateway holds its share) or "full" (every slot taken)


class BusyError(Exception):
    def __init__(self) -> None:
        super().__init__(ORCHESTRATOR_BUSY)


@dataclass
class SegmentJob:
    seq: int
    data: bytes
    profiles: tuple[VideoProfile, ...]
    duration_s: float  # as the gateway declared it (0 = unknown)
    result: asyncio.Future
    cancel: threading.Event = field(default_factory=threading.Event)


def gateway_of(sender: bytes, scope, *, signed: bool) -> str:
    """Who a session belongs to (and whose share of the slots it counts against): the gateway's address
    when its signature on the segment was checked (on chain), else its IP: offchain nothing is signed, so a
    claimed address proves nothing (and offchain go-livepeer gateways send 20 zero bytes)."""
    sender = bytes(sender)
    if signed and sender.strip(b"\0"):
        return "0x" + sender.hex()
    return str((scope.get("client") or ("?",))[0])



# (job) -> transcoded segment; runs the blocking transcode off the event loop
Transcoder = Callable[[SegmentJob], Awaitable[TranscodedSegment]]
SegmentDone = Callable[["Session", SegmentJob, TranscodedSegment | None, BaseException | None], None]


class Session:
    def __init__(self, session_id: str, manifest_id: str, gateway: str, queue_size: int, clock):
        self.id = session_id
        self.manifest_id = manifest_id
        self.gateway = gateway
        self.queue: asyncio.Queue[SegmentJob] = asyncio.Queue(queue_size)
        self.profiles: tuple[VideoProfile, ...] = ()
        self.segments_done = 0
        self.segments_failed = 0
        self.pixels = 0
        self.realtime_ratio: float | None = None
        self.last_error: str | None = None
        self.preview: np.ndarray | None = None
        self._clock = clock
        self.last_seen = clock()
        self.current: SegmentJob | None = None
        self.task: asyncio.Task | None = None

    def status(self) -> SessionStatus:
        return SessionStatus(
            session_id=self.id,
            gateway=self.gateway,
            manifest_id=self.manifest_id,
            profiles=tuple(f"{p.name} {p.width}x{p.height}" for p in self.profiles),
            segments_done=self.segments_done,
            segments_failed=self.segments_failed,
            pixels=self.pixels,
            realtime_ratio=self.realtime_ratio,
            last_error=self.last_error,
            queued=self.queue.qsize() + (1 if self.current else 0),
            idle_s=max(0.0, self._clock() - self.last_seen),
            preview=self.preview,
        )


class SessionManager:
    """Lives on the node's event loop; `snapshot` may be called from any thread."""

    def __init__(
        self,
        max_sessions: int,
        transcoder: Transcoder,
        on_done: SegmentDone,
        *,
        queue_size: int = 4,
        idle_timeout_s: float = 70.0,
        gateway_share: float = 1.0,
        clock=time.monotonic,
    ):
        if not 0 < gateway_share <= 1:
            raise ValueError(f"gateway share {gateway_share} must be more than 0 and at most 1")
        self.max_sessions = max_sessions
        self.gateway_share = gateway_share
        self._transcoder = transcoder
        self._on_done = on_done
        self._queue_size = queue_size
        self._idle = idle_timeout_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._refused: OrderedDict[str, _Refusals] = OrderedDict()
        self._lock = threading.Lock()  # guards the dicts for snapshot()/gateways() from other threads
        self.on_count_changed: Callable[[int], None] = lambda n: None

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def per_gateway(self) -> int:
        """The most sessions one gateway may hold: its share of the slots, at least one."""
        return max(1, math.floor(self.gateway_share * self.max_sessions + 1e-9))

    def held_by(self, gateway: str) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.gateway == gateway)

    def check_capacity(self, session_id: str | None, gateway: str, *, record: bool = True) -> None:
        """CapacityError when `session_id` is not live and every slot is taken; GatewayShareError when
        `gateway` already holds its share. A refusal is remembered for gateways() unless `record` is off
        (a discovery probe)."""
        if session_id is not None and session_id in self._sessions:
            return
        if len(self._sessions) >= self.max_sessions:
            error: CapacityError = CapacityError()
            reason = "full"
        elif (held := self.held_by(gateway)) >= self.per_gateway:
            error = GatewayShareError(gateway, held, self.max_sessions, self.gateway_share, self._idle)
            reason = "share"
        else:
            return
        if record:
            self._remember_refusal(gateway, reason)
        raise error

    def _remember_refusal(self, gateway: str, reason: str) -> None:
        with self._lock:
            entry = self._refused.pop(gateway, None) or _Refusals(0, 0.0, reason)
            entry.count += 1
            entry.last_at = self._clock()
            entry.reason = reason
            self._refused[gateway] = entry
            while len(self._refused) > REFUSALS_KEPT:
                self._refused.popitem(last=False)

    def submit(self, session_id: str, manifest_id: str, gateway: str, job: SegmentJob) -> None:
        """Queue a segment, starting the session if needed; CapacityError / BusyError if refused."""
        session = self._sessions.get(session_id)
        if session is None:
            self.check_capacity(session_id, gateway)
            session = Session(session_id, manifest_id, gateway, self._queue_size, self._clock)
            with self._lock:
                self._sessions[session_id] = session
            session.task = asyncio.get_running_loop().create_task(self._loop(session), name=f"session-{session_id}")
            self.on_count_changed(len(self._sessions))
        try:
            session.queue.put_nowait(job)
        except asyncio.QueueFull:
            raise BusyError() from None
        session.last_seen = self._clock()
        session.manifest_id = manifest_id or session.manifest_id

    async def _loop(self, session: Session) -> None:
        try:
            while True:
                try:
                    job = await asyncio.wait_for(session.queue.get(), timeout=self._idle)
                except TimeoutError:
                    return  # idle: the session ends and frees its slot
                session.current = job
                session.profiles = job.profiles
                try:
                    result = await self._transcoder(job)
                except asyncio.CancelledError:
                    job.cancel.set()
                    if not job.result.done():
                        job.result.set_exception(RuntimeError("node shutting down"))
                    raise
                except Exception as exc:
                    session.segments_failed += 1
                    session.last_error = str(exc)
                    self._on_done(session, job, None, exc)
                    if not job.result.done():
                        job.result.set_exception(exc)
                else:
                    session.segments_done += 1
                    session.pixels += sum(r.pixels for r in result.renditions)
                    if result.duration_s > 0:
                        session.realtime_ratio = result.wall_s / result.duration_s
                    if result.preview is not None:
                        session.preview = result.preview
                    session.last_error = None
                    self._on_done(session, job, result, None)
                    if not job.result.done():
                        job.result.set_result(result)
                finally:
                    session.current = None
                    session.last_seen = self._clock()
                    # Not kept while waiting for the next segment (up to the idle timeout): a failed job's
                    # future holds an exception whose traceback holds this frame, so the job, its bytes
                    # and the exception would also form a cycle.
                    job = result = None
        finally:
            self._drop(session)

    def _drop(self, session: Session) -> None:
        with self._lock:
            if self._sessions.get(session.id) is session:
                del self._sessions[session.id]
        while not session.queue.empty():
            job = session.queue.get_nowait()
            if not job.result.done():
                job.result.set_exception(RuntimeError("session ended"))
        self.on_count_changed(len(self._sessions))

    async def end(self, session_id: str) -> bool:
        """End a session now (EndTranscodingSession); False if it was not live."""
        session = self._sessions.get(session_id)
        if session is None or session.task is None:
            return False
        session.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await session.task
        return True

    async def close(self) -> None:
        for sid in list(self._sessions):
            await self.end(sid)

    def snapshot(self) -> tuple[SessionStatus, ...]:
        with self._lock:
            sessions = list(self._sessions.values())
        return tuple(s.status() for s in sessions)

    def gateways(self) -> tuple[GatewayShare, ...]:
        """Every gateway holding a session or refused one (most sessions first, then latest refusal)."""
        now = self._clock()
        with self._lock:
            held: dict[str, int] = {}
            for s in self._sessions.values():
                held[s.gateway] = held.get(s.gateway, 0) + 1
            refused = dict(self._refused)
        rows = [
            GatewayShare(
                gateway=g, sessions=held.get(g, 0),
                refused=refused[g].count if g in refused else 0,
                refused_ago_s=max(0.0, now - refused[g].last_at) if g in refused else None,
                refused_because=refused[g].reason if g in refused else None,
            )
            for g in held.keys() | refused.keys()
        ]
        return tuple(sorted(rows, key=lambda r: (-r.sessions, r.refused_ago_s if r.refused_ago_s is not None else math.inf, r.gateway)))
