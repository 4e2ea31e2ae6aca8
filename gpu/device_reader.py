"""Reading one GPU into a `DeviceSnapshot`: every field on its own, slow fields from a TTL cache."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from gpu.na import NA, NAType
from gpu.nvml_query import DeviceLost, NvmlQuery
from gpu.snapshot import DeviceSnapshot, ProcessSnapshot

log = logging.getLogger(__name__)

# Clocks-event ("throttle") reason bits, NVML's ABI.
THROTTLE_REASONS: tuple[tuple[int, str], ...] = (
    (0x001, "idle"),
    (0x002, "applications clocks setting"),
    (0x004, "software power cap"),
    (0x008, "hardware slowdown"),
    (0x010, "sync boost"),
    (0x020, "software thermal slowdown"),
    (0x040, "hardware thermal slowdown"),
    (0x080, "hardware power brake"),
    (0x100, "display clock setting"),
)
_KNOWN_BITS = sum(bit for bit, _ in THROTTLE_REASONS)

# Constants used in calls (NVML's ABI): clock types, sensors, counters.
_TEMPERATURE_GPU = 0
_CLOCK_GRAPHICS, _CLOCK_SM, _CLOCK_MEM = 0, 1, 2
_PCIE_TX_BYTES, _PCIE_RX_BYTES = 0, 1
_ECC_CORRECTED, _ECC_UNCORRECTED, _ECC_VOLATILE = 0, 1, 0
_PSTATE_UNKNOWN = 32

STATIC_FIELDS = ("name", "uuid", "bus_id")
SLOW_FIELDS = (
    "power_limit_w",
    "clock_graphics_max_mhz",
    "clock_sm_max_mhz",
    "clock_mem_max_mhz",
    "ecc",
    "mig_enabled",
)


def decode_throttle_reasons(mask: int) -> tuple[str, ...]:
    """The reasons, in words, for a clocks-event bit mask (() when the clocks run free)."""
    words = [word for bit, word in THROTTLE_REASONS if mask & bit]
    if mask & ~_KNOWN_BITS:
        words.append(f"other (0x{mask & ~_KNOWN_BITS:x})")
    return tuple(words)


def _text(value: Any) -> Any:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class DeviceReader:
    """Reads GPU `index` through `query`. Static fields (name, UUID, bus id) are read until they answer,
    slow ones (limits, max clocks, ECC, MIG) at most every `slow_ttl` seconds, the rest every sample."""

    def __init__(self, query: NvmlQuery, index: int, *, slow_ttl: float, clock: Callable[[], float]) -> None:
        self.query = query
        self.index = index
        self.slow_ttl = slow_ttl
        self._clock = clock
        self.handle: Any = None
        self.problem: str | None = None  # set once the GPU is lost
        self._static: dict[str, Any] = {}
        self._slow: dict[str, Any] = {}
        self._slow_expires = float("-inf")
        self._util_seen_at = 0  # NVML timestamp (µs) of the newest per-process sample seen
        self._util_last: dict[int, Any] = {}  # pid -> its newest utilisation sample
        try:
            self.handle = query.call("handle", [("nvmlDeviceGetHandleByIndex", (index,))])
        except DeviceLost as exc:
            self._lose(exc)
        else:
            if self.handle is NA:
                self._lose(None)

    @property
    def lost(self) -> bool:
        return self.problem is not None

    def read(
        self,
        *,
        timestamp: float,
        node_pids: Collection[int],
        process_name: Callable[[int], str | NAType],
    ) -> DeviceSnapshot:
        if not self.lost:
            try:
                return self._read(timestamp, node_pids, process_name)
            except DeviceLost as exc:
                self._lose(exc)
        return DeviceSnapshot(
            index=self.index,
            timestamp=timestamp,
            status="lost",
            problem=self.problem,
            **{k: self._static.get(k, NA) for k in STATIC_FIELDS},
        )

    def _lose(self, exc: DeviceLost | None) -> None:
        cause = f"NVML: {exc}" if exc is not None else "NVML gave no handle"
        self.problem = (
            f"GPU {self.index} is lost ({cause}): it has fallen off the bus or needs a reset; "
            "look for an Xid error in the kernel log (dmesg)"
        )
        log.warning("%s", self.problem)

    # -- one sample ------------------------------------------------------------------------------

    def _call(self, field: str, *variants: tuple[str, tuple[Any, ...]], not_found: Any = NA) -> Any:
        return self.query.call(field, variants, device=self.index, not_found=not_found)

    def _read_static(self) -> None:
        h = self.handle
        if "name" not in self._static:
            self._put_static("name", _text(self._call("name", ("nvmlDeviceGetName", (h,)))))
        if "uuid" not in self._static:
            self._put_static("uuid", _text(self._call("uuid", ("nvmlDeviceGetUUID", (h,)))))
        if "bus_id" not in self._static:
            pci = self._call("pci_info", ("nvmlDeviceGetPciInfo_v3", (h,)), ("nvmlDeviceGetPciInfo", (h,)))
            self._put_static("bus_id", NA if pci is NA else _text(getattr(pci, "busId", NA)))

    def _put_static(self, key: str, value: Any) -> None:
        if value is not NA:
            self._static[key] = value

    def _read_slow(self) -> None:
        now = self._clock()
        if now < self._slow_expires:
            return
        h = self.handle
        limit = self._call(
            "power_limit", ("nvmlDeviceGetEnforcedPowerLimit", (h,)), ("nvmlDeviceGetPowerManagementLimit", (h,))
        )
        ecc_mode = self._call("ecc_mode", ("nvmlDeviceGetEccMode", (h,)))
        ecc_enabled = NA if ecc_mode is NA else bool(ecc_mode[0])
        if ecc_enabled is True:
            corrected = self._call(
                "ecc_corrected", ("nvmlDeviceGetTotalEccErrors", (h, _ECC_CORRECTED, _ECC_VOLATILE))
            )
            uncorrected = self._call(
                "ecc_uncorrected", ("nvmlDeviceGetTotalEccErrors", (h, _ECC_UNCORRECTED, _ECC_VOLATILE))
            )
        else:
            corrected = uncorrected = NA
        mig = self._call("mig_mode", ("nvmlDeviceGetMigMode", (h,)))
        self._slow = {
            "power_limit_w": NA if limit is NA else limit / 1000.0,
            "clock_graphics_max_mhz": self._call("max_clock_graphics", ("nvmlDeviceGetMaxClockInfo", (h, _CLOCK_GRAPHICS))),
            "clock_sm_max_mhz": self._call("max_clock_sm", ("nvmlDeviceGetMaxClockInfo", (h, _CLOCK_SM))),
            "clock_mem_max_mhz": self._call("max_clock_mem", ("nvmlDeviceGetMaxClockInfo", (h, _CLOCK_MEM))),
            "ecc_enabled": ecc_enabled,
            "ecc_errors_corrected": corrected,
            "ecc_errors_uncorrected": uncorrected,
            "mig_enabled": NA if mig is NA else bool(mig[0]),
        }
        self._slow_expires = now + self.slow_ttl

    def _read(
        self,
        timestamp: float,
        node_pids: Collection[int],
        process_name: Callable[[int], str | NAType],
    ) -> DeviceSnapshot:
        h = self.handle
        self._read_static()
        self._read_slow()
        util = self._call("utilization", ("nvmlDeviceGetUtilizationRates", (h,)))
        memory_v2 = getattr(self.query.nvml, "nvmlMemory_v2", None)
        memory_variants = [("nvmlDeviceGetMemoryInfo", (h, memory_v2))] if memory_v2 else []
        memory = self._call("memory", *memory_variants, ("nvmlDeviceGetMemoryInfo", (h,)))
        power = self._call("power_draw", ("nvmlDeviceGetPowerUsage", (h,)))
        pstate = self._call("performance_state", ("nvmlDeviceGetPerformanceState", (h,)))
        throttle = self._call(
            "throttle_reasons",
            ("nvmlDeviceGetCurrentClocksEventReasons", (h,)),
            ("nvmlDeviceGetCurrentClocksThrottleReasons", (h,)),
        )
        encoder = self._call("encoder_util", ("nvmlDeviceGetEncoderUtilization", (h,)))
        decoder = self._call("decoder_util", ("nvmlDeviceGetDecoderUtilization", (h,)))
        enc_stats = self._call("encoder_stats", ("nvmlDeviceGetEncoderStats", (h,)))
        rx = self._call("pcie_rx", ("nvmlDeviceGetPcieThroughput", (h, _PCIE_RX_BYTES)))
        tx = self._call("pcie_tx", ("nvmlDeviceGetPcieThroughput", (h, _PCIE_TX_BYTES)))
        return DeviceSnapshot(
            index=self.index,
            timestamp=timestamp,
            **{k: self._static.get(k, NA) for k in STATIC_FIELDS},
            gpu_util_pct=NA if util is NA else util.gpu,
            mem_util_pct=NA if util is NA else util.memory,
            memory_used_bytes=NA if memory is NA else memory.used,
            memory_total_bytes=NA if memory is NA else memory.total,
            temperature_c=self._call(
                "temperature",
                ("nvmlDeviceGetTemperatureV", (h, _TEMPERATURE_GPU)),
                ("nvmlDeviceGetTemperature", (h, _TEMPERATURE_GPU)),
            ),
            power_draw_w=NA if power is NA else power / 1000.0,
            fan_pct=self._call("fan", ("nvmlDeviceGetFanSpeed", (h,))),
            clock_graphics_mhz=self._call("clock_graphics", ("nvmlDeviceGetClockInfo", (h, _CLOCK_GRAPHICS))),
            clock_sm_mhz=self._call("clock_sm", ("nvmlDeviceGetClockInfo", (h, _CLOCK_SM))),
            clock_mem_mhz=self._call("clock_mem", ("nvmlDeviceGetClockInfo", (h, _CLOCK_MEM))),
            performance_state=NA if pstate is NA or pstate == _PSTATE_UNKNOWN else f"P{pstate}",
            throttle_reasons=NA if throttle is NA else decode_throttle_reasons(throttle),
            encoder_util_pct=NA if encoder is NA else encoder[0],
            decoder_util_pct=NA if decoder is NA else decoder[0],
            encoder_sessions=NA if enc_stats is NA else enc_stats[0],
            encoder_fps=NA if enc_stats is NA else enc_stats[1],
            encoder_latency_us=NA if enc_stats is NA else enc_stats[2],
            pcie_rx_bytes_per_s=NA if rx is NA else rx * 1024,
            pcie_tx_bytes_per_s=NA if tx is NA else tx * 1024,
            processes=self._read_processes(node_pids, process_name),
            **self._slow,
        )

    def _read_processes(
        self, node_pids: Collection[int], process_name: Callable[[int], str | NAType]
    ) -> tuple[ProcessSnapshot, ...] | NAType:
        h = self.handle
        compute = self._call(
            "compute_processes",
            ("nvmlDeviceGetComputeRunningProcesses_v3", (h,)),
            ("nvmlDeviceGetComputeRunningProcesses_v2", (h,)),
            ("nvmlDeviceGetComputeRunningProcesses", (h,)),
        )
        graphics = self._call(
            "graphics_processes",
            ("nvmlDeviceGetGraphicsRunningProcesses_v3", (h,)),
            ("nvmlDeviceGetGraphicsRunningProcesses_v2", (h,)),
            ("nvmlDeviceGetGraphicsRunningProcesses", (h,)),
        )
        if compute is NA and graphics is NA:
            return NA
        kinds: dict[int, list[str]] = {}
        memory: dict[int, int | NAType] = {}
        for kind, procs in (("compute", compute), ("graphics", graphics)):
            for p in procs or ():
                kinds.setdefault(p.pid, []).append(kind)
                used = getattr(p, "usedGpuMemory", None)
                used = NA if used is None else used
                prev = memory.get(p.pid, NA)
                memory[p.pid] = used if prev is NA else prev if used is NA else max(prev, used)
        samples = self._call(
            "process_utilization",
            ("nvmlDeviceGetProcessesUtilizationInfo", (h, self._util_seen_at)),
            ("nvmlDeviceGetProcessUtilization", (h, self._util_seen_at)),
            not_found=[],
        )
        # NVML returns only samples newer than the last one seen: keep each process's newest.
        latest = {pid: s for pid, s in self._util_last.items() if pid in kinds}
        for s in samples or ():
            if s.pid not in latest or s.timeStamp >= latest[s.pid].timeStamp:
                latest[s.pid] = s
            self._util_seen_at = max(self._util_seen_at, s.timeStamp)
        self._util_last = latest
        out = []
        for pid in sorted(kinds):
            s = latest.get(pid)
            out.append(
                ProcessSnapshot(
                    pid=pid,
                    device_index=self.index,
                    kinds=tuple(kinds[pid]),
                    name=process_name(pid),
                    gpu_memory_bytes=memory[pid],
                    sm_util_pct=NA if s is None else s.smUtil,
                    mem_util_pct=NA if s is None else s.memUtil,
                    encoder_util_pct=NA if s is None else s.encUtil,
                    decoder_util_pct=NA if s is None else s.decUtil,
                    is_node=pid in node_pids,
                )
            )
        return tuple(out)
