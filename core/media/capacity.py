"""How many concurrent transcoding sessions this machine sustains (`--max-sessions auto`).

The livepeer_bench method, kept short: N sessions each transcode the same 720p30 source through the
common ladder at once; the real-time ratio is wall time / source duration; the capacity is the
largest N whose ratio is <= 0.8 (20 % headroom for transfers), and at least 1.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Executor

from core.media.encoders import EncoderChoice
from core.media.ladder import transcode
from core.media.profiles import COMMON_LADDER
from core.media.synthetic import make_segment

log = logging.getLogger(__name__)

REALTIME_LIMIT = 0.8


def realtime_ratio(source: bytes, duration_s: float, encoder: EncoderChoice, sessions: int, profiles=COMMON_LADDER,
                   pool: Executor | None = None) -> float:
    """Wall seconds / source seconds for `sessions` concurrent transcodes of `source` (encoded on `pool`,
    the node's rendition pool, so the measurement sees the threads the node will have)."""
    errors: list[BaseException] = []

    def one() -> None:
        try:
            transcode(source, profiles, encoder, pool=pool)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return (time.perf_counter() - started) / duration_s


def measure_max_sessions(encoder: EncoderChoice, *, seconds: float = 1.0, limit: int = 32,
                         pool: Executor | None = None) -> int:
    source = make_segment(1280, 720, seconds, 30, bitrate=6_000_000, preset="veryfast")
    best = 0
    for n in range(1, limit + 1):
        ratio = realtime_ratio(source, seconds, encoder, n, pool=pool)
        log.info("capacity probe: %d session(s), real-time ratio %.2f", n, ratio)
        if ratio > REALTIME_LIMIT:
            break
        best = n
    if best == 0:
        log.warning("even one session is slower than %.1fx real time here; allowing 1 session", REALTIME_LIMIT)
    return max(1, best)
