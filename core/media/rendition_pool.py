"""The node-wide pool of threads that encode renditions, shared by every segment of every session.

A rendition's encoder works single-threaded (libx264 `threads=1`) on whichever pool thread picks up its
frames, so the threads a node spends on encoding are this pool's size, whatever the ladder and however
many sessions run: before, each rendition of each segment had a thread of its own plus libx264's frame
threads (64 renditions of one segment ran 464 threads). The parallelism is across renditions and
segments; with at least as many renditions in flight as cores, every core is busy.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor


def default_threads() -> int:
    """One encoding thread per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def rendition_pool(threads: int = 0) -> ThreadPoolExecutor:
    """The pool for `ladder.transcode(..., pool=)`; `threads` 0 = one per core."""
    if threads < 0:
        raise ValueError(f"encoder threads must be 0 (one per core) or more, not {threads}")
    return ThreadPoolExecutor(threads or default_threads(), thread_name_prefix="rendition")
