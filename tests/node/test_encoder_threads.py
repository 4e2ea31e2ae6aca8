"""Renditions are encoded on one bounded pool per node: however many segments and renditions arrive at
once, the node's threads stay within a figure fixed by its configuration (before, every rendition of
every segment had a thread of its own plus libx264's frame threads: 64 renditions ran 464 threads)."""

from __future__ import annotations

import os
import threading

import psutil

from core.media.ladder import DECODE_THREADS
from core.media.profiles import VideoProfile
from tests.node.gateway import probe, download, transcode

SESSIONS = 4
ENCODER_THREADS = 2


def test_concurrent_full_ladders_stay_within_the_nodes_thread_bound(node_factory, clips):
    _, gw = node_factory(max_sessions=SESSIONS, encoder_threads=ENCODER_THREADS)
    ladder = [VideoProfile(f"r{i}", 320 - 32 * i, 180 - 18 * i, 300_000) for i in range(8)]  # node.max_renditions
    infos = [gw.get_orchestrator() for _ in range(SESSIONS)]
    proc = psutil.Process()
    baseline = proc.num_threads()
    results: list = [None] * SESSIONS

    def send(i: int) -> None:
        results[i] = transcode(infos[i], clips["180p"], ladder, manifest=f"stream-{i}".encode())

    clients = [threading.Thread(target=send, args=(i,)) for i in range(SESSIONS)]
    for t in clients:
        t.start()
    peak = baseline
    while any(t.is_alive() for t in clients):
        peak = max(peak, proc.num_threads())
        clients[0].join(timeout=0.005)  # a short wait between samples, not a timing assumption
    for t in clients:
        t.join()

    for result in results:
        assert result.WhichOneof("result") == "data", result.error
        assert len(result.data.segments) == len(ladder)
        for profile, seg in zip(ladder, result.data.segments):
            assert probe(download(seg.url))[:3] == (30, profile.width, profile.height)
    # What may run besides the baseline: the shared encoder pool, one demux/decode thread per session with
    # its decoder's frame threads, asyncio's default executor (payments, info), and this test's clients.
    default_executor = min(32, (os.cpu_count() or 1) + 4)
    bound = ENCODER_THREADS + SESSIONS * (1 + DECODE_THREADS) + default_executor + SESSIONS
    assert peak - baseline <= bound, f"{peak - baseline} threads more than before the segments; bound {bound}"
