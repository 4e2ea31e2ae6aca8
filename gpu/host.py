"""Host figures from psutil, each read on its own (a failed one is `NA`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import psutil

from gpu.na import NA, NAType
from gpu.snapshot import HostSnapshot

log = logging.getLogger(__name__)
T = TypeVar("T")


class HostReader:
    """Reads CPU, memory and load. CPU percentages are over the time since the previous read; the first
    read measures over `prime_interval` seconds (psutil has nothing to compare with before that)."""

    def __init__(self, *, prime_interval: float = 0.1) -> None:
        self._prime_interval = prime_interval
        self._primed = False
        self._failed: set[str] = set()

    def read(self) -> HostSnapshot:
        interval = None if self._primed else self._prime_interval
        self._primed = True
        per_cpu = self._field("per_cpu_pct", lambda: tuple(psutil.cpu_percent(interval=interval, percpu=True)))
        cpu = NA if per_cpu is NA or not per_cpu else round(sum(per_cpu) / len(per_cpu), 1)
        vm = self._field("memory", psutil.virtual_memory)
        swap = self._field("swap", psutil.swap_memory)
        return HostSnapshot(
            cpu_pct=cpu,
            per_cpu_pct=per_cpu,
            cpu_count=self._field("cpu_count", lambda: psutil.cpu_count() or NA),
            memory_used_bytes=NA if vm is NA else vm.total - vm.available,
            memory_total_bytes=NA if vm is NA else vm.total,
            memory_pct=NA if vm is NA else vm.percent,
            swap_used_bytes=NA if swap is NA else swap.used,
            swap_total_bytes=NA if swap is NA else swap.total,
            load_average=self._field("load_average", lambda: tuple(round(x, 2) for x in psutil.getloadavg())),
        )

    def _field(self, name: str, read: Callable[[], T]) -> T | NAType:
        try:
            return read()
        except Exception as exc:  # noqa: BLE001 - one unreadable figure must not lose the others
            if name not in self._failed:
                self._failed.add(name)
                log.debug("host figure %s unavailable: %s", name, exc)
            return NA
