"""Where an RTMP stream's cut segments wait for the network: a bounded queue per stream and a few worker
threads that hand each segment to `LiveStream.segment` (which blocks until transcoded).

The rule:
- At most IN_FLIGHT segments of one stream are being transcoded at once (go-livepeer starts a goroutine
  per segment, unbounded); they may finish out of order, the playlists place them by number.
- At most WAITING more wait behind them. When a new segment finds the queue full, the OLDEST waiting
  segment is dropped with a warning naming it: transcoding is slower than the stream, and for live video
  the newest seconds matter most (keeping the oldest would make the delay grow without end). The RTMP
  reader never waits on transcoding.
- `close(wait=True)` lets the queue run dry (the publisher left: its last segments still go out);
  `close(wait=False)` drops what is waiting (the gateway is stopping). Both wait for the segments in
  flight, whose deadlines are the broadcaster's.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from core.gateway.ports import SourceSegment, TranscodeError

log = logging.getLogger(__name__)

IN_FLIGHT = 3
WAITING = 6


class SegmentQueue:
    def __init__(self, manifest_id: str, handle: Callable[[SourceSegment], object], *,
                 in_flight: int = IN_FLIGHT, waiting: int = WAITING) -> None:
        self.manifest_id = manifest_id
        self._handle = handle
        self._in_flight = in_flight
        self._waiting_max = waiting
        self._waiting: deque[SourceSegment] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._workers: list[threading.Thread] = []
        self._idle = 0
        self.dropped: list[int] = []  # seqs dropped because the queue was full
        self.failed = 0

    def put(self, segment: SourceSegment) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._waiting) >= self._waiting_max:
                old = self._waiting.popleft()
                self.dropped.append(old.seq)
                log.warning("stream %s: segment %d dropped: %d segments were already waiting for "
                            "transcoding (the orchestrators are slower than the stream)",
                            self.manifest_id, old.seq, self._waiting_max)
            self._waiting.append(segment)
            if self._idle == 0 and len(self._workers) < self._in_flight:
                worker = threading.Thread(target=self._work, daemon=True,
                                          name=f"rtmp-segment-{self.manifest_id}-{len(self._workers)}")
                self._workers.append(worker)
                worker.start()
            else:
                self._cond.notify()

    def close(self, *, wait: bool, timeout: float | None = None) -> None:
        with self._cond:
            self._closed = True
            if not wait:
                self._waiting.clear()
            self._cond.notify_all()
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                while not self._waiting and not self._closed:
                    self._cond.wait()
                self._idle -= 1
                if not self._waiting:
                    return
                segment = self._waiting.popleft()
            try:
                self._handle(segment)
            except TranscodeError as exc:
                self.failed += 1
                log.warning("stream %s: segment %d not transcoded (%s): %s", self.manifest_id, segment.seq,
                            exc.kind, exc)
            except Exception as exc:  # noqa: BLE001 — one bad segment must not end the stream
                self.failed += 1
                log.warning("stream %s: segment %d failed: %s", self.manifest_id, segment.seq, exc)
