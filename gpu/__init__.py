"""GPU monitoring on NVML (a leaf package: imports no core, chain, console or textual).

Public API:
    create_monitor(simulate=None, **kw) -> GpuMonitor     the real NVML, or N labelled simulated GPUs
    GpuMonitor: sample(), start(), stop(), close(), latest(), history(i), host_history(), subscribe(cb),
                set_node_pids(pids), interval, source, label, reason
    GpuSnapshot / DeviceSnapshot / ProcessSnapshot / HostSnapshot   frozen; to_dict(), GpuSnapshot.to_json()
    NA, is_na, or_none                                    the "not available" value of any field
    prometheus_text(snapshot)                             GPU metrics for /metrics
    FakeNvml / FakeGpu / FakeProcess (gpu.fake_nvml)      the scripted NVML double, for tests
"""

from gpu.metrics import CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE
from gpu.metrics import prometheus_text
from gpu.monitor import GpuMonitor, create_monitor, nvml_init_reason
from gpu.na import NA, NAType, is_na, or_none
from gpu.snapshot import DeviceSnapshot, GpuSnapshot, HostSnapshot, ProcessSnapshot

__all__ = [
    "NA",
    "PROMETHEUS_CONTENT_TYPE",
    "DeviceSnapshot",
    "GpuMonitor",
    "GpuSnapshot",
    "HostSnapshot",
    "NAType",
    "ProcessSnapshot",
    "create_monitor",
    "is_na",
    "nvml_init_reason",
    "or_none",
    "prometheus_text",
]
