"""GPU parts: the host figures shown when there is no GPU, the Dashboard's card, and the words cards share.

The GPU screen's card per GPU is `GpuCard` (gpu_card.py); the processes table is process_table.py. The
Dashboard's compact card is `DeviceCard` here (widgets); both take their words from the functions below.

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


# -- what a card says, in words: runs of (text, style name) ------------------------------------------

Runs = tuple[tuple[str, str], ...]
# the style names a run can have, as markup over the line's own style
RUN_MARKUP = {"line": "", "bold": "bold", "muted": "$muted-text", "warning": "$warning bold", "error": "$error bold"}


def runs_content(runs: Runs) -> Content:
    """`runs` as Content, for a Static."""
    return Content.assemble(*((text, RUN_MARKUP[style]) if RUN_MARKUP[style] else text for text, style in runs))


def codec_runs(d: DeviceSnapshot, *, pcie: bool) -> Runs:
    """NVENC/NVDEC load, encoder sessions, and PCIe throughput when there is room."""
    runs = [("NVENC ", "line"), (pct(d.encoder_util_pct), "bold"), (" · NVDEC ", "line"), (pct(d.decoder_util_pct), "bold")]
    if d.encoder_sessions is not NA:
        latency = "" if d.encoder_latency_us is NA else f" {d.encoder_latency_us / 1000:.1f} ms"
        runs.append((f" · {d.encoder_sessions} sessions {d.encoder_fps} fps{latency}", "line"))
    if pcie and d.pcie_rx_bytes_per_s is not NA and d.pcie_tx_bytes_per_s is not NA:
        runs.append((f" · PCIe ↓{d.pcie_rx_bytes_per_s / 1e6:.0f} ↑{d.pcie_tx_bytes_per_s / 1e6:.0f} MB/s", "line"))
    return tuple(runs)


def clocks_runs(d: DeviceSnapshot, alerting: bool) -> Runs:
    """Performance state and clocks, why they are held back, ECC errors, memory clock, fan."""
    # Most telling first: a narrow card cuts the end off.
    clock = "N/A" if d.clock_graphics_mhz is NA else str(d.clock_graphics_mhz)
    if d.clock_graphics_max_mhz is not NA:
        clock += f"/{d.clock_graphics_max_mhz}"
    runs = [
        (f"{d.performance_state} {clock} MHz · ", "line"),
        (throttle_words(d.throttle_reasons), "warning" if alerting else "muted"),
    ]
    if d.ecc_errors_uncorrected:
        runs += [(" · ", "line"), (f"ECC {d.ecc_errors_uncorrected} uncorrected", "error")]
    tail = f" · mem {d.clock_mem_mhz} MHz"
    if d.fan_pct is not NA:
        tail += f" · fan {d.fan_pct} %"
    runs.append((tail, "line"))
    return tuple(runs)


def lost_text(d: DeviceSnapshot, history: Sequence[DeviceSnapshot]) -> Content:
    """Why a lost GPU is lost, and its last reading."""
    last = next((h for h in reversed(history) if h.status == "ok"), None)
    seen = ""
    if last is not None:
        seen = (
            f"\n[$muted-text]last reading: util {pct(last.gpu_util_pct)} · {last.temperature_c} °C · "
            f"memory {gib(last.memory_used_bytes)}/{gib(last.memory_total_bytes)} GiB[/]"
        )
    return Content.from_markup(f"[$error b]{escape(d.problem or 'GPU lost')}[/]{seen}")


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


class DeviceCard(Vertical):
    """One GPU as widgets (cells, sparklines, lines): the Dashboard's compact card.

    The GPU screen draws its cards with `GpuCard` (gpu_card.py), one Line API widget per GPU that
    redraws only changed lines; both say the same words (`codec_runs`, `clocks_runs`, `lost_text`).
    """

    def __init__(self, index: int, *, compact: bool = False) -> None:
        super().__init__(id=f"gpu-{index}", classes="card device")
        self.index = index
        self.compact = compact  # half-width card (three GPUs or more): shorter readings, no PCIe
        self.border_title = f"GPU {index}"

    def compose(self) -> ComposeResult:
        # the parts are kept, not queried per sample
        self._util = MetricCell("util", id="util")
        self._memory = MetricCell("mem" if self.compact else "memory", id="memory")
        self._temperature = MetricCell("temp", low=TEMPERATURE_SCALE[0], high=TEMPERATURE_SCALE[1], id="temperature")
        self._power = MetricCell("power", id="power")
        self._codec = Static("", id="codec", classes="line")
        self._clocks = Static("", id="clocks", classes="line")
        self._lost = Static("", id="lost", classes="line")
        with Horizontal(classes="metrics"):
            yield self._util
            yield self._memory
        with Horizontal(classes="metrics"):
            yield self._temperature
            yield self._power
        yield self._codec
        yield self._clocks
        yield self._lost

    def show(self, d: DeviceSnapshot, history: Sequence[DeviceSnapshot], alerts: dict[str, str]) -> None:
        lost = d.status == "lost"
        name = "" if d.name is NA else f" · {d.name}"
        title = f"GPU {d.index}{name}" + (" · LOST" if lost else "")
        self.set_class(lost, "-lost")
        self.set_class(bool(alerts) and not lost, "-alert")
        if lost:
            subtitle = "✖ lost: no readings"
        elif alerts:
            subtitle = "⚠ " + " · ".join(alerts.values())
        else:
            subtitle = "" if d.bus_id is NA else str(d.bus_id)
        if (title, subtitle) != (self.border_title, self.border_subtitle):
            self.border_title, self.border_subtitle = title, subtitle

        limit = next((h.power_limit_w for h in reversed(history) if h.power_limit_w is not NA), NA)
        self._util.show(
            "—" if lost else pct(d.gpu_util_pct), [num(h.gpu_util_pct) for h in history]
        )
        if lost:
            memory = "—"
        elif d.memory_pct is NA:
            memory = "N/A"
        elif self.compact:
            memory = f"{d.memory_pct:.0f} % {d.memory_used_bytes / GIB:.0f}/{d.memory_total_bytes / GIB:.0f}G"
        else:
            memory = f"{d.memory_pct:.0f} % {gib(d.memory_used_bytes)}/{gib(d.memory_total_bytes)} GiB"
        self._memory.show(memory, [num(h.memory_pct) for h in history])
        self._temperature.show(
            "—" if lost else ("N/A" if d.temperature_c is NA else f"{d.temperature_c} °C"),
            [num(h.temperature_c) for h in history],
        )
        power = "—" if lost else (
            "N/A" if d.power_draw_w is NA else f"{d.power_draw_w:.0f}" + ("" if limit is NA else f"/{limit:.0f}") + " W"
        )
        self._power.show(
            power, [num(h.power_draw_w) for h in history], high=None if limit is NA else float(limit)
        )
        if lost:
            show_text(self._lost, lost_text(d, history))
            return
        show_text(self._codec, runs_content(codec_runs(d, pcie=not self.compact)))
        show_text(self._clocks, runs_content(clocks_runs(d, "throttling" in alerts)))

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
