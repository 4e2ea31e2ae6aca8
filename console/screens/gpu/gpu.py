"""GPU: a card per GPU (utilisation, memory, temperature and power over time; NVENC/NVDEC; clocks and why
they are held back), the processes on the GPUs with this node's marked ★, and alerts from settings.gpu.
With no GPU it says why and shows the host's CPU (per core), memory and load instead.

The monitor samples on its own thread; its callback only posts `GpuSampled`, which does not bubble and
replaces a pending one, so a burst of samples costs one redraw. The screen never polls.

A sample must cost little (issue #16: ≤ 3 % of a core with 8 GPUs at 2 Hz, bench/gpu_monitor.py), so each
GPU card is one Line API widget (`GpuCard`) and the processes one Line API table (`ProcessTable`), and
both redraw only the lines whose text or trace changed; lines and titles that did not change are not
set again (`show_text`). A card's alert/lost look is set as inline styles, not by a class change:
a class change restyles the card and its component classes (~10 ms each time an alert comes or goes).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from console.screens.base import ConsoleScreen
from console.screens.gpu.alerts import AlertTracker
from console.screens.gpu.cards import HostView, pct, show_text
from console.screens.gpu.gpu_card import GpuCard
from console.screens.gpu.process_table import ProcessTable, process_row
from gpu import NA, GpuSnapshot, ProcessSnapshot

SIMULATED_BANNER = "SIMULATED — NVML test double, not real hardware"

# One tracker per monitor, so moving between screens neither forgets an alert nor logs it again.
_TRACKERS: weakref.WeakKeyDictionary[Any, AlertTracker] = weakref.WeakKeyDictionary()


@dataclass
class GpuSampled(Message, bubble=False):
    """The monitor took a sample. Only the newest matters: a pending one is replaced by the next."""

    snapshot: GpuSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GpuSampled)


class GpuScreen(ConsoleScreen):
    CSS_PATH = "gpu.tcss"

    def __init__(self) -> None:
        super().__init__(id="gpu")
        self._unsubscribe = None
        self._monitor = None
        self._device_count: int | None = None
        self._cards: list[GpuCard] = []  # by device index

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="summary-row"):
            yield Static("starting GPU monitoring…", id="gpu-summary")
            yield Static("", id="host-summary")
        yield Static(SIMULATED_BANNER, id="simulated")
        with Vertical(id="gpu-view"):
            yield Vertical(id="devices")
            yield Static("", id="processes-title")
            yield ProcessTable(id="processes")
        yield HostView(id="host")

    def on_mount(self) -> None:
        super().on_mount()
        monitor = self.app.services.gpu_monitor
        if monitor is None:
            self.add_class("-unconfigured")
            self.query_one("#gpu-summary", Static).update("GPU monitoring is not set up for this console")
            return
        self._monitor = monitor
        self._unsubscribe = monitor.subscribe(self._sampled)  # called on the sampler thread
        latest = monitor.latest()
        if latest is not None:
            self.post_message(GpuSampled(latest))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _sampled(self, snapshot: GpuSnapshot) -> None:
        self.post_message(GpuSampled(snapshot))  # thread-safe; everything else happens on the UI side

    @property
    def alerts(self) -> AlertTracker:
        return _TRACKERS.setdefault(self._monitor, AlertTracker())

    @on(GpuSampled)
    async def show_snapshot(self, message: GpuSampled) -> None:
        snap = message.snapshot
        monitor = self._monitor
        if (snap.simulated, not snap.devices) != (self.has_class("-simulated"), self.has_class("-no-gpu")):
            self.set_class(snap.simulated, "-simulated")
            self.set_class(not snap.devices, "-no-gpu")
        if not snap.devices:
            self._summary(snap)
            await self.query_one(HostView).show(snap.reason, snap.host, monitor.host_history())
            return

        for change in self.alerts.update(snap, self.app.services.settings.gpu):
            self.app.log_event(change.severity, change.text)
        self._summary(snap)
        await self._ensure_cards(len(snap.devices))
        for d in snap.devices:
            self._cards[d.index].show(d, monitor.history(d.index), self.alerts.active(d.index))
        self._processes(snap)

    async def _ensure_cards(self, count: int) -> None:
        if count == self._device_count:
            return
        self._device_count = count
        devices = self.query_one("#devices", Vertical)
        await devices.remove_children()
        self._cards = [GpuCard(i, count=count) for i in range(count)]
        await devices.mount_all(self._cards)
        for cls, on_ in (("-one", count == 1), ("-two", count == 2), ("-many", count > 2)):
            self.set_class(on_, cls)

    def _summary(self, snap: GpuSnapshot) -> None:
        g = self.app.services.settings.gpu
        interval = self._monitor.interval
        samples = len(self._monitor.host_history())
        every = f" · every {interval:g} s" + (f" · traces: last {_duration(samples * interval)}" if interval and samples > 1 else "")
        host = snap.host
        show_text(self.query_one("#host-summary", Static),
            f"host CPU [b]{pct(host.cpu_pct)}[/] · memory [b]{pct(host.memory_pct)}[/]"
            + ("" if host.load_average is NA else f" · load [b]{host.load_average[0]:.2f}[/]")
        )
        if not snap.devices:
            text = f"[$warning b]No GPU[/]{every}"
        else:
            source = "NVML test double" if snap.simulated else "NVML"
            driver = "" if snap.driver_version is NA else f" · driver {snap.driver_version}"
            n = len(snap.devices)
            lost = sum(d.status == "lost" for d in snap.devices)
            alerting = sum(d.status == "ok" and bool(self.alerts.active(d.index)) for d in snap.devices)
            status = []
            if lost:
                status.append(f"[$error b]{lost} lost[/]")
            if alerting:
                status.append(f"[$warning b]{alerting} alerting[/]")
            throttling = ", slowdowns" if g.alert_throttling else ""
            text = (
                f"[b]{n} GPU{'s' if n != 1 else ''}[/]"
                + "".join(f" · {s}" for s in status)
                + f" · {source}{driver} · [$muted-text]alerts ≥ {g.alert_temperature_c} °C, ≥ {g.alert_memory_pct:g} % memory{throttling}{every}[/]"
            )
        show_text(self.query_one("#gpu-summary", Static), text)

    def _processes(self, snap: GpuSnapshot) -> None:
        procs: list[ProcessSnapshot] = []
        unknown = 0
        for d in snap.devices:
            if d.processes is NA:
                unknown += d.status == "ok"
            else:
                procs.extend(d.processes)
        procs.sort(key=lambda p: (p.device_index, not p.is_node, -(p.gpu_memory_bytes or 0), p.pid))
        ours = sum(p.is_node for p in procs)
        title = f"[b]Processes[/] · {len(procs)} on the GPUs · [b]★[/] this node ({ours})"
        if unknown:
            title += f" · [$muted-text]{unknown} GPU{'s' if unknown != 1 else ''} cannot list processes (N/A)[/]"
        show_text(self.query_one("#processes-title", Static), title)
        self.query_one("#processes", ProcessTable).show([process_row(p) for p in procs])


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
