"""AI results kept in memory for the gateway to download: GET /stream/<requestID>/<n><ext> on the service port.

go-livepeer's orchestrator saves every result of a batch AI job in its memory storage and answers with
absolute https://<serviceAddr>/stream/<requestID>/<name> URLs that expire after 10 minutes
(aiWorkerResultsTimeout). This store does the same, bounded in bytes so that a burst of large results
(mp4s, 4x upscales) cannot take the node's memory: over the bound the oldest results go first. The request
id is random (12 bytes, hex), so one gateway cannot guess another's results.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

RESULT_TTL_S = 600.0  # go-livepeer's aiWorkerResultsTimeout
MAX_BYTES = 512 * 1024 * 1024

_PATH = re.compile(r"/stream/([0-9a-f]{24})/(\d+)(\.[a-z0-9]{1,5})")


@dataclass(frozen=True)
class StoredResult:
    data: bytes
    content_type: str
    expires: float


class AIResultStore:
    def __init__(self, ttl_s: float = RESULT_TTL_S, max_bytes: int = MAX_BYTES, clock=time.monotonic):
        self._ttl = ttl_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, StoredResult] = OrderedDict()  # path -> result, oldest first
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def new_request_id() -> str:
        return secrets.token_hex(12)

    @staticmethod
    def is_result_path(path: str) -> bool:
        """True for the paths this store hands out (a transcoding rendition's /stream/ path is not one)."""
        return _PATH.fullmatch(path) is not None

    def put(self, request_id: str, index: int, data: bytes, content_type: str, extension: str) -> str:
        """Store one produced file; returns its URL path, /stream/<request_id>/<index><extension>."""
        path = f"/stream/{request_id}/{index}{extension}"
        if not _PATH.fullmatch(path):
            raise ValueError(f"not a result path: {path!r}")
        with self._lock:
            self._purge_locked()
            old = self._items.pop(path, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._items[path] = StoredResult(data, content_type, self._clock() + self._ttl)
            self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._items) > 1:  # oldest first
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.data)
        return path

    def get(self, path: str) -> StoredResult | None:
        with self._lock:
            item = self._items.get(path)
            if item is None or item.expires < self._clock():
                return None
            return item

    def _purge_locked(self) -> None:
        now = self._clock()
        for path in [p for p, r in self._items.items() if r.expires < now]:
            self._bytes -= len(self._items.pop(path).data)

    def purge(self) -> None:
        with self._lock:
            self._purge_locked()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return self._bytes
