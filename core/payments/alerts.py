"""Operator alerts in the store (a missed reward, a ticket given up), also sent to the log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.store.db import Store
from core.store.models import Alert

log = logging.getLogger("lpc.alerts")


@dataclass(frozen=True)
class AlertEntry:
    id: int
    created_at: datetime | None
    source: str
    severity: str
    message: str

    def to_json(self) -> dict:
        return {"id": self.id, "created_at": self.created_at.isoformat() if self.created_at else None,
                "source": self.source, "severity": self.severity, "message": self.message}


class Alerts:
    def __init__(self, store: Store):
        self._store = store

    def raise_(self, source: str, message: str, severity: str = "error") -> None:
        (log.error if severity == "error" else log.warning)("%s: %s", source, message)
        with self._store.sessions.begin() as s:
            s.add(Alert(source=source, severity=severity, message=message))

    def recent(self, limit: int = 50, source: str | None = None) -> list[AlertEntry]:
        stmt = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if source:
            stmt = stmt.where(Alert.source == source)
        with self._store.sessions() as s:
            return [AlertEntry(a.id, a.created_at, a.source, a.severity, a.message) for a in s.scalars(stmt)]
