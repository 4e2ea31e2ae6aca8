"""GPU metrics in the Prometheus text exposition format (version 0.0.4), for the node's /metrics.

Names follow Prometheus conventions (base units, ratios 0-1) under go-livepeer's `livepeer_` namespace.
Per-GPU series carry `gpu` (index), `uuid` and `name` labels; a field that is N/A is left out rather than
exported as a made-up number. No dependency: the node can append this text to its own exposition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpu.na import NA
from gpu.snapshot import DeviceSnapshot, GpuSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _pct(value: Any) -> Any:
    return NA if value is NA else value / 100.0


# name, help, value from a device
_DEVICE_GAUGES: tuple[tuple[str, str, Callable[[DeviceSnapshot], Any]], ...] = (
    ("gpu_up", "1 if the GPU answers, 0 if it is lost (fallen off the bus)", lambda d: 1 if d.status == "ok" else 0),
    ("gpu_utilization_ratio", "GPU (SM) utilisation, 0-1", lambda d: _pct(d.gpu_util_pct)),
    ("gpu_memory_utilization_ratio", "GPU memory controller utilisation, 0-1", lambda d: _pct(d.mem_util_pct)),
    ("gpu_memory_used_bytes", "GPU memory in use", lambda d: d.memory_used_bytes),
    ("gpu_memory_total_bytes", "GPU memory in total", lambda d: d.memory_total_bytes),
    ("gpu_temperature_celsius", "GPU core temperature", lambda d: d.temperature_c),
    ("gpu_power_watts", "GPU power draw", lambda d: d.power_draw_w),
    ("gpu_power_limit_watts", "GPU enforced power limit", lambda d: d.power_limit_w),
    ("gpu_encoder_utilization_ratio", "NVENC utilisation, 0-1", lambda d: _pct(d.encoder_util_pct)),
    ("gpu_decoder_utilization_ratio", "NVDEC utilisation, 0-1", lambda d: _pct(d.decoder_util_pct)),
    ("gpu_encoder_sessions", "Active NVENC sessions", lambda d: d.encoder_sessions),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: dict[str, Any]) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs.items()) + "}"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(int(value))


def prometheus_text(snapshot: GpuSnapshot | None, namespace: str = "livepeer") -> str:
    """The snapshot's GPU metrics as exposition text (ends with a newline; empty GPUs still export
    `<ns>_gpu_devices 0` and the monitor's source)."""
    ns = f"{namespace}_" if namespace else ""
    lines: list[str] = []

    def family(name: str, help_text: str) -> None:
        lines.append(f"# HELP {ns}{name} {help_text}")
        lines.append(f"# TYPE {ns}{name} gauge")

    devices = snapshot.devices if snapshot else ()
    family("gpu_devices", "GPUs the monitor sees (0 without an NVIDIA driver)")
    lines.append(f"{ns}gpu_devices {len(devices)}")
    family("gpu_monitor_info", "Where GPU figures come from: nvml, simulated (the test double) or none")
    lines.append(f"{ns}gpu_monitor_info{_labels({'source': snapshot.source if snapshot else 'none'})} 1")
    for name, help_text, read in _DEVICE_GAUGES:
        samples = []
        for d in devices:
            value = read(d)
            if value is NA:
                continue
            labels = _labels({"gpu": d.index, "uuid": d.uuid, "name": d.name})
            samples.append(f"{ns}{name}{labels} {_number(value)}")
        if samples:
            family(name, help_text)
            lines.extend(samples)
    return "\n".join(lines) + "\n"
