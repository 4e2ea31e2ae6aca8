"""The node's background services (chain-state poller, price feed, redeemer, reward autopilot, ticket
statistics) each run one daemon thread between `start()` and `stop()`; this is that thread's lifecycle."""

from __future__ import annotations

import threading


class Background:
    thread_name = "lpc-service"
    join_s = 10.0  # how long stop() waits for the loop (longer where a transaction may be in flight)

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.join_s)

    def _run(self) -> None:
        raise NotImplementedError
