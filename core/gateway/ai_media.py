"""The gateway's re-hosted AI results: the images, audio and video an orchestrator made for a request,
kept in memory and served as `/stream/<requestID>/<name><ext>` on the gateway's HTTP port
(ai-gateway-wire.md §0.6).

Why re-host: an orchestrator's result URLs point at the orchestrator (absolute https URLs that expire
after 10 min) or are data: URIs. go-livepeer's gateway downloads each one and saves it in its own
memory storage (go-tools `drivers/local.go`), answering relative `/stream/...` URLs that a client
resolves against the gateway; lpc does the same, so a client never talks to an orchestrator.

Bounds (go-tools keeps a ring of 12 files per directory and no byte bound; lpc adds one):
- each request directory keeps its newest `files_per_request` (12) files;
- all directories together hold at most `max_bytes`; the oldest files go first;
- a file over `max_file_bytes` is refused (MediaTooLarge), nothing is stored.
Thread-safe: the HTTP handler stores and serves from the event loop, downloads finish in threads.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

FILES_PER_REQUEST = 12  # go-tools' memory driver ring
MAX_BYTES = 512 << 20
MAX_FILE_BYTES = 200 << 20

# Content-Type by extension (go-livepeer serves these by the OS mime table; these are its answers on
# Debian, except .wav, which the runner and the SDK call audio/wav)
CONTENT_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
    ".mp4": "video/mp4", ".webm": "video/webm", ".json": "application/json", ".txt": "text/plain; charset=utf-8",
}
EXTENSION_OF = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
                "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/mpeg": ".mp3",
                "audio/flac": ".flac", "audio/ogg": ".ogg", "video/mp4": ".mp4", "video/webm": ".webm"}

_REQUEST_ID = re.compile(r"^[0-9a-f]{16}$")
_NAME = re.compile(r"^[0-9a-f]{8}\.[a-z0-9]{2,5}$")


class MediaTooLarge(Exception):
    """A result file over the store's per-file limit; the message gives both sizes."""


@dataclass(frozen=True)
class StoredMedia:
    data: bytes = field(repr=False)
    content_type: str


def content_type_of(name: str) -> str:
    dot = name.rfind(".")
    return CONTENT_TYPES.get(name[dot:].lower(), "application/octet-stream") if dot >= 0 else "application/octet-stream"


def new_request_id() -> str:
    """16 hex digits: the directory of one request's results (and the id in its logs)."""
    return secrets.token_hex(8)


def is_request_id(text: str) -> bool:
    return bool(_REQUEST_ID.match(text))


class AIMediaStore:
    def __init__(self, *, max_bytes: int = MAX_BYTES, files_per_request: int = FILES_PER_REQUEST,
                 max_file_bytes: int = MAX_FILE_BYTES):
        self.max_bytes = max_bytes
        self.files_per_request = files_per_request
        self.max_file_bytes = min(max_file_bytes, max_bytes)
        self._files: OrderedDict[tuple[str, str], StoredMedia] = OrderedDict()  # oldest first
        self._per_request: dict[str, list[str]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    def put(self, request_id: str, data: bytes, extension: str) -> str:
        """Keep `data` under the request's directory; its URL relative to the gateway
        (`/stream/<requestID>/<8 hex><ext>`). MediaTooLarge when over the per-file limit."""
        if not is_request_id(request_id):
            raise ValueError(f"{request_id!r} is not a request id (16 hex digits)")
        ext = extension.lower() if extension.startswith(".") else "." + extension.lower()
        if not re.match(r"^\.[a-z0-9]{2,5}$", ext):
            raise ValueError(f"{extension!r} is not a file extension")
        if len(data) > self.max_file_bytes:
            raise MediaTooLarge(f"a result of {len(data):,} bytes is larger than the gateway keeps "
                                f"({self.max_file_bytes:,} bytes per file)")
        name = secrets.token_hex(4) + ext
        with self._lock:
            names = self._per_request.setdefault(request_id, [])
            names.append(name)
            self._files[(request_id, name)] = StoredMedia(data, content_type_of(name))
            self._bytes += len(data)
            while len(names) > self.files_per_request:  # the directory's ring
                self._drop((request_id, names[0]))
            while self._bytes > self.max_bytes and self._files:
                self._drop(next(iter(self._files)))
        return f"/stream/{request_id}/{name}"

    def _drop(self, key: tuple[str, str]) -> None:
        media = self._files.pop(key, None)
        if media is None:
            return
        self._bytes -= len(media.data)
        names = self._per_request.get(key[0])
        if names is not None:
            if key[1] in names:
                names.remove(key[1])
            if not names:
                del self._per_request[key[0]]

    def get(self, request_id: str, name: str) -> StoredMedia | None:
        if not is_request_id(request_id) or not _NAME.match(name):
            return None
        with self._lock:
            return self._files.get((request_id, name))

    def get_path(self, rest: str) -> StoredMedia | None:
        """The file at `/stream/<rest>` when `rest` is `<requestID>/<name>` of a stored result, else None
        (the HLS paths under /stream/ are then tried)."""
        parts = rest.split("/")
        if len(parts) != 2:
            return None
        return self.get(parts[0], parts[1])

    def drop_request(self, request_id: str) -> None:
        """Forget every file of a request (a request that failed after storing some of its results)."""
        with self._lock:
            for name in list(self._per_request.get(request_id, ())):
                self._drop((request_id, name))
