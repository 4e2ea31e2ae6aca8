"""GPU sampler cost: CPU time per sample with 8 simulated GPUs, against a naive reader, in one run.

    .venv/bin/python bench/gpu_monitor.py [samples]

The naive reader is what a first attempt does (ai-runner's hardware.py, minus its one-try-for-all):
every sample it asks every field again, static and slow ones included, and tries the newest versioned
entry point first each time. The monitor caches static fields for good and slow ones for `slow_ttl`,
remembers which versioned call the driver has, and skips fields a GPU said it does not support.
Both read the same NVML double, so the figures compare Python-side work and the number of NVML calls;
on real hardware each NVML call also costs driver time (PCIe throughput ~20 ms each), which makes
the call count the figure that matters most.

Then the console's idle CPU: the real app, headless (`run_test`), on the GPU screen with 8 simulated GPUs
sampled at 2 Hz, for ~10 s of wall time, as process CPU time (every thread: UI, sampler, psutil);
beside it an empty Textual screen and the sampler alone (no UI) over the same time. The app has no
chain here (its RPC URL refuses connections), so the one chain read fails at once and costs nothing
after that. The monitor's history is filled first (as after a few minutes on the screen), since the
traces' data grows with it. Headless means the compositor renders every refresh but nothing is written to a terminal.

    .venv/bin/python bench/gpu_monitor.py [samples] [idle seconds]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu.fake_nvml import FakeNvml, simulated_nvml  # noqa: E402
from gpu.host import HostReader  # noqa: E402
from gpu.monitor import GpuMonitor  # noqa: E402
from gpu.snapshot import HostSnapshot  # noqa: E402

DEVICES = 8
OLD_DRIVER = {
    "nvmlDeviceGetComputeRunningProcesses_v3",
    "nvmlDeviceGetGraphicsRunningProcesses_v3",
    "nvmlDeviceGetCurrentClocksEventReasons",
    "nvmlDeviceGetProcessesUtilizationInfo",
    "nvmlDeviceGetTemperatureV",
    "nvmlDeviceGetMemoryInfo_v2",
}


class NoHost:
    """Host figures are the same work for both readers; measured separately."""

    def read(self) -> HostSnapshot:
        return HostSnapshot()


def naive_sample(nvml: Any) -> list[dict[str, Any]]:
    def first(*calls: tuple[str, tuple[Any, ...]]) -> Any:
        for name, args in calls:
            try:
                return getattr(nvml, name)(*args)
            except Exception:  # noqa: BLE001
                continue
        return None

    out = []
    for i in range(nvml.nvmlDeviceGetCount()):
        h = nvml.nvmlDeviceGetHandleByIndex(i)
        out.append(
            {
                "name": first(("nvmlDeviceGetName", (h,))),
                "uuid": first(("nvmlDeviceGetUUID", (h,))),
                "pci": first(("nvmlDeviceGetPciInfo_v3", (h,)), ("nvmlDeviceGetPciInfo", (h,))),
                "util": first(("nvmlDeviceGetUtilizationRates", (h,))),
                "mem": first(("nvmlDeviceGetMemoryInfo", (h, nvml.nvmlMemory_v2)), ("nvmlDeviceGetMemoryInfo", (h,))),
                "temp": first(("nvmlDeviceGetTemperatureV", (h, 0)), ("nvmlDeviceGetTemperature", (h, 0))),
                "power": first(("nvmlDeviceGetPowerUsage", (h,))),
                "limit": first(("nvmlDeviceGetEnforcedPowerLimit", (h,)), ("nvmlDeviceGetPowerManagementLimit", (h,))),
                "fan": first(("nvmlDeviceGetFanSpeed", (h,))),
                "clocks": [first(("nvmlDeviceGetClockInfo", (h, c))) for c in range(3)],
                "max_clocks": [first(("nvmlDeviceGetMaxClockInfo", (h, c))) for c in range(3)],
                "pstate": first(("nvmlDeviceGetPerformanceState", (h,))),
                "throttle": first(
                    ("nvmlDeviceGetCurrentClocksEventReasons", (h,)), ("nvmlDeviceGetCurrentClocksThrottleReasons", (h,))
                ),
                "enc": first(("nvmlDeviceGetEncoderUtilization", (h,))),
                "dec": first(("nvmlDeviceGetDecoderUtilization", (h,))),
                "enc_stats": first(("nvmlDeviceGetEncoderStats", (h,))),
                "pcie": [first(("nvmlDeviceGetPcieThroughput", (h, c))) for c in range(2)],
                "ecc": first(("nvmlDeviceGetEccMode", (h,))),
                "ecc_errors": [first(("nvmlDeviceGetTotalEccErrors", (h, t, 0))) for t in range(2)],
                "mig": first(("nvmlDeviceGetMigMode", (h,))),
                "compute": first(
                    ("nvmlDeviceGetComputeRunningProcesses_v3", (h,)),
                    ("nvmlDeviceGetComputeRunningProcesses_v2", (h,)),
                    ("nvmlDeviceGetComputeRunningProcesses", (h,)),
                ),
                "graphics": first(
                    ("nvmlDeviceGetGraphicsRunningProcesses_v3", (h,)),
                    ("nvmlDeviceGetGraphicsRunningProcesses_v2", (h,)),
                    ("nvmlDeviceGetGraphicsRunningProcesses", (h,)),
                ),
                "proc_util": first(
                    ("nvmlDeviceGetProcessesUtilizationInfo", (h, 0)), ("nvmlDeviceGetProcessUtilization", (h, 0))
                ),
            }
        )
    return out


def measure(run: Any, fake: FakeNvml, samples: int) -> tuple[float, float]:
    run()  # warm-up (NVML init, first reads of static fields)
    calls_before = sum(fake.calls.values())
    t0 = time.process_time()
    for _ in range(samples):
        run()
    cpu = time.process_time() - t0
    return cpu / samples * 1000, (sum(fake.calls.values()) - calls_before) / samples


def scenario(label: str, samples: int, missing: set[str]) -> None:
    fake = simulated_nvml(DEVICES, missing=missing)
    monitor = GpuMonitor(fake, host_reader=NoHost(), slow_ttl=10.0)
    mon_ms, mon_calls = measure(monitor.sample, fake, samples)
    monitor.close()

    fake = simulated_nvml(DEVICES, missing=missing)
    fake.nvmlInit()
    naive_ms, naive_calls = measure(lambda: naive_sample(fake), fake, samples)

    print(f"{label}")
    print(f"  {'':28}{'CPU ms/sample':>15}{'NVML calls/sample':>20}")
    print(f"  {'monitor (cached, fallback)':28}{mon_ms:>15.2f}{mon_calls:>20.1f}")
    print(f"  {'naive (every field, always)':28}{naive_ms:>15.2f}{naive_calls:>20.1f}")
    print(f"  monitor/naive CPU: {mon_ms / naive_ms:.2f}x, calls: {mon_calls / naive_calls:.2f}x")


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(f"GPU sampler, {DEVICES} simulated GPUs, {samples} samples each (process CPU time; slow_ttl 10 s,")
    print("so within this run the slow fields are read once by the monitor)\n")
    scenario("current driver (every newest entry point present)", samples, set())
    print()
    scenario("older driver (no _v3 process calls, ClocksEventReasons, TemperatureV, MemoryInfo_v2)", samples, OLD_DRIVER)
    host = HostReader(prime_interval=0)
    host.read()
    t0 = time.process_time()
    for _ in range(samples):
        host.read()
    print(f"\nhost figures (psutil), added to every sample by both: {(time.process_time() - t0) / samples * 1000:.2f} ms")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    console_idle_cpu(seconds)


def console_idle_cpu(seconds: float) -> None:
    import asyncio
    import tempfile

    from textual.app import App

    from chain.client import ChainClient
    from chain.network import ARBITRUM_ONE
    from console.app import LivepeerConsole
    from console.screens.gpu.gpu import GpuScreen
    from console.services import ConsoleServices
    from core.settings import load_settings
    from gpu import create_monitor

    async def idle(app: App, open_screen: Any) -> float:
        async with app.run_test(size=(150, 40)) as pilot:
            await app.workers.wait_for_complete()
            await open_screen(pilot)
            await asyncio.sleep(1.0)  # let the first redraws and the failed chain read settle
            cpu0 = time.process_time()
            await asyncio.sleep(seconds)
            return time.process_time() - cpu0

    async def nothing(pilot: Any) -> None:
        await pilot.pause()

    async def gpu_screen(pilot: Any) -> None:
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(pilot.app.screen, GpuScreen)

    def full_history_monitor():
        """The monitor as after a few minutes: its history (the traces' data) already full."""
        monitor = create_monitor(simulate=DEVICES, interval=0.5)
        for _ in range(monitor.history_size):
            monitor.sample()
        return monitor

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir)
        rpc = "http://127.0.0.1:9"  # nothing listens there
        services = ConsoleServices(
            settings=settings,
            profile=ARBITRUM_ONE,
            client_factory=lambda: ChainClient(rpc, ARBITRUM_ONE),
            gpu_monitor_factory=full_history_monitor,
        )
        empty = asyncio.run(idle(App(), nothing))
        console = asyncio.run(idle(LivepeerConsole(services, poll=False), gpu_screen))

    monitor = create_monitor(simulate=DEVICES, interval=0.5)
    monitor.start()
    time.sleep(1.0)
    cpu0 = time.process_time()
    time.sleep(seconds)
    sampler = time.process_time() - cpu0
    monitor.close()

    load = os.getloadavg()[0]
    print(f"\nconsole idle CPU over {seconds:g} s of wall time (process CPU time, all threads; % of one core)")
    print(f"  machine load (1 min) {load_before:.2f} before, {load:.2f} after, on {os.cpu_count()} cores:"
          " CPU time per task grows on a busy machine, so compare figures taken together")
    print(f"  {'empty Textual screen':44}{empty:>8.2f} s{100 * empty / seconds:>8.1f} %")
    print(f"  {'sampler alone, 8 simulated GPUs at 2 Hz':44}{sampler:>8.2f} s{100 * sampler / seconds:>8.1f} %")
    print(f"  {'GPU screen, 8 simulated GPUs at 2 Hz':44}{console:>8.2f} s{100 * console / seconds:>8.1f} %"
          "   (history full; issue #16 measured 9.5 %, target ≤ 3 %)")


if __name__ == "__main__":
    main()
