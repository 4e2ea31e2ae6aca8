"""A scripted NVML double with pynvml's names, for tests, screenshots and `lpc gpu --simulate N`.

It is never used unless asked for: `GpuMonitor(FakeNvml(...))` in tests, or `create_monitor(simulate=N)`
(`lpc gpu --simulate N`, env LPC_GPU_SIMULATE). Monitors built on it report source="simulated" and its
`SIMULATION_LABEL`, so a screen can say plainly that the GPUs are not real.

Scripting:
    fake = FakeNvml(devices=2)                      # or a list of FakeGpu
    fake.gpus[0].gpu_util = 90                      # values can change between samples ...
    fake.gpus[1].temperature = lambda t: 40 + t     # ... or be functions of the fake's clock (seconds)
    FakeGpu(unsupported={"fan", "encoder_stats"})   # those calls raise NVML_ERROR_NOT_SUPPORTED
    FakeNvml(missing={"nvmlDeviceGetComputeRunningProcesses_v3"})  # raises NVML_ERROR_FUNCTION_NOT_FOUND
    FakeNvml(absent={"nvmlDeviceGetTemperatureV"})  # not even an attribute (an older nvidia-ml-py)
    FakeNvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND)  # nvmlInit raises
    fake.lose(1)                                    # GPU 1 falls off the bus (NVML_ERROR_GPU_IS_LOST)
    fake.on_call = lambda name, index: ...          # runs at the start of every device call
    fake.calls["nvmlDeviceGetName"]                 # how often each entry point was called

Process ids of simulated processes are above Linux's pid_max, so they never name a real process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml  # only for its error classes and constants; the library itself is never loaded here

NVMLError = pynvml.NVMLError
NVML_ERROR_UNINITIALIZED = pynvml.NVML_ERROR_UNINITIALIZED
NVML_ERROR_NOT_SUPPORTED = pynvml.NVML_ERROR_NOT_SUPPORTED
NVML_ERROR_NOT_FOUND = pynvml.NVML_ERROR_NOT_FOUND
NVML_ERROR_INVALID_ARGUMENT = pynvml.NVML_ERROR_INVALID_ARGUMENT
NVML_ERROR_FUNCTION_NOT_FOUND = pynvml.NVML_ERROR_FUNCTION_NOT_FOUND
NVML_ERROR_GPU_IS_LOST = pynvml.NVML_ERROR_GPU_IS_LOST
NVML_ERROR_LIBRARY_NOT_FOUND = pynvml.NVML_ERROR_LIBRARY_NOT_FOUND
NVML_ERROR_DRIVER_NOT_LOADED = pynvml.NVML_ERROR_DRIVER_NOT_LOADED

PID_BASE = 5_000_000  # > Linux's largest pid_max (4,194,304)
MIB = 1024 * 1024

Value = Any  # a value, or a function of the fake clock's seconds returning one


@dataclass
class FakeProcess:
    pid: int
    name: str
    kind: str = "compute"  # "compute" or "graphics"
    used_memory: Value = 512 * MIB  # bytes, or None when NVML cannot tell (WDDM)
    sm_util: Value = 0
    mem_util: Value = 0
    encoder_util: Value = 0
    decoder_util: Value = 0


@dataclass
class FakeGpu:
    name: str = "Simulated GPU"
    uuid: str = ""
    bus_id: str = ""
    gpu_util: Value = 0
    mem_util: Value = 0
    memory_total: Value = 16 * 1024 * MIB
    memory_used: Value = 0
    temperature: Value = 40
    power_mw: Value = 30_000
    power_limit_mw: Value = 250_000
    fan: Value = 30
    clock_graphics: Value = 210
    clock_sm: Value = 210
    clock_mem: Value = 405
    max_clock_graphics: Value = 2520
    max_clock_sm: Value = 2520
    max_clock_mem: Value = 10501
    pstate: Value = 8
    throttle_mask: Value = 0x1  # idle
    encoder_util: Value = 0
    decoder_util: Value = 0
    encoder_sessions: Value = 0
    encoder_fps: Value = 0
    encoder_latency_us: Value = 0
    pcie_rx_kb: Value = 0  # KB/s, as NVML reports it
    pcie_tx_kb: Value = 0
    ecc_enabled: Value = False
    ecc_corrected: Value = 0
    ecc_uncorrected: Value = 0
    mig_enabled: Value = False
    processes: list[FakeProcess] = field(default_factory=list)
    # Groups of calls that raise NVML_ERROR_NOT_SUPPORTED on this GPU: name, uuid, bus_id, utilization,
    # memory, temperature, power, power_limit, fan, clocks, max_clocks, pstate, throttle, encoder_util,
    # decoder_util, encoder_stats, pcie, ecc, mig, processes, process_utilization.
    unsupported: set[str] = field(default_factory=set)
    lost: bool = False


@dataclass(frozen=True)
class _Handle:
    index: int


def _error(code: int) -> BaseException:
    return NVMLError(code)  # pynvml turns the code into its subclass, e.g. NVMLError_GpuIsLost


class FakeNvml:
    """Module-like NVML double: the names `GpuMonitor` uses from pynvml, answered from `FakeGpu`s."""

    SIMULATION_LABEL = "SIMULATED GPUs (NVML test double): not real hardware"

    def __init__(
        self,
        devices: int | Iterable[FakeGpu] = 1,
        *,
        init_error: int | BaseException | None = None,
        missing: Iterable[str] = (),
        absent: Iterable[str] = (),
        driver_version: str = "999.99 (simulated)",
        clock: Callable[[], float] = time.monotonic,
        label: str | None = None,
        node_pids: Iterable[int] = (),
    ) -> None:
        self.gpus: list[FakeGpu] = list(devices) if not isinstance(devices, int) else [FakeGpu() for _ in range(devices)]
        for i, gpu in enumerate(self.gpus):
            gpu.uuid = gpu.uuid or f"GPU-00000000-0000-4000-8000-{i:012d}"
            gpu.bus_id = gpu.bus_id or f"00000000:{0x10 + i:02X}:00.0"
        self.init_error = init_error
        self.missing = set(missing)
        self._absent = frozenset(absent)
        self.driver_version = driver_version
        self.node_pids = frozenset(node_pids)
        if label:
            self.SIMULATION_LABEL = label
        self._clock = clock
        self._t0 = clock()
        self.initialised = 0
        self.calls: Counter[str] = Counter()
        self.on_call: Callable[[str, int | None], None] | None = None
        self._lock = threading.Lock()

    # -- scripting ------------------------------------------------------------------------------------

    def lose(self, index: int) -> None:
        """GPU `index` falls off the bus: every call on it raises NVML_ERROR_GPU_IS_LOST from now on."""
        self.gpus[index].lost = True

    @property
    def t(self) -> float:
        return self._clock() - self._t0

    def value(self, v: Value) -> Any:
        return v(self.t) if callable(v) else v

    # -- module-like plumbing -------------------------------------------------------------------------

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("nvml") and name in object.__getattribute__(self, "_absent"):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        real = getattr(pynvml, name, None)
        if name.startswith("nvml") and callable(real) and not isinstance(real, type):

            def not_in_fake(*args: Any, **kwargs: Any) -> Any:
                self._count(name)
                raise _error(NVML_ERROR_FUNCTION_NOT_FOUND)

            return not_in_fake
        if real is not None:
            return real  # constants and error classes, exactly pynvml's
        raise AttributeError(name)

    def _count(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1
        if name in self.missing:
            raise _error(NVML_ERROR_FUNCTION_NOT_FOUND)

    def _system(self, name: str) -> None:
        self._count(name)
        if self.on_call:
            self.on_call(name, None)
        if not self.initialised:
            raise _error(NVML_ERROR_UNINITIALIZED)

    def _gpu(self, name: str, handle: _Handle, group: str) -> FakeGpu:
        self._count(name)
        if self.on_call:
            self.on_call(name, handle.index)
        if not self.initialised:
            raise _error(NVML_ERROR_UNINITIALIZED)
        gpu = self.gpus[handle.index]
        if gpu.lost:
            raise _error(NVML_ERROR_GPU_IS_LOST)
        if group in gpu.unsupported:
            raise _error(NVML_ERROR_NOT_SUPPORTED)
        return gpu

    # -- system ---------------------------------------------------------------------------------------

    def nvmlInit(self) -> None:
        self._count("nvmlInit")
        if self.init_error is not None:
            raise self.init_error if isinstance(self.init_error, BaseException) else _error(self.init_error)
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self._count("nvmlShutdown")
        if not self.initialised:
            raise _error(NVML_ERROR_UNINITIALIZED)
        self.initialised -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        self._system("nvmlSystemGetDriverVersion")
        return self.driver_version

    def nvmlDeviceGetCount(self) -> int:
        self._system("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        self._system("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.gpus):
            raise _error(NVML_ERROR_INVALID_ARGUMENT)
        if self.gpus[index].lost:
            raise _error(NVML_ERROR_GPU_IS_LOST)
        return _Handle(index)

    def nvmlSystemGetProcessName(self, pid: int) -> str:
        self._system("nvmlSystemGetProcessName")
        for gpu in self.gpus:
            for p in gpu.processes:
                if p.pid == pid:
                    return p.name
        raise _error(NVML_ERROR_NOT_FOUND)

    # -- static and slow fields -----------------------------------------------------------------------

    def nvmlDeviceGetName(self, h: _Handle) -> str:
        return self._gpu("nvmlDeviceGetName", h, "name").name

    def nvmlDeviceGetUUID(self, h: _Handle) -> str:
        return self._gpu("nvmlDeviceGetUUID", h, "uuid").uuid

    def nvmlDeviceGetPciInfo_v3(self, h: _Handle) -> Any:
        return SimpleNamespace(busId=self._gpu("nvmlDeviceGetPciInfo_v3", h, "bus_id").bus_id)

    def nvmlDeviceGetPciInfo(self, h: _Handle) -> Any:
        return SimpleNamespace(busId=self._gpu("nvmlDeviceGetPciInfo", h, "bus_id").bus_id)

    def nvmlDeviceGetEnforcedPowerLimit(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetEnforcedPowerLimit", h, "power_limit").power_limit_mw)

    def nvmlDeviceGetPowerManagementLimit(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetPowerManagementLimit", h, "power_limit").power_limit_mw)

    def nvmlDeviceGetMaxClockInfo(self, h: _Handle, clock_type: int) -> int:
        gpu = self._gpu("nvmlDeviceGetMaxClockInfo", h, "max_clocks")
        return self.value((gpu.max_clock_graphics, gpu.max_clock_sm, gpu.max_clock_mem)[clock_type])

    def nvmlDeviceGetEccMode(self, h: _Handle) -> list[int]:
        on = int(bool(self.value(self._gpu("nvmlDeviceGetEccMode", h, "ecc").ecc_enabled)))
        return [on, on]

    def nvmlDeviceGetTotalEccErrors(self, h: _Handle, error_type: int, counter_type: int) -> int:
        gpu = self._gpu("nvmlDeviceGetTotalEccErrors", h, "ecc")
        return self.value(gpu.ecc_uncorrected if error_type else gpu.ecc_corrected)

    def nvmlDeviceGetMigMode(self, h: _Handle) -> list[int]:
        on = int(bool(self.value(self._gpu("nvmlDeviceGetMigMode", h, "mig").mig_enabled)))
        return [on, on]

    # -- fast fields ----------------------------------------------------------------------------------

    def nvmlDeviceGetUtilizationRates(self, h: _Handle) -> Any:
        gpu = self._gpu("nvmlDeviceGetUtilizationRates", h, "utilization")
        return SimpleNamespace(gpu=self.value(gpu.gpu_util), memory=self.value(gpu.mem_util))

    def nvmlDeviceGetMemoryInfo(self, h: _Handle, version: int | None = None) -> Any:
        name = "nvmlDeviceGetMemoryInfo_v2" if version else "nvmlDeviceGetMemoryInfo"
        gpu = self._gpu(name, h, "memory")
        total, used = self.value(gpu.memory_total), self.value(gpu.memory_used)
        return SimpleNamespace(total=total, used=used, free=total - used)

    def nvmlDeviceGetTemperatureV(self, h: _Handle, sensor: int) -> int:
        return self.value(self._gpu("nvmlDeviceGetTemperatureV", h, "temperature").temperature)

    def nvmlDeviceGetTemperature(self, h: _Handle, sensor: int) -> int:
        return self.value(self._gpu("nvmlDeviceGetTemperature", h, "temperature").temperature)

    def nvmlDeviceGetPowerUsage(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetPowerUsage", h, "power").power_mw)

    def nvmlDeviceGetFanSpeed(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetFanSpeed", h, "fan").fan)

    def nvmlDeviceGetClockInfo(self, h: _Handle, clock_type: int) -> int:
        gpu = self._gpu("nvmlDeviceGetClockInfo", h, "clocks")
        return self.value((gpu.clock_graphics, gpu.clock_sm, gpu.clock_mem)[clock_type])

    def nvmlDeviceGetPerformanceState(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetPerformanceState", h, "pstate").pstate)

    def nvmlDeviceGetCurrentClocksEventReasons(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetCurrentClocksEventReasons", h, "throttle").throttle_mask)

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h: _Handle) -> int:
        return self.value(self._gpu("nvmlDeviceGetCurrentClocksThrottleReasons", h, "throttle").throttle_mask)

    def nvmlDeviceGetEncoderUtilization(self, h: _Handle) -> list[int]:
        return [self.value(self._gpu("nvmlDeviceGetEncoderUtilization", h, "encoder_util").encoder_util), 167_000]

    def nvmlDeviceGetDecoderUtilization(self, h: _Handle) -> list[int]:
        return [self.value(self._gpu("nvmlDeviceGetDecoderUtilization", h, "decoder_util").decoder_util), 167_000]

    def nvmlDeviceGetEncoderStats(self, h: _Handle) -> tuple[int, int, int]:
        gpu = self._gpu("nvmlDeviceGetEncoderStats", h, "encoder_stats")
        return (self.value(gpu.encoder_sessions), self.value(gpu.encoder_fps), self.value(gpu.encoder_latency_us))

    def nvmlDeviceGetPcieThroughput(self, h: _Handle, counter: int) -> int:
        gpu = self._gpu("nvmlDeviceGetPcieThroughput", h, "pcie")
        return self.value(gpu.pcie_rx_kb if counter == pynvml.NVML_PCIE_UTIL_RX_BYTES else gpu.pcie_tx_kb)

    # -- processes ------------------------------------------------------------------------------------

    def _running(self, name: str, h: _Handle, kind: str) -> list[Any]:
        gpu = self._gpu(name, h, "processes")
        return [
            SimpleNamespace(pid=p.pid, usedGpuMemory=self.value(p.used_memory), gpuInstanceId=0xFFFFFFFF, computeInstanceId=0xFFFFFFFF)
            for p in gpu.processes
            if p.kind == kind
        ]

    def nvmlDeviceGetComputeRunningProcesses_v3(self, h: _Handle) -> list[Any]:
        return self._running("nvmlDeviceGetComputeRunningProcesses_v3", h, "compute")

    def nvmlDeviceGetComputeRunningProcesses_v2(self, h: _Handle) -> list[Any]:
        return self._running("nvmlDeviceGetComputeRunningProcesses_v2", h, "compute")

    def nvmlDeviceGetComputeRunningProcesses(self, h: _Handle) -> list[Any]:
        return self._running("nvmlDeviceGetComputeRunningProcesses", h, "compute")

    def nvmlDeviceGetGraphicsRunningProcesses_v3(self, h: _Handle) -> list[Any]:
        return self._running("nvmlDeviceGetGraphicsRunningProcesses_v3", h, "graphics")

    def nvmlDeviceGetGraphicsRunningProcesses_v2(self, h: _Handle) -> list[Any]:
        return self._running("nvmlDeviceGetGraphicsRunningProcesses_v2", h, "graphics")

    def nvmlDeviceGetGraphicsRunningProcesses(self, h: _Handle) -> list[Any]:
        return self._running("nvmlDeviceGetGraphicsRunningProcesses", h, "graphics")

    def _utilization(self, name: str, h: _Handle, last_seen: int) -> list[Any]:
        gpu = self._gpu(name, h, "process_utilization")
        now_us = int(self.t * 1_000_000) + 1
        if now_us <= last_seen or not gpu.processes:
            raise _error(NVML_ERROR_NOT_FOUND)  # what NVML says when there is no newer sample
        return [
            SimpleNamespace(
                pid=p.pid,
                timeStamp=now_us,
                smUtil=self.value(p.sm_util),
                memUtil=self.value(p.mem_util),
                encUtil=self.value(p.encoder_util),
                decUtil=self.value(p.decoder_util),
            )
            for p in gpu.processes
        ]

    def nvmlDeviceGetProcessesUtilizationInfo(self, h: _Handle, last_seen: int) -> list[Any]:
        return self._utilization("nvmlDeviceGetProcessesUtilizationInfo", h, last_seen)

    def nvmlDeviceGetProcessUtilization(self, h: _Handle, last_seen: int) -> list[Any]:
        return self._utilization("nvmlDeviceGetProcessUtilization", h, last_seen)


# -- the "--simulate N" scenario ------------------------------------------------------------------------

_MODELS: tuple[dict[str, Any], ...] = (
    dict(name="NVIDIA GeForce RTX 4090", memory_total=24564 * MIB, power_limit_mw=450_000, max_clock_graphics=3105),
    dict(name="NVIDIA L4", memory_total=23034 * MIB, power_limit_mw=72_000, max_clock_graphics=2040, unsupported={"fan"}),
    dict(
        name="NVIDIA A100 80GB PCIe",
        memory_total=81920 * MIB,
        power_limit_mw=300_000,
        max_clock_graphics=1410,
        ecc_enabled=True,
        mig_enabled=True,
        unsupported={"fan", "encoder_stats"},  # no NVENC on A100
    ),
    dict(name="NVIDIA RTX A4000", memory_total=16376 * MIB, power_limit_mw=140_000, max_clock_graphics=2100),
    dict(name="Tesla T4", memory_total=15360 * MIB, power_limit_mw=70_000, max_clock_graphics=1590, ecc_enabled=True, unsupported={"fan"}),
)

NODE_PID = PID_BASE + 1


def _value_at(v: Value, t: float) -> Any:
    return v(t) if callable(v) else v


def _wave(base: float, amplitude: float, period: float, phase: float, lo: float = 0, hi: float = 100) -> Callable[[float], int]:
    return lambda t: int(max(lo, min(hi, base + amplitude * math.sin(2 * math.pi * t / period + phase))))


def simulated_gpu(i: int) -> FakeGpu:
    """GPU `i` of the simulated rig: a mix of real models, load that moves over time, this node's
    transcoder on every GPU and an AI runner on some."""
    model = dict(_MODELS[i % len(_MODELS)])
    model["unsupported"] = set(model.get("unsupported", ()))
    name = f"{model.pop('name')} (simulated)"
    phase = i * 0.9
    total = model["memory_total"]
    limit = model["power_limit_mw"]
    util = _wave(55, 40, 30, phase)
    processes = [
        FakeProcess(
            NODE_PID,
            "lpc (transcoder)",
            used_memory=lambda t, p=phase: int(1200 * MIB + 300 * MIB * math.sin(t / 5 + p)),
            sm_util=_wave(35, 25, 30, phase),
            encoder_util=_wave(45, 35, 20, phase),
            decoder_util=_wave(30, 20, 20, phase + 1),
        )
    ]
    if i % 3 == 2:
        processes.append(
            FakeProcess(PID_BASE + 100 + i, "python3 (ai-runner)", used_memory=int(total * 0.45), sm_util=_wave(40, 30, 45, phase))
        )
    if i % 4 == 0:
        processes.append(FakeProcess(PID_BASE + 200 + i, "Xorg", kind="graphics", used_memory=None))
    return FakeGpu(
        name=name,
        gpu_util=util,
        mem_util=_wave(30, 20, 30, phase),
        memory_used=lambda t, ps=processes: sum(int(_value_at(p.used_memory, t) or 300 * MIB) for p in ps),
        temperature=_wave(62, 15, 60, phase, 30, 95),
        power_mw=lambda t: int(limit * (0.15 + 0.8 * util(t) / 100)),
        fan=_wave(45, 20, 60, phase),
        clock_graphics=lambda t: int(model["max_clock_graphics"] * (0.4 + 0.6 * util(t) / 100)),
        clock_sm=lambda t: int(model["max_clock_graphics"] * (0.4 + 0.6 * util(t) / 100)),
        clock_mem=lambda t: 9001 if util(t) > 20 else 405,
        max_clock_sm=model["max_clock_graphics"],
        pstate=lambda t: 0 if util(t) > 20 else 8,
        throttle_mask=lambda t: 0x1 if util(t) < 5 else (0x20 if util(t) > 90 else 0x4 if util(t) > 80 else 0),
        encoder_util=_wave(45, 35, 20, phase),
        decoder_util=_wave(30, 20, 20, phase + 1),
        encoder_sessions=lambda t: max(0, util(t) // 12),
        encoder_fps=lambda t: 60 * max(0, util(t) // 12),
        encoder_latency_us=lambda t: 900 + 20 * util(t),
        pcie_rx_kb=lambda t: 800 * util(t),
        pcie_tx_kb=lambda t: 300 * util(t),
        processes=processes,
        **model,
    )


def simulated_nvml(count: int, **kwargs: Any) -> FakeNvml:
    """The `--simulate N` rig: `count` GPUs, labelled simulated; this node's processes in `node_pids`."""
    if not 1 <= count <= 64:
        raise ValueError("simulate between 1 and 64 GPUs")
    label = f"SIMULATED: {count} fake GPU{'s' if count != 1 else ''} from the NVML test double, not real hardware"
    return FakeNvml([simulated_gpu(i) for i in range(count)], label=label, node_pids={NODE_PID}, **kwargs)

