"""The GPU screen: cards with history, processes (★ = this node), alerts logged once per crossing, the
SIMULATED banner only for the double, a lost GPU, and the host figures when there is no driver.

Snapshots are deterministic: the NVML double and the host figures are functions of a clock the test
moves, the sampler thread is never started (`DrivenMonitor.start` does nothing), and every sample is
taken by the test with `monitor.sample()` before the screen opens.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from console.app import LivepeerConsole
from console.screens.gpu.cards import HostView
from console.screens.gpu.gpu_card import GpuCard
from console.screens.gpu.process_table import ProcessTable
from console.screens.gpu.gpu import GpuScreen
from gpu import GpuMonitor, HostSnapshot
from gpu.fake_nvml import (
    MIB,
    NODE_PID,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    PID_BASE,
    FakeGpu,
    FakeNvml,
    FakeProcess,
    NVMLError,
    simulated_nvml,
)
from tests.console.pilot import SIZE

GIB = 1024 * MIB


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class DrivenMonitor(GpuMonitor):
    """A GpuMonitor whose sampler thread never starts: the test calls sample() itself."""

    def start(self) -> None:
        pass

    def run(self, clock: ManualClock, samples: int, step: float = 1.0) -> None:
        for _ in range(samples):
            clock.now += step
            self.sample()


class ScriptedHost:
    """Host figures as a function of the sample number (psutil's would differ every run)."""

    def __init__(self, cores: int = 16) -> None:
        self.cores = cores
        self.n = 0

    def read(self) -> HostSnapshot:
        self.n += 1
        t = self.n
        shared = 30 * math.sin(t / 11)  # the whole machine gets busier and quieter
        per = tuple(
            round(max(0.0, min(100.0, 40 + shared + 20 * math.sin(t / 5 + i * 0.8) + 8 * (i % 3))), 1) for i in range(self.cores)
        )
        total = 32 * GIB
        used = int(total * (0.42 + 0.08 * math.sin(t / 15)))
        return HostSnapshot(
            cpu_pct=round(sum(per) / len(per), 1),
            per_cpu_pct=per,
            cpu_count=self.cores,
            memory_used_bytes=used,
            memory_total_bytes=total,
            memory_pct=round(100 * used / total, 1),
            swap_used_bytes=512 * MIB,
            swap_total_bytes=8 * GIB,
            load_average=(round(4 + 3 * math.sin(t / 10), 2), 3.9, 3.5),
        )


class NoDriver:
    """NVML without a driver, as pynvml behaves on this machine, but the same on every machine."""

    def nvmlInit(self) -> None:
        raise NVMLError(NVML_ERROR_LIBRARY_NOT_FOUND)


class UnlabelledNvml(FakeNvml):
    """Only for the banner test: the double with its label removed stands in for real hardware."""

    SIMULATION_LABEL = None


def wave(base: float, amplitude: float, period: float, phase: float = 0.0, lo: float = 0, hi: float = 100):
    return lambda t: int(max(lo, min(hi, base + amplitude * math.sin(2 * math.pi * t / period + phase))))


def rtx(name: str = "NVIDIA GeForce RTX 4090", *, phase: float = 0.0, temperature=None, power_limit_mw: int = 450_000, **kw) -> FakeGpu:
    util = wave(60, 35, 40, phase)
    gpu = dict(
        name=name,
        memory_total=24564 * MIB,
        memory_used=lambda t: int((6 + 3 * math.sin(t / 9 + phase)) * GIB),
        gpu_util=util,
        mem_util=wave(30, 20, 40, phase),
        temperature=temperature or wave(62, 10, 60, phase, 30, 95),
        power_mw=lambda t: int(power_limit_mw * (0.15 + 0.75 * util(t) / 100)),
        power_limit_mw=power_limit_mw,
        fan=wave(45, 15, 60, phase),
        clock_graphics=lambda t: int(3105 * (0.4 + 0.6 * util(t) / 100)),
        max_clock_graphics=3105,
        clock_mem=10501,
        pstate=0,
        throttle_mask=lambda t: 0x4 if util(t) > 85 else 0,
        encoder_util=wave(45, 30, 20, phase),
        decoder_util=wave(30, 20, 20, phase + 1),
        encoder_sessions=lambda t: util(t) // 12,
        encoder_fps=lambda t: 60 * (util(t) // 12),
        encoder_latency_us=lambda t: 900 + 20 * util(t),
        pcie_rx_kb=lambda t: 800 * util(t),
        pcie_tx_kb=lambda t: 300 * util(t),
        processes=[
            FakeProcess(NODE_PID, "lpc (transcoder)", used_memory=1400 * MIB, sm_util=35, encoder_util=44, decoder_util=29),
            FakeProcess(PID_BASE + 300, "python3 (ai-runner)", used_memory=4 * GIB, sm_util=22),
        ],
    )
    gpu.update(kw)
    return FakeGpu(**gpu)


def services_with(console_services, monitor):
    return dataclasses.replace(console_services, gpu_monitor_factory=lambda: monitor)


def driven(nvml, clock: ManualClock, *, interval: float = 1.0) -> DrivenMonitor:
    return DrivenMonitor(
        nvml, interval=interval, host_reader=ScriptedHost(), clock=clock, node_pids=getattr(nvml, "node_pids", ()) or {NODE_PID}
    )


async def open_gpu_screen(pilot) -> GpuScreen:
    await pilot.app.workers.wait_for_complete()
    await pilot.press("g")
    for _ in range(4):
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    assert isinstance(pilot.app.screen, GpuScreen)
    return pilot.app.screen


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()  # "end" scrolls with an animation, slower on a loaded machine
    await pilot.pause()


# -- snapshots -----------------------------------------------------------------------------------------


def no_driver_monitor():
    clock = ManualClock()
    monitor = driven(NoDriver(), clock)
    monitor.run(clock, 90)
    return monitor


def one_simulated_gpu():
    clock = ManualClock()
    monitor = driven(simulated_nvml(1, clock=clock), clock)
    monitor.run(clock, 120)
    return monitor


def two_gpus_one_hot():
    clock = ManualClock()
    nvml = FakeNvml(
        [rtx(phase=0.0), rtx(phase=2.0, temperature=lambda t: min(89, 66 + int(t / 4)), throttle_mask=0x20)],  # GPU 1: 89 °C by the end
        clock=clock,
        node_pids={NODE_PID},
    )
    monitor = driven(nvml, clock)
    monitor.run(clock, 100)
    return monitor


def eight_simulated_gpus():
    clock = ManualClock()
    monitor = driven(simulated_nvml(8, clock=clock), clock, interval=0.5)
    monitor.run(clock, 120, step=0.5)
    return monitor


def a_lost_gpu():
    clock = ManualClock()
    nvml = FakeNvml([rtx(phase=0.0), rtx("NVIDIA L4", phase=1.5, memory_total=23034 * MIB, power_limit_mw=72_000)],
                    clock=clock, node_pids={NODE_PID})
    monitor = driven(nvml, clock)
    monitor.run(clock, 70)
    nvml.lose(1)
    monitor.run(clock, 30)
    return monitor


SCENARIOS = {
    "no_driver": no_driver_monitor,
    "one_simulated": one_simulated_gpu,
    "two_one_hot": two_gpus_one_hot,
    "eight_simulated": eight_simulated_gpus,
    "lost": a_lost_gpu,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_gpu_screen_snapshot(scenario, console_services, snap_compare):
    app = LivepeerConsole(services_with(console_services, SCENARIOS[scenario]()), poll=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_gpu_screen)


# -- behaviour -----------------------------------------------------------------------------------------


def warnings_about(app, words: str) -> list[str]:
    return [e.text for e in app.console_log.entries if e.severity == "warning" and words in e.text]


async def test_temperature_alert_is_logged_once_per_crossing_and_clears_on_recovery(console_services):
    clock = ManualClock()
    nvml = FakeNvml([rtx(temperature=70, throttle_mask=0)], clock=clock)
    monitor = driven(nvml, clock)
    monitor.sample()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        card = screen.query_one(GpuCard)
        assert not card.has_class("-alert") and not warnings_about(app, "°C")

        nvml.gpus[0].temperature = 86
        for _ in range(5):  # five samples over the line: one crossing
            monitor.sample()
            await settle(pilot)
        assert warnings_about(app, "°C") == ["GPU 0 (NVIDIA GeForce RTX 4090) is at 86 °C, at or above the 83 °C alert"]
        assert card.has_class("-alert") and "86 °C ≥ 83 °C" in card.border_subtitle

        nvml.gpus[0].temperature = 82  # under the line but within the hysteresis: still on, not logged again
        monitor.sample()
        await settle(pilot)
        assert card.has_class("-alert") and len(warnings_about(app, "°C")) == 1

        nvml.gpus[0].temperature = 75
        monitor.sample()
        await settle(pilot)
        assert not card.has_class("-alert")
        assert any(e.severity == "success" and "cooled to 75 °C" in e.text for e in app.console_log.entries)

        nvml.gpus[0].temperature = 90  # a second crossing is a second entry
        monitor.sample()
        await settle(pilot)
        assert len(warnings_about(app, "°C")) == 2


async def test_memory_and_throttling_alerts_follow_settings(console_services):
    clock = ManualClock()
    nvml = FakeNvml([rtx(memory_used=10 * GIB, memory_total=16 * GIB, temperature=60, throttle_mask=0)], clock=clock)
    monitor = driven(nvml, clock)
    monitor.sample()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        nvml.gpus[0].memory_used = int(15.5 * GIB)  # 97 % >= 95 %
        nvml.gpus[0].throttle_mask = 0x40  # hardware thermal slowdown
        for _ in range(3):
            monitor.sample()
            await settle(pilot)
        assert len(warnings_about(app, "memory is 97 % full")) == 1
        assert warnings_about(app, "clocks held back") == ["GPU 0 (NVIDIA GeForce RTX 4090) clocks held back: hardware thermal slowdown"]
        nvml.gpus[0].throttle_mask = 0x4  # the software power cap is routine at full load: no alert
        monitor.sample()
        await settle(pilot)
        card = screen.query_one(GpuCard)
        assert "hardware thermal" not in card.border_subtitle and "memory 97 %" in card.border_subtitle


async def test_a_lost_gpu_is_logged_once_as_an_error_and_shown_on_its_card(console_services):
    monitor = a_lost_gpu()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        monitor.sample()
        await settle(pilot)
        errors = [e.text for e in app.console_log.entries if e.severity == "error"]
        assert len(errors) == 1 and errors[0].startswith("GPU 1 is lost")
        card = screen.query_one("#gpu-1", GpuCard)
        assert card.has_class("-lost") and "LOST" in card.border_title
        assert not screen.query_one("#gpu-0", GpuCard).has_class("-lost")


@pytest.mark.parametrize(
    ("nvml", "banner"),
    [(lambda clock: simulated_nvml(2, clock=clock), True), (lambda clock: UnlabelledNvml([rtx()], clock=clock), False),
     (lambda clock: NoDriver(), False)],
    ids=["simulated", "unlabelled-double", "no-driver"],
)
async def test_simulated_banner_only_for_simulated_data(console_services, nvml, banner):
    clock = ManualClock()
    monitor = driven(nvml(clock), clock)
    monitor.sample()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        shown = screen.query_one("#simulated")
        assert shown.display is banner
        if banner:
            assert "SIMULATED — NVML test double, not real hardware" in str(shown.render())


async def test_no_driver_says_why_and_shows_host_figures(console_services):
    monitor = no_driver_monitor()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        host = screen.query_one(HostView)
        assert host.display and screen.has_class("-no-gpu")
        assert "NVIDIA driver not found" in str(host.query_one("#reason").render())
        assert len(host.query(".core")) == 16


async def test_a_burst_of_samples_collapses_to_the_newest(console_services):
    clock = ManualClock()
    nvml = FakeNvml([rtx(gpu_util=0)], clock=clock)
    monitor = driven(nvml, clock)
    monitor.sample()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        for util in range(1, 31):
            nvml.gpus[0].gpu_util = util
            monitor.sample()
        await settle(pilot)
        card = screen.query_one(GpuCard)
        assert card.text().splitlines()[0].startswith("util   30 % ")


async def test_reachable_with_g_and_from_the_command_palette(console_services):
    clock = ManualClock()
    monitor = driven(NoDriver(), clock)
    monitor.sample()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_gpu_screen(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, GpuScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Go to GPU")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, GpuScreen)


async def test_the_process_list_scrolls_under_its_header(console_services):
    monitor = eight_simulated_gpus()  # 12 processes: more than the table has lines for at this size
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        table = screen.query_one(ProcessTable)

        def shown() -> list[str]:
            return [table.render_line(y).text.split() for y in range(table.size.height)]

        first = shown()
        assert first[0][:3] == ["★", "GPU", "PID"] and first[1][:2] == ["★", "0"]
        assert len(table.rows) > table.size.height - 1  # some rows are below the fold
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        last = shown()
        assert last[0][:3] == ["★", "GPU", "PID"]  # the header stays
        gpus = [row[1] if row[0] == "★" else row[0] for row in last[1:]]
        assert gpus[-1] == "7" and "0" not in gpus  # the last GPU's processes, the first GPU's scrolled away


async def test_cards_and_processes_follow_the_theme(console_services):
    monitor = two_gpus_one_hot()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        card, table = screen.query_one("#gpu-0", GpuCard), screen.query_one(ProcessTable)

        def colours() -> tuple[set, set]:
            def of(line) -> set:
                return {(s.style.color, s.style.bgcolor) for s in line if s.style}
            return of(card.render_line(0)), of(table.render_line(1))

        dark = colours()
        app.theme = "livepeer-light"
        await settle(pilot)
        light = colours()
        assert light[0] != dark[0] and light[1] != dark[1]
        assert card.text().splitlines()[0].startswith("util   60 %")  # same readings, new colours


async def test_cards_redraw_to_fit_a_resized_terminal(console_services):
    monitor = eight_simulated_gpus()
    app = LivepeerConsole(services_with(console_services, monitor), poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_gpu_screen(pilot)
        card = screen.query_one("#gpu-1", GpuCard)
        before = card.text().splitlines()
        await pilot.resize_terminal(110, SIZE[1])
        await settle(pilot)
        after = card.text().splitlines()
        width = card.content_size.width
        assert width < len(before[0])
        assert all(len(line) == width for line in after)
        assert after[0].startswith(before[0][:14]) and len(after) == len(before)  # "util  86 %    " and the same lines
