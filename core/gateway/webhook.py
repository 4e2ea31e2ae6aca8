"""`-orchWebhookUrl` discovery, as go-livepeer's (`discovery/wh_discovery.go`): GET the URL, whose answer
is a JSON list `[{"address": "https://host:port", "score": 1}, …]`; the list is cached for one minute
(`WebhookDiscoveryRefreshInterval`) and the last good one is kept when the webhook fails. Addresses are
parsed as -orchAddr entries are (core/gateway/discovery.orch_uri)."""

from __future__ import annotations

import logging
import threading
import time

import httpx

from core import safe_json
from core.gateway.discovery import orch_uri

log = logging.getLogger(__name__)

REFRESH_S = 60.0
TIMEOUT_S = 5.0


class WebhookDiscovery:
    def __init__(self, url: str, *, refresh_s: float = REFRESH_S):
        self.url = url
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._addresses: list[str] = []
        self._at: float | None = None

    def addresses(self, observer=None) -> list[str]:
        with self._lock:
            if self._at is not None and time.monotonic() - self._at < self.refresh_s:
                return list(self._addresses)
            try:
                self._addresses = self._fetch()
            except WebhookError as exc:
                log.warning("orchestrator webhook %s: %s (keeping %d known)", self.url, exc, len(self._addresses))
                if observer is not None:
                    observer.discovery_error(self.url, str(exc))
            self._at = time.monotonic()
            return list(self._addresses)

    def _fetch(self) -> list[str]:
        try:
            r = httpx.get(self.url, timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            raise WebhookError(f"no answer ({type(exc).__name__})") from None
        if r.status_code != 200:
            raise WebhookError(f"HTTP {r.status_code}")
        try:
            rows = safe_json.loads(r.content)
        except ValueError:
            raise WebhookError("the answer is not JSON") from None
        if not isinstance(rows, list):
            raise WebhookError('the answer is not a JSON list of {"address": …, "score": …}')
        out: list[str] = []
        for row in rows:
            addr = row.get("address") if isinstance(row, dict) else None
            if not isinstance(addr, str) or not addr.strip():
                continue
            try:
                uri = orch_uri(addr)
            except ValueError:
                continue
            if uri not in out:
                out.append(uri)
        return out


class WebhookError(Exception):
    """The webhook's answer could not be used; the message says why."""
