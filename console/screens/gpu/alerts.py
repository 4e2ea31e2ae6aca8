"""GPU alerts: which thresholds from `settings.gpu` each GPU is over, and which of those just changed.

The tracker remembers what is on, so a crossing is reported once (and its recovery once), never every
sample. A reading that is N/A leaves that alert as it was: an unreadable sensor is not a recovery.
An alert clears a little below its threshold (`TEMPERATURE_HYSTERESIS_C`, `MEMORY_HYSTERESIS_PCT`) so
a GPU sitting on the line does not flood the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gpu import NA, DeviceSnapshot, GpuSnapshot

TEMPERATURE_HYSTERESIS_C = 2
MEMORY_HYSTERESIS_PCT = 2.0

# Clock slowdowns that mean heat or a power fault. Idle, application clocks, sync boost, display clocks
# and the software power cap are how a healthy GPU runs (the power cap is routine at full load).
ALERTING_SLOWDOWNS = ("hardware slowdown", "software thermal slowdown", "hardware thermal slowdown", "hardware power brake")


class Thresholds(Protocol):
    alert_temperature_c: int
    alert_memory_pct: float
    alert_throttling: bool


@dataclass(frozen=True)
class AlertChange:
    """One line for the log: an alert came on ("warning"/"error") or went off ("success")."""

    severity: str
    text: str


def gpu_name(d: DeviceSnapshot) -> str:
    return f"GPU {d.index}" + ("" if d.name is NA else f" ({d.name})")


class AlertTracker:
    def __init__(self) -> None:
        self._on: dict[tuple[int, str], str] = {}  # (gpu, kind) -> short text for the card

    def active(self, index: int) -> dict[str, str]:
        """GPU `index`'s alerts that are on: kind ("temperature", "memory", "throttling", "lost") -> text."""
        return {kind: text for (i, kind), text in self._on.items() if i == index}

    def update(self, snapshot: GpuSnapshot, limits: Thresholds) -> list[AlertChange]:
        changes: list[AlertChange] = []
        for d in snapshot.devices:
            if d.status == "lost":
                if (d.index, "lost") not in self._on:
                    for key in [k for k in self._on if k[0] == d.index]:
                        del self._on[key]  # its other alerts say nothing about a GPU we cannot read
                    self._on[(d.index, "lost")] = "LOST"
                    changes.append(AlertChange("error", d.problem or f"{gpu_name(d)} is lost"))
                continue
            self._pop(d.index, "lost")
            changes += self._temperature(d, limits)
            changes += self._memory(d, limits)
            changes += self._throttling(d, limits)
        return changes

    # -- one kind each --------------------------------------------------------------------------------

    def _temperature(self, d: DeviceSnapshot, limits: Thresholds) -> list[AlertChange]:
        t, limit = d.temperature_c, limits.alert_temperature_c
        if t is NA:
            return []
        key = (d.index, "temperature")
        if t >= limit:
            on = key in self._on
            self._on[key] = f"{t} °C ≥ {limit} °C"
            return [] if on else [AlertChange("warning", f"{gpu_name(d)} is at {t} °C, at or above the {limit} °C alert")]
        if key in self._on and t < limit - TEMPERATURE_HYSTERESIS_C:
            del self._on[key]
            return [AlertChange("success", f"{gpu_name(d)} cooled to {t} °C, below the {limit} °C alert")]
        if key in self._on:
            self._on[key] = f"{t} °C, alert until < {limit - TEMPERATURE_HYSTERESIS_C} °C"
        return []

    def _memory(self, d: DeviceSnapshot, limits: Thresholds) -> list[AlertChange]:
        pct, limit = d.memory_pct, limits.alert_memory_pct
        if pct is NA:
            return []
        key = (d.index, "memory")
        if pct >= limit:
            on = key in self._on
            self._on[key] = f"memory {pct:.0f} % ≥ {limit:g} %"
            return [] if on else [AlertChange("warning", f"{gpu_name(d)} memory is {pct:.0f} % full, at or above the {limit:g} % alert")]
        if key in self._on and pct < limit - MEMORY_HYSTERESIS_PCT:
            del self._on[key]
            return [AlertChange("success", f"{gpu_name(d)} memory back to {pct:.0f} %, below the {limit:g} % alert")]
        return []

    def _throttling(self, d: DeviceSnapshot, limits: Thresholds) -> list[AlertChange]:
        key = (d.index, "throttling")
        if not limits.alert_throttling:
            self._pop(d.index, "throttling")
            return []
        if d.throttle_reasons is NA:
            return []
        bad = [r for r in d.throttle_reasons if r in ALERTING_SLOWDOWNS]
        if bad:
            on = key in self._on
            self._on[key] = ", ".join(bad)
            return [] if on else [AlertChange("warning", f"{gpu_name(d)} clocks held back: {', '.join(bad)}")]
        if self._pop(d.index, "throttling"):
            return [AlertChange("success", f"{gpu_name(d)} clocks no longer held back by heat or power")]
        return []

    def _pop(self, index: int, kind: str) -> bool:
        return self._on.pop((index, kind), None) is not None
