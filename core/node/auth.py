"""Auth tokens handed out in OrchestratorInfo and checked on every segment.

As go-livepeer: token = HMAC-SHA256(node secret, session_id || expiration as minimal big-endian bytes);
the session id is random; expiry is now + 30 minutes. The secret lives only in memory, so tokens die
with the process (gateways then call GetOrchestrator again).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class AuthToken:
    token: bytes
    session_id: str
    expiration: int  # unix seconds


def _int_bytes(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big") if n >= 0 else b""


class AuthTokens:
    def __init__(self, ttl_s: int = 1800, secret: bytes | None = None, clock=time.time):
        self._secret = secret or secrets.token_bytes(32)
        self._ttl = ttl_s
        self._clock = clock

    def _mac(self, session_id: str, expiration: int) -> bytes:
        return hmac.new(self._secret, session_id.encode() + _int_bytes(expiration), hashlib.sha256).digest()

    def issue(self, session_id: str | None = None) -> AuthToken:
        sid = session_id or secrets.token_hex(8)
        exp = int(self._clock()) + self._ttl
        return AuthToken(self._mac(sid, exp), sid, exp)

    def verify(self, token: bytes, session_id: str, expiration: int) -> str:
        """The session id when the token is ours and unexpired, else AuthError."""
        if not token or not hmac.compare_digest(token, self._mac(session_id, expiration)):
            raise AuthError("Invalid auth token")
        if expiration < self._clock():
            raise AuthError("Expired auth token")
        return session_id
