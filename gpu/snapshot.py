"""Immutable GPU and host snapshots: what one sample saw, with `NA` for every field that was unavailable.

Units are in the field names: ``_pct`` percent (0-100), ``_bytes`` bytes, ``_bytes_per_s`` bytes per
second, ``_c`` degrees Celsius, ``_w`` watts, ``_mhz`` megahertz, ``_us`` microseconds.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from gpu.na import NA, NAType

Source = Literal["nvml", "simulated", "none"]


@dataclass(frozen=True, slots=True)
class ProcessSnapshot:
    """One process using a GPU. `is_node` marks the processes that are this Livepeer node."""

    pid: int
    device_index: int
    kinds: tuple[str, ...]  # "compute" and/or "graphics"
    name: str | NAType = NA
    gpu_memory_bytes: int | NAType = NA
    sm_util_pct: int | NAType = NA
    mem_util_pct: int | NAType = NA
    encoder_util_pct: int | NAType = NA
    decoder_util_pct: int | NAType = NA
    is_node: bool = False


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    """One GPU at one instant. `status` is "ok" or "lost" (fallen off the bus); `problem` says why in words."""

    index: int
    timestamp: float = 0.0  # time.time() of the sample
    status: Literal["ok", "lost"] = "ok"
    problem: str | None = None
    name: str | NAType = NA
    uuid: str | NAType = NA
    bus_id: str | NAType = NA
    gpu_util_pct: int | NAType = NA
    mem_util_pct: int | NAType = NA
    memory_used_bytes: int | NAType = NA
    memory_total_bytes: int | NAType = NA
    temperature_c: int | NAType = NA
    power_draw_w: float | NAType = NA
    power_limit_w: float | NAType = NA
    fan_pct: int | NAType = NA
    clock_graphics_mhz: int | NAType = NA
    clock_sm_mhz: int | NAType = NA
    clock_mem_mhz: int | NAType = NA
    clock_graphics_max_mhz: int | NAType = NA
    clock_sm_max_mhz: int | NAType = NA
    clock_mem_max_mhz: int | NAType = NA
    performance_state: str | NAType = NA  # "P0" (fastest) .. "P15"
    throttle_reasons: tuple[str, ...] | NAType = NA  # () = not throttled
    encoder_util_pct: int | NAType = NA
    decoder_util_pct: int | NAType = NA
    encoder_sessions: int | NAType = NA
    encoder_fps: int | NAType = NA
    encoder_latency_us: int | NAType = NA
    pcie_rx_bytes_per_s: int | NAType = NA
    pcie_tx_bytes_per_s: int | NAType = NA
    ecc_enabled: bool | NAType = NA
    ecc_errors_corrected: int | NAType = NA  # volatile (since the last driver load)
    ecc_errors_uncorrected: int | NAType = NA
    mig_enabled: bool | NAType = NA
    processes: tuple[ProcessSnapshot, ...] | NAType = NA

    @property
    def memory_pct(self) -> float | NAType:
        if self.memory_used_bytes is NA or not self.memory_total_bytes:
            return NA
        return 100.0 * self.memory_used_bytes / self.memory_total_bytes  # type: ignore[operator]

    @property
    def node_processes(self) -> tuple[ProcessSnapshot, ...]:
        return tuple(p for p in self.processes or () if p.is_node)

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["memory_pct"] = _plain(self.memory_pct)
        return data


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """Host figures (psutil): shown beside the GPUs, and instead of them when there are none."""

    cpu_pct: float | NAType = NA
    per_cpu_pct: tuple[float, ...] | NAType = NA
    cpu_count: int | NAType = NA
    memory_used_bytes: int | NAType = NA
    memory_total_bytes: int | NAType = NA
    memory_pct: float | NAType = NA
    swap_used_bytes: int | NAType = NA
    swap_total_bytes: int | NAType = NA
    load_average: tuple[float, float, float] | NAType = NA  # 1, 5, 15 minutes

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, slots=True)
class GpuSnapshot:
    """Everything one sample saw.

    `reason` is set, in words, when there is no GPU monitoring at all (no driver, NVML failed, no GPU).
    `source` is "nvml" for real hardware, "simulated" for the NVML test double (then `label` says so in
    words a screen should show), and "none" when NVML is unavailable.
    """

    timestamp: float  # time.time() at the end of the sample
    devices: tuple[DeviceSnapshot, ...] = ()
    host: HostSnapshot = field(default_factory=HostSnapshot)
    reason: str | None = None
    source: Source = "nvml"
    label: str | None = None
    driver_version: str | NAType = NA

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"

    def to_dict(self) -> dict[str, Any]:
        return {
            "devices": [d.to_dict() for d in self.devices],
            "host": self.host.to_dict(),
            "reason": self.reason,
            "source": self.source,
            "label": self.label,
            "driver_version": _plain(self.driver_version),
            "timestamp": self.timestamp,
        }

    def to_json(self, **dumps_kwargs: Any) -> str:
        """The snapshot as a JSON document (`NA` becomes null)."""
        return json.dumps(self.to_dict(), **dumps_kwargs)


def _plain(value: Any) -> Any:
    if value is NA:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value
