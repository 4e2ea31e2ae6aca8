"""The GPU screen's parts: the host figures shown when there is no GPU, and the formatting the cards share.

A card per GPU is `DeviceCard` in device_card.py; the processes table is process_table.py.

Widgets here only display what they are given (attributes down): the screen passes each one the
newest snapshot and the monitor's history. Layout and colours are in gpu.tcss.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from console.screens.gpu.trace import TraceSparkline
from gpu import NA, DeviceSnapshot, HostSnapshot

GIB = 1024**3
TEMPERATURE_SCALE = (20.0, 100.0)  # °C shown by the temperature trace


def pct(value: object, digits: int = 0) -> str:
    return "N/A" if value is NA else f"{value:.{digits}f} %"


def gib(value: object) -> str:
    return "N/A" if value is NA else f"{value / GIB:.1f}"


def num(value: object) -> float | None:
    return None if value is NA or value is None else float(value)  # type: ignore[arg-type]


def show_text(widget: Static, text: str | Content) -> None:
    """Update a fixed-size line only when its text changed: a steady reading costs no redraw."""
    if getattr(widget, "_shown_text", None) != text:
        widget._shown_text = text
        widget.update(text, layout=False)


def throttle_words(reasons: object) -> str:
    if reasons is NA:
        return "clock limits N/A"
    if not reasons:
        return "clocks run free"
    if reasons == ("idle",):
        return "idle: clocks down"
    return "held back: " + ", ".join(r for r in reasons if r != "idle")  # type: ignore[union-attr]


class MetricCell(Horizontal):
    """A label, the newest reading and its history."""

    def __init__(self, label: str, *, low: float = 0.0, high: float = 100.0, id: str | None = None) -> None:
        super().__init__(id=id, classes="metric")
        self.label = label
        self.low = low
        self.high = high

    def compose(self) -> ComposeResult:
        # kept, not queried per sample: a screen of 8 GPUs updates 32 of these twice a second
        self._value = Static("…", classes="value")
        self._trace = TraceSparkline(low=self.low, high=self.high)
        yield Static(self.label, classes="label")
        yield self._value
        yield self._trace

    def show(self, value: str, trace: Sequence[float | None], *, high: float | None = None) -> None:
        show_text(self._value, value)  # fixed size: no relayout per sample
        self._trace.set_trace(trace, high=high)


class CoreCell(Horizontal):
    def __init__(self, index: int) -> None:
        super().__init__(classes="core")
        self.index = index

    def compose(self) -> ComposeResult:
        yield Static(f"cpu{self.index}", classes="label")
        yield Static("…", classes="value")
        yield TraceSparkline()

    def show(self, value: str, trace: Sequence[float | None]) -> None:
        show_text(self.query_one(".value", Static), value)
        self.query_one(TraceSparkline).set_trace(trace)


class HostView(Vertical):
    """No GPU to show: why, in words, and the host's CPU (per core), memory and load over time."""

    _reason: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="no-gpu", classes="card"):
            yield Static("", id="reason")
            yield Static(
                "GPUs appear here as soon as NVML can see one. To try this screen with test data, start the "
                "console with [b]LPC_GPU__SIMULATE=2[/] (shown as SIMULATED, never as real hardware).",
                id="hint",
            )
        with Vertical(id="host-overview", classes="card"):
            yield MetricCell("CPU", id="host-cpu")
            yield MetricCell("memory", id="host-memory")
            yield MetricCell("load 1m", id="host-load")
            yield Static("", id="host-swap", classes="line")
        yield Grid(id="cores", classes="card")

    def on_mount(self) -> None:
        self.query_one("#no-gpu").border_title = "No GPU"
        self.query_one("#host-overview").border_title = "Host"
        self.query_one("#cores").border_title = "CPU per core"

    async def show(self, reason: str | None, host: HostSnapshot, history: Sequence[HostSnapshot]) -> None:
        if reason != self._reason:
            self._reason = reason
            self.query_one("#reason", Static).update(Content.from_markup(f"[b]{escape(reason or 'no GPU found')}[/]"))
        cores = 0 if host.per_cpu_pct is NA else len(host.per_cpu_pct)
        self.query_one("#host-overview").border_title = "Host" + ("" if host.cpu_count is NA else f" · {host.cpu_count} CPUs")
        self.query_one("#host-cpu", MetricCell).show(pct(host.cpu_pct, 1), [num(h.cpu_pct) for h in history])
        memory = "N/A" if host.memory_pct is NA else (
            f"{host.memory_pct:.0f} % {gib(host.memory_used_bytes)}/{gib(host.memory_total_bytes)} GiB"
        )
        self.query_one("#host-memory", MetricCell).show(memory, [num(h.memory_pct) for h in history])
        load = host.load_average
        load_text = "N/A" if load is NA else f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        self.query_one("#host-load", MetricCell).show(
            load_text,
            [None if h.load_average is NA else h.load_average[0] for h in history],
            high=float(cores or 1),  # a load equal to the core count fills the trace
        )
        swap = "swap N/A" if host.swap_used_bytes is NA else (
            f"swap {gib(host.swap_used_bytes)}/{gib(host.swap_total_bytes)} GiB · load averages over 1, 5 and 15 "
            f"minutes; the load trace is full at {cores or 1} (one runnable task per CPU)"
        )
        show_text(self.query_one("#host-swap", Static), swap)

        grid = self.query_one("#cores", Grid)
        cells = list(grid.query(CoreCell))
        if len(cells) != cores:
            await grid.remove_children()
            cells = [CoreCell(i) for i in range(cores)]
            await grid.mount_all(cells)
        for cell in cells:
            i = cell.index
            trace = [None if h.per_cpu_pct is NA or i >= len(h.per_cpu_pct) else h.per_cpu_pct[i] for h in history]
            cell.show(pct(host.per_cpu_pct[i]), trace)  # type: ignore[index]
