"""Finished renditions, kept in memory for the gateway to download from the URLs in TranscodeResult."""

from __future__ import annotations

import secrets
import threading
import time


class RenditionStore:
    def __init__(self, ttl_s: float = 120.0, max_bytes: int = 512 * 1024 * 1024, clock=time.monotonic):
        self._ttl = ttl_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._items: dict[str, tuple[bytes, float, str]] = {}  # path -> (data, expires, session)
        self._lock = threading.Lock()

    def put(self, session_id: str, seq: int, index: int, data: bytes) -> str:
        """Store one rendition; returns its URL path."""
        path = f"/stream/{session_id}/{secrets.token_hex(6)}/{seq}_{index}.ts"
        with self._lock:
            self._purge_locked()
            self._items[path] = (data, self._clock() + self._ttl, session_id)
            total = sum(len(d) for d, _, _ in self._items.values())
            while total > self._max_bytes and len(self._items) > 1:  # oldest first
                oldest = next(iter(self._items))
                total -= len(self._items.pop(oldest)[0])
        return path

    def get(self, path: str) -> bytes | None:
        with self._lock:
            item = self._items.get(path)
            if item is None or item[1] < self._clock():
                return None
            return item[0]

    def _purge_locked(self) -> None:
        now = self._clock()
        for path in [p for p, (_, exp, _) in self._items.items() if exp < now]:
            del self._items[path]

    def purge(self) -> None:
        with self._lock:
            self._purge_locked()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return sum(len(d) for d, _, _ in self._items.values())
