"""`lpc gpu`: the GPUs (or, with no NVIDIA driver, why not and the host figures), once or live.

Headless: rich only, never textual, so it works over ssh on a server.
"""

from __future__ import annotations

import sys
import threading

import click
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from gpu import NA, DeviceSnapshot, GpuMonitor, GpuSnapshot, HostSnapshot, create_monitor


def _bytes(value: object) -> str:
    if value is NA or value is None:
        return "N/A"
    size = float(value)  # type: ignore[arg-type]
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit in ("B", "KiB") else f"{size:.1f} {unit}"
        size /= 1024
    return "N/A"  # unreachable


def _pct(value: object) -> str:
    return "N/A" if value is NA else f"{value:.0f}%"


def _pair(a: object, b: object, unit: str = "") -> str:
    return f"{a}/{b}{unit}"


def _gib(value: object) -> str:
    return "N/A" if value is NA else f"{value / 2**30:.1f}"  # type: ignore[operator]


def _mib_s(value: object) -> str:
    return "N/A" if value is NA else f"{value / 2**20:.1f}"  # type: ignore[operator]


def _w(value: object) -> str:
    return "N/A" if value is NA else f"{value:.0f}"


def _device_tables(devices: tuple[DeviceSnapshot, ...]) -> list[RenderableType]:
    main = Table(title="GPUs", title_justify="left")
    for col in ("GPU", "Name", "Util", "Memory GiB", "Temp", "Power W", "Fan", "Perf"):
        main.add_column(col, justify="left" if col == "Name" else "right")
    video = Table(title="Video, clocks, bus", title_justify="left")
    for col in ("GPU", "Enc", "Dec", "Enc sess", "Enc FPS", "SM MHz", "Mem MHz", "PCIe rx MiB/s", "tx", "ECC", "MIG"):
        video.add_column(col, justify="right")
    notes: list[RenderableType] = []
    for d in devices:
        if d.status != "ok":
            main.add_row(str(d.index), str(d.name), Text("LOST", style="bold red"), *["–"] * 5)
            notes.append(Text(f"GPU {d.index}: {d.problem}", style="red"))
            continue
        main.add_row(
            str(d.index),
            str(d.name),
            _pct(d.gpu_util_pct),
            f"{_pair(_gib(d.memory_used_bytes), _gib(d.memory_total_bytes))} {_pct(d.memory_pct)}",
            "N/A" if d.temperature_c is NA else f"{d.temperature_c}°C",
            _pair(_w(d.power_draw_w), _w(d.power_limit_w)),
            _pct(d.fan_pct),
            str(d.performance_state),
        )
        if d.ecc_enabled is NA:
            ecc = "N/A"
        elif not d.ecc_enabled:
            ecc = "off"
        else:
            ecc = f"{d.ecc_errors_corrected}/{d.ecc_errors_uncorrected}"
        video.add_row(
            str(d.index),
            _pct(d.encoder_util_pct),
            _pct(d.decoder_util_pct),
            str(d.encoder_sessions),
            str(d.encoder_fps),
            str(d.clock_sm_mhz),
            str(d.clock_mem_mhz),
            _mib_s(d.pcie_rx_bytes_per_s),
            _mib_s(d.pcie_tx_bytes_per_s),
            ecc,
            "N/A" if d.mig_enabled is NA else ("on" if d.mig_enabled else "off"),
        )
        held = [r for r in d.throttle_reasons or () if r != "idle"]
        if held:
            notes.append(Text(f"GPU {d.index} clocks held back: {', '.join(held)}", style="yellow"))
    procs = Table(title="GPU processes (★ = this node)", title_justify="left")
    for col in ("GPU", "PID", "", "Name", "Type", "GPU mem", "SM", "Enc", "Dec"):
        procs.add_column(col, justify="left" if col in ("Name", "Type", "") else "right")
    for d in devices:
        for p in d.processes or ():
            procs.add_row(
                str(d.index),
                str(p.pid),
                "★" if p.is_node else "",
                str(p.name),
                "+".join(p.kinds),
                _bytes(p.gpu_memory_bytes),
                _pct(p.sm_util_pct),
                _pct(p.encoder_util_pct),
                _pct(p.decoder_util_pct),
            )
    out: list[RenderableType] = [main, video, *notes]
    if procs.row_count:
        out.append(procs)
    return out


def _host_table(h: HostSnapshot) -> Table:
    table = Table(title="Host", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    cores = "N/A" if h.per_cpu_pct is NA else " ".join(f"{c:.0f}" for c in h.per_cpu_pct)
    table.add_row("CPU", f"{_pct(h.cpu_pct)} of {h.cpu_count} cores   per core %: {cores}")
    table.add_row("Memory", f"{_bytes(h.memory_used_bytes)} / {_bytes(h.memory_total_bytes)} ({_pct(h.memory_pct)})")
    table.add_row("Swap", f"{_bytes(h.swap_used_bytes)} / {_bytes(h.swap_total_bytes)}")
    load = "N/A" if h.load_average is NA else "  ".join(f"{x:.2f}" for x in h.load_average)
    table.add_row("Load (1/5/15 min)", load)
    return table


def render(snapshot: GpuSnapshot) -> RenderableType:
    parts: list[RenderableType] = []
    if snapshot.label:
        parts.append(Panel(Text(snapshot.label, style="bold black on yellow", justify="center"), style="yellow"))
    if snapshot.reason:
        parts.append(Text(snapshot.reason, style="yellow"))
    elif snapshot.driver_version is not NA:
        parts.append(Text(f"NVIDIA driver {snapshot.driver_version}", style="dim"))
    if snapshot.devices:
        parts.extend(_device_tables(snapshot.devices))
    parts.append(_host_table(snapshot.host))
    return Group(*parts)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (with --watch: one per line).")
@click.option("--watch", is_flag=True, help="Refresh live until Ctrl-C.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    help="Seconds between samples with --watch.",
)
@click.option(
    "--simulate",
    type=click.IntRange(0, 64),
    default=0,
    envvar="LPC_GPU_SIMULATE",
    help="Show N simulated GPUs from the NVML test double, clearly labelled (env LPC_GPU_SIMULATE; 0 = real).",
)
def gpu(as_json: bool, watch: bool, interval: float, simulate: int) -> None:
    """Show the GPUs (utilisation, memory, temperature, power, encoder/decoder) and host figures."""
    monitor = create_monitor(simulate=simulate or None, interval=interval)
    try:
        if not watch:
            snapshot = monitor.sample()
            if as_json:
                click.echo(snapshot.to_json(indent=2))
            else:
                Console().print(render(snapshot))
            return
        _watch(monitor, as_json)
    except KeyboardInterrupt:  # Ctrl-C while the first sample or the stop is under way
        pass
    finally:
        monitor.close()


def _watch(monitor: GpuMonitor, as_json: bool) -> None:
    done = threading.Event()
    try:
        if as_json:
            def emit(snapshot: GpuSnapshot) -> None:
                sys.stdout.write(snapshot.to_json() + "\n")
                sys.stdout.flush()

            monitor.subscribe(emit)
            monitor.start()
            while not done.wait(0.5):
                pass
        else:
            first = monitor.sample()
            with Live(render(first), refresh_per_second=4, transient=False) as live:
                monitor.subscribe(lambda snapshot: live.update(render(snapshot)))
                monitor.start()
                while not done.wait(0.5):
                    pass
    except KeyboardInterrupt:
        pass
    finally:
        monitor.stop()
