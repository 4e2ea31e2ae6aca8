"""`GpuMonitor`: one sampler thread reading every GPU through NVML into immutable snapshots.

    monitor = create_monitor()              # real NVML (pynvml); create_monitor(simulate=8) for the double
    monitor.subscribe(on_snapshot)          # called from the sampler thread after each sample
    monitor.start()                         # samples every `interval` seconds, never two at once
    monitor.latest(); monitor.history(0)    # the newest GpuSnapshot; GPU 0's DeviceSnapshots, oldest first
    monitor.close()                         # stops the thread, shuts NVML down

With no NVIDIA driver (or no GPU) every snapshot has no devices, a `reason` in words and host figures;
that is logged once at INFO, never per sample.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from gpu.device_reader import DeviceReader
from gpu.host import HostReader
from gpu.na import NA, NAType
from gpu.nvml_query import (
    ERROR_DRIVER_NOT_LOADED,
    ERROR_LIB_RM_VERSION_MISMATCH,
    ERROR_LIBRARY_NOT_FOUND,
    ERROR_NO_PERMISSION,
    NvmlQuery,
    error_code,
)
from gpu.snapshot import DeviceSnapshot, GpuSnapshot, HostSnapshot, Source

log = logging.getLogger(__name__)

Subscriber = Callable[[GpuSnapshot], None]

_HOST_ONLY = "no GPU monitoring; showing host figures"


def nvml_init_reason(exc: BaseException) -> str:
    """Why there is no GPU monitoring, in words, for an exception raised by nvmlInit."""
    code = error_code(exc)
    if code == ERROR_LIBRARY_NOT_FOUND:
        return f"NVIDIA driver not found (NVML library missing): {_HOST_ONLY}"
    if code == ERROR_DRIVER_NOT_LOADED:
        return f"NVIDIA driver is installed but not loaded (NVML: {exc}): {_HOST_ONLY}"
    if code == ERROR_NO_PERMISSION:
        return f"no permission to use the NVIDIA driver (NVML: {exc}): {_HOST_ONLY}"
    if code == ERROR_LIB_RM_VERSION_MISMATCH:
        return f"NVIDIA driver and NVML library versions differ; reboot after a driver upgrade (NVML: {exc}): {_HOST_ONLY}"
    return f"NVML failed to start ({type(exc).__name__}: {exc}): {_HOST_ONLY}"


class GpuMonitor:
    """Samples NVML into `GpuSnapshot`s, keeps a bounded history per GPU and tells subscribers.

    `nvml` is the NVML module (default: `pynvml`) or an object with the same names (`FakeNvml`; its
    snapshots say source="simulated"). `node_pids` are the processes that are this node; their rows
    are marked `is_node`. `slow_ttl` is how long limits, max clocks, ECC and MIG are cached.
    `clock` drives only those caches (tests pass their own).
    """

    def __init__(
        self,
        nvml: Any | None = None,
        *,
        interval: float = 1.0,
        history_size: int = 300,
        slow_ttl: float = 10.0,
        node_pids: Iterable[int] = (),
        host_reader: HostReader | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval < 0:
            raise ValueError("interval must be >= 0 seconds")
        if history_size < 1:
            raise ValueError("history_size must be >= 1")
        self.interval = interval
        self.history_size = history_size
        self.slow_ttl = slow_ttl
        self._nvml = nvml
        self._clock = clock
        self._host = host_reader or HostReader()
        self._node_pids: frozenset[int] = frozenset(node_pids)
        label = getattr(nvml, "SIMULATION_LABEL", None)
        self.source: Source = "simulated" if label else "nvml"
        self.label: str | None = label
        self.reason: str | None = None
        self.driver_version: str | NAType = NA

        self._sample_lock = threading.Lock()  # one sample at a time, whoever asks
        self._state_lock = threading.Lock()  # latest / history / subscribers
        self._started_nvml = False
        self._initialised = False  # nvmlInit succeeded (so nvmlShutdown is owed)
        self._query: NvmlQuery | None = None
        self._devices: list[DeviceReader] = []
        self._names: dict[int, str | NAType] = {}
        self._latest: GpuSnapshot | None = None
        self._history: dict[int, deque[DeviceSnapshot]] = {}
        self._host_history: deque[HostSnapshot] = deque(maxlen=history_size)
        self._subscribers: list[Subscriber] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- public ------------------------------------------------------------------------------------

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"

    @property
    def node_pids(self) -> frozenset[int]:
        return self._node_pids

    def set_node_pids(self, pids: Iterable[int]) -> None:
        """The processes that are this node (e.g. after a transcoder child starts)."""
        self._node_pids = frozenset(pids)

    def latest(self) -> GpuSnapshot | None:
        with self._state_lock:
            return self._latest

    def history(self, device_index: int) -> tuple[DeviceSnapshot, ...]:
        """GPU `device_index`'s snapshots, oldest first, at most `history_size` of them."""
        with self._state_lock:
            return tuple(self._history.get(device_index, ()))

    def host_history(self) -> tuple[HostSnapshot, ...]:
        with self._state_lock:
            return tuple(self._host_history)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(snapshot)` after every sample, on the sampling thread; keep it quick and do not
        call `sample()` from it. Returns a function that unsubscribes."""
        with self._state_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._state_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def sample(self) -> GpuSnapshot:
        """Take one sample now (waiting for one in progress to finish first) and return it."""
        with self._sample_lock:
            self._ensure_started()
            timestamp = time.time()
            pids = self._node_pids
            devices = tuple(d.read(timestamp=timestamp, node_pids=pids, process_name=self._process_name) for d in self._devices)
            self._prune_names(devices)
            snapshot = GpuSnapshot(
                timestamp=timestamp,
                devices=devices,
                host=self._host.read(),
                reason=self.reason,
                source=self.source,
                label=self.label,
                driver_version=self.driver_version,
            )
            with self._state_lock:
                self._latest = snapshot
                for d in devices:
                    self._history.setdefault(d.index, deque(maxlen=self.history_size)).append(d)
                self._host_history.append(snapshot.host)
                subscribers = list(self._subscribers)
            for callback in subscribers:
                try:
                    callback(snapshot)
                except Exception:  # noqa: BLE001 - a broken subscriber must not stop sampling
                    log.exception("GPU snapshot subscriber %r failed", callback)
            return snapshot

    def start(self) -> None:
        """Start the sampler thread (no-op if it runs). The next sample is armed when the last ends."""
        with self._state_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="gpu-sampler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the sampler thread and wait for a sample in progress to end. No callbacks after this."""
        with self._state_lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def close(self) -> None:
        """Stop sampling and release NVML."""
        self.stop()
        with self._sample_lock:
            if self._initialised:
                self._initialised = False
                try:
                    self._nvml.nvmlShutdown()
                except Exception as exc:  # noqa: BLE001
                    log.debug("nvmlShutdown failed: %s", exc)

    def __enter__(self) -> GpuMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - sample() is not expected to raise; keep going if it does
                log.exception("GPU sample failed")
            stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def _ensure_started(self) -> None:
        if self._started_nvml:
            return
        self._started_nvml = True
        if self._nvml is None:
            try:
                import pynvml
            except ImportError as exc:
                self._no_gpu("none", f"nvidia-ml-py is not installed ({exc}): {_HOST_ONLY}")
                return
            self._nvml = pynvml
        nvml = self._nvml
        try:
            nvml.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - NVMLError or a loader error: no GPUs either way
            self._no_gpu("none" if self.source == "nvml" else self.source, nvml_init_reason(exc))
            return
        self._initialised = True
        self._query = query = NvmlQuery(nvml)
        driver = query.call("driver_version", [("nvmlSystemGetDriverVersion", ())])
        self.driver_version = driver.decode() if isinstance(driver, bytes) else driver
        count = query.call("device_count", [("nvmlDeviceGetCount", ())])
        if count is NA:
            self._no_gpu(self.source, f"NVML started but could not count the GPUs: {_HOST_ONLY}")
            return
        if count == 0:
            self._no_gpu(self.source, "NVML found no NVIDIA GPU: showing host figures")
            return
        self._devices = [DeviceReader(query, i, slow_ttl=self.slow_ttl, clock=self._clock) for i in range(count)]
        log.info("GPU monitoring: %d GPU(s), driver %s%s", count, self.driver_version, f" [{self.label}]" if self.label else "")

    def _no_gpu(self, source: Source, reason: str) -> None:
        self.source = source
        self.reason = reason
        log.info("%s", reason)

    def _process_name(self, pid: int) -> str | NAType:
        name = self._names.get(pid)
        if name is None:
            name = self._query.call("process_name", [("nvmlSystemGetProcessName", (pid,))]) if self._query else NA
            if isinstance(name, bytes):
                name = name.decode(errors="replace")
            if name is NA or not name:
                name = _psutil_name(pid)
            else:
                name = os.path.basename(name)
            self._names[pid] = name
        return name

    def _prune_names(self, devices: tuple[DeviceSnapshot, ...]) -> None:
        live = {p.pid for d in devices for p in d.processes or ()}
        for pid in [pid for pid in self._names if pid not in live]:
            del self._names[pid]


def _psutil_name(pid: int) -> str | NAType:
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # noqa: BLE001 - gone, or not ours to see
        return NA


def create_monitor(simulate: int | None = None, **kwargs: Any) -> GpuMonitor:
    """A monitor on the real NVML, or, only when `simulate` is given, on `simulate` scripted GPUs
    (labelled as simulated in every snapshot). Keyword arguments go to `GpuMonitor`."""
    if not simulate:
        return GpuMonitor(**kwargs)
    from gpu.fake_nvml import simulated_nvml

    fake = simulated_nvml(simulate)
    kwargs.setdefault("node_pids", fake.node_pids)
    return GpuMonitor(fake, **kwargs)
