"""One stream's orchestrator sessions: which one takes the next segment, stickiness, suspension and pool
refreshes, as go-livepeer's gateway does it (`server/broadcast.go`, `selection.go`, `suspensions.go`;
gateway-wire.md §4). Pure bookkeeping: discovery (the network) is a callable handed in.

Rules:
- A refresh asks `asked` = min(candidates, 8) orchestrators; the answers come back in latency order
  (offchain) and become *unknown* sessions. A session that finished a segment becomes *known* with its
  latency score = round trip ÷ max(1.5 s, segment duration).
- Next segment: the session used last is reused when its score is ≤ 1 (faster than real time) and it has
  nothing in flight, or while its oldest segment in flight is younger than one segment duration; else the
  known session with the lowest score ≤ 1; else the next unknown one (in order, or by `pick` on chain);
  else any known one. A change of session counts a swap (livepeer_orchestrator_swaps).
- A failed session is suspended for this stream: it leaves the pool for ceil(pool size ÷ asked)
  whole refreshes after the one it failed in (go-livepeer lifts a penalty of 1 at the very next refresh,
  which, with a small pool, is the refresh its own failure caused: it would be back at once). While
  suspended it is used only when too few others answer, at the back of the order. A refresh starts when fewer than
  min(8, ceil(asked ÷ 2)) sessions are left (or none is left for a segment).
- A segment never goes twice to the same orchestrator (`exclude`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.gateway.ports import OrchestratorView, StreamPoolView

MAX_ASKED = 8  # 2 × HTTP timeout (8 s) ÷ segment length (2 s)
MIN_SCORE_WINDOW_S = 1.5


def latency_score(round_trip_s: float, duration_s: float) -> float:
    return round_trip_s / max(MIN_SCORE_WINDOW_S, duration_s)


@dataclass(eq=False)
class OrchSession:
    """One orchestrator as one stream uses it."""

    uri: str  # the candidate's address as discovered (an -orchAddr entry, a webhook or service URI)
    info: object  # net.OrchestratorInfo (refreshed by results)
    latency_s: float  # GetOrchestrator round trip
    stake: int = 0  # on chain (selection weight)
    payment: object | None = None  # core.payments.sender.PaymentSession on chain
    score: float | None = None
    in_flight: dict[int, float] = field(default_factory=dict)  # seq -> monotonic start
    info_at: float = field(default_factory=time.time)

    @property
    def transcoder(self) -> str:
        return self.info.transcoder

    @property
    def address(self) -> bytes:
        return bytes(self.info.address)

    def price(self) -> str:
        p = self.info.price_info
        if not p.pixelsPerUnit or not p.pricePerUnit:
            return "0"
        return f"{p.pricePerUnit}/{p.pixelsPerUnit}"


@dataclass(frozen=True)
class Discovered:
    sessions: tuple[OrchSession, ...]  # usable, in preference (latency) order
    unreachable: tuple[tuple[str, str], ...]  # (uri, why) for those that gave no usable answer


class SessionPool:
    """Thread-safe: consecutive segments of one stream may be in flight at once."""

    def __init__(self, discover: Callable[[], Discovered], candidates: Callable[[], int],
                 pick: Callable[[list[OrchSession]], OrchSession] | None = None,
                 on_swap: Callable[[str | None, str], None] | None = None):
        self._discover = discover
        self._candidates = candidates
        self._pick = pick
        self._on_swap = on_swap
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._unknown: list[OrchSession] = []
        self._known: list[OrchSession] = []
        self._suspended: dict[str, tuple[int, str, str]] = {}  # uri -> (lifted at refresh n, why, transcoder)
        self._unreachable: dict[str, str] = {}
        self._addresses: dict[str, str] = {}  # uri -> 0x… of the suspended
        self._refreshes = 0
        self.last: OrchSession | None = None
        self.swaps = 0

    # ------------------------------------------------------------------ refreshes
    @property
    def asked(self) -> int:
        return max(1, min(self._candidates(), MAX_ASKED))

    def _live(self) -> list[OrchSession]:
        return self._known + self._unknown

    def needs_refresh(self) -> bool:
        asked = self.asked  # may read the chain or a webhook: outside the lock
        with self._lock:
            return self._refreshes == 0 or len(self._live()) < min(MAX_ASKED, math.ceil(asked / 2))

    def refresh(self) -> None:
        """Discover again (one refresh at a time; a caller arriving during one waits for it)."""
        if not self._refresh_lock.acquire(blocking=False):
            with self._refresh_lock:  # someone else refreshed: use theirs
                return
        try:
            found = self._discover()
            asked = self.asked
            with self._lock:
                self._refreshes += 1
                for uri, (until, _, _) in list(self._suspended.items()):
                    if until < self._refreshes:  # sat out `penalty` whole refreshes after the one it failed in
                        del self._suspended[uri]
                have = {s.uri for s in self._live()}
                fresh = [s for s in found.sessions if s.uri not in have and s.uri not in self._suspended]
                back = [s for s in found.sessions if s.uri not in have and s.uri in self._suspended]
                self._unknown.extend(fresh)
                if len(self._live()) < min(MAX_ASKED, math.ceil(asked / 2)):
                    # too few others answered: the suspended come back, at the back of the order (still
                    # marked suspended until one of them gets a segment through)
                    self._unknown.extend(back)
                self._unreachable = dict(found.unreachable)
        finally:
            self._refresh_lock.release()

    # ------------------------------------------------------------------ choosing
    def select(self, duration_s: float, exclude: set[str]) -> OrchSession | None:
        now = time.monotonic()
        with self._lock:
            live = [s for s in self._live() if s.uri not in exclude]
            chosen = None
            last = self.last if self.last in live else None
            if last is not None:
                idle_fast = not last.in_flight and (last.score is None or last.score <= 1.0)
                busy_young = bool(last.in_flight) and now - min(last.in_flight.values()) < duration_s
                if idle_fast or busy_young:
                    chosen = last
            if chosen is None:
                fast = [s for s in self._known if s in live and not s.in_flight and s.score is not None
                        and s.score <= 1.0]
                if fast:
                    chosen = min(fast, key=lambda s: s.score)
            if chosen is None:
                unknown = [s for s in self._unknown if s in live and not s.in_flight]
                if unknown:
                    chosen = self._pick(unknown) if self._pick else unknown[0]
            if chosen is None:
                idle = [s for s in self._known if s in live and not s.in_flight]
                if idle:
                    chosen = min(idle, key=lambda s: s.score if s.score is not None else math.inf)
            if chosen is None and live:  # everyone busy: queue behind the least busy
                chosen = min(live, key=lambda s: len(s.in_flight))
            if chosen is None:
                return None
            swapped = self.last is not None and chosen is not self.last
            old = self.last.transcoder if self.last is not None else None
            self.last = chosen
            if swapped:
                self.swaps += 1
        if swapped and self._on_swap:
            self._on_swap(old, chosen.transcoder)
        return chosen

    def begin(self, session: OrchSession, seq: int) -> None:
        with self._lock:
            session.in_flight[seq] = time.monotonic()

    def complete(self, session: OrchSession, seq: int, round_trip_s: float, duration_s: float) -> None:
        with self._lock:
            session.in_flight.pop(seq, None)
            session.score = latency_score(round_trip_s, duration_s)
            if session in self._unknown or session in self._known:  # (a session suspended meanwhile stays so)
                self._suspended.pop(session.uri, None)
            if session in self._unknown:
                self._unknown.remove(session)
                self._known.append(session)

    def release(self, session: OrchSession, seq: int) -> None:
        """The attempt ended without blame (the input was bad): the session stays as it was."""
        with self._lock:
            session.in_flight.pop(seq, None)

    def suspend(self, session: OrchSession, why: str) -> None:
        candidates, asked = max(1, self._candidates()), self.asked
        with self._lock:
            session.in_flight.clear()
            for group in (self._unknown, self._known):
                if session in group:
                    group.remove(session)
            penalty = math.ceil(candidates / asked)
            self._suspended[session.uri] = (self._refreshes + penalty, why, session.transcoder)
            self._addresses[session.uri] = "0x" + session.address.hex().rjust(40, "0")

    def sessions(self) -> list[OrchSession]:
        with self._lock:
            return list(self._live())

    # ------------------------------------------------------------------ watching
    def view(self) -> StreamPoolView:
        with self._lock:
            rows = []
            live = self._live()
            for s in live:
                held = self._suspended.get(s.uri)
                rows.append(OrchestratorView(
                    uri=s.transcoder, address="0x" + s.address.hex().rjust(40, "0"), price_wei_per_pixel=s.price(),
                    latency_s=s.latency_s, state="suspended" if held else "in use" if s is self.last else "ready",
                    note=held[1] + " (kept as a last resort)" if held else ""))
            for uri, (_, why, transcoder) in self._suspended.items():
                if any(s.uri == uri for s in live):
                    continue
                rows.append(OrchestratorView(uri=transcoder, address=self._addresses.get(uri, ""),
                                             price_wei_per_pixel="0", latency_s=None, state="suspended", note=why))
            seen = {r.uri for r in rows}
            for uri, why in self._unreachable.items():
                if uri not in seen:
                    rows.append(OrchestratorView(uri=uri, address="", price_wei_per_pixel="0", latency_s=None,
                                                 state="unreachable", note=why))
            return StreamPoolView(orchestrators=tuple(rows),
                                  in_use=self.last.transcoder if self.last is not None else None, swaps=self.swaps)
