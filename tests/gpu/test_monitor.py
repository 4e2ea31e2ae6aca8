"""The monitor on the scripted NVML double: what a screen would show for 1, 2 and 8 GPUs, unsupported
fields, a GPU that falls off the bus, NVML failing at start, and older drivers."""

import json
import logging

import pytest

from gpu import NA, GpuMonitor, create_monitor
from gpu.fake_nvml import (
    NVML_ERROR_DRIVER_NOT_LOADED,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    FakeGpu,
    FakeNvml,
    FakeProcess,
)

GIB = 2**30


def monitor_on(fake, host, **kw):
    return GpuMonitor(fake, host_reader=host, **kw)


@pytest.mark.parametrize("count", [1, 2, 8])
def test_every_gpu_is_reported_with_its_own_figures(count, host):
    gpus = [
        FakeGpu(name=f"GPU model {i}", gpu_util=10 * i, memory_used=i * GIB, memory_total=16 * GIB, temperature=40 + i,
                power_mw=100_000 + i * 1000, power_limit_mw=250_000, encoder_util=5 * i, decoder_util=3 * i)
        for i in range(count)
    ]
    with monitor_on(FakeNvml(gpus), host) as monitor:
        snap = monitor.sample()
    assert [d.index for d in snap.devices] == list(range(count))
    assert len({d.uuid for d in snap.devices}) == count
    assert len({d.bus_id for d in snap.devices}) == count
    for i, d in enumerate(snap.devices):
        assert d.status == "ok"
        assert d.name == f"GPU model {i}"
        assert (d.gpu_util_pct, d.memory_used_bytes, d.memory_total_bytes) == (10 * i, i * GIB, 16 * GIB)
        assert d.temperature_c == 40 + i
        assert d.power_draw_w == pytest.approx(100 + i) and d.power_limit_w == pytest.approx(250)
        assert (d.encoder_util_pct, d.decoder_util_pct) == (5 * i, 3 * i)
        assert d.throttle_reasons == ("idle",)
        assert d.performance_state == "P8"
    assert snap.reason is None
    assert snap.host.cpu_count is not NA and snap.host.memory_total_bytes > 0


def test_snapshots_from_the_double_say_they_are_simulated(host):
    with monitor_on(FakeNvml(2), host) as monitor:
        snap = monitor.sample()
    assert snap.source == "simulated" and snap.simulated
    assert "SIMULATED" in snap.label and "not real" in snap.label
    data = json.loads(snap.to_json())
    assert data["source"] == "simulated" and data["label"] == snap.label


def test_the_double_is_never_used_unless_asked(monkeypatch, host):
    monkeypatch.setenv("LPC_GPU_SIMULATE", "8")  # only `lpc gpu` reads this, as its --simulate default
    with create_monitor(host_reader=host) as monitor:
        snap = monitor.sample()
    assert snap.source != "simulated" and snap.label is None
    with create_monitor(simulate=3, host_reader=host) as monitor:
        snap = monitor.sample()
    assert snap.source == "simulated" and len(snap.devices) == 3


def test_unsupported_fields_are_na_and_the_rest_still_read(host):
    gpu = FakeGpu(unsupported={"fan", "encoder_stats", "pcie", "power", "ecc", "mig", "processes"}, gpu_util=77)
    with monitor_on(FakeNvml([gpu]), host) as monitor:
        for _ in range(3):
            d = monitor.sample().devices[0]
    assert d.status == "ok" and d.gpu_util_pct == 77 and d.temperature_c == 40
    for name in ("fan_pct", "encoder_sessions", "encoder_fps", "encoder_latency_us", "pcie_rx_bytes_per_s",
                 "power_draw_w", "ecc_enabled", "mig_enabled", "processes"):
        assert getattr(d, name) is NA, name
    data = d.to_dict()
    assert data["fan_pct"] is None and data["gpu_util_pct"] == 77
    assert f"{d.fan_pct:>5}" == "  N/A"


def test_an_unsupported_field_is_not_asked_again_every_sample(host):
    fake = FakeNvml([FakeGpu(unsupported={"fan"})])
    with monitor_on(fake, host) as monitor:
        for _ in range(5):
            monitor.sample()
    assert fake.calls["nvmlDeviceGetFanSpeed"] == 1
    assert fake.calls["nvmlDeviceGetUtilizationRates"] == 5


def test_a_gpu_lost_mid_sample_is_reported_and_the_others_keep_going(host, caplog):
    fake = FakeNvml([FakeGpu(name="steady", gpu_util=40), FakeGpu(name="flaky", gpu_util=50)])
    monitor = monitor_on(fake, host)
    first = monitor.sample()
    assert [d.status for d in first.devices] == ["ok", "ok"]

    def xid_79(name, index):  # the GPU falls off the bus between two calls of one sample
        if index == 1 and name == "nvmlDeviceGetPowerUsage":
            fake.lose(1)

    fake.on_call = xid_79
    with caplog.at_level(logging.WARNING, logger="gpu"):
        for _ in range(3):
            snap = monitor.sample()
    steady, flaky = snap.devices
    assert steady.status == "ok" and steady.gpu_util_pct == 40
    assert flaky.status == "lost" and flaky.name == "flaky"
    assert "GPU 1 is lost" in flaky.problem and "Xid" in flaky.problem
    assert flaky.gpu_util_pct is NA
    assert [d.status for d in monitor.history(1)] == ["ok", "lost", "lost", "lost"]
    assert sum("is lost" in r.getMessage() for r in caplog.records) == 1  # said once, not every sample
    monitor.close()


def test_a_gpu_already_lost_at_start_is_reported_as_lost(host):
    fake = FakeNvml(2)
    fake.lose(0)
    with monitor_on(fake, host) as monitor:
        snap = monitor.sample()
    assert [d.status for d in snap.devices] == ["lost", "ok"]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (NVML_ERROR_LIBRARY_NOT_FOUND, "NVIDIA driver not found (NVML library missing)"),
        (NVML_ERROR_DRIVER_NOT_LOADED, "driver is installed but not loaded"),
        (999, "NVML failed to start"),
        (OSError("libnvidia-ml.so.1: cannot open shared object file"), "cannot open shared object"),
    ],
)
def test_nvml_failing_at_init_means_no_gpus_a_reason_and_host_figures(error, words, host):
    fake = FakeNvml(2, init_error=error)
    monitor = monitor_on(fake, host)
    snap = monitor.sample()
    assert snap.devices == ()
    assert words in snap.reason and "showing host figures" in snap.reason
    assert snap.host.memory_total_bytes > 0 and snap.host.cpu_count >= 1
    assert monitor.sample().reason == snap.reason
    assert fake.calls["nvmlInit"] == 1  # not retried every sample
    monitor.close()
    assert fake.calls["nvmlShutdown"] == 0  # nothing to shut down


def test_no_gpu_behind_a_working_driver(host):
    with monitor_on(FakeNvml(0), host) as monitor:
        snap = monitor.sample()
    assert snap.devices == () and "no NVIDIA GPU" in snap.reason


def test_older_drivers_and_bindings_fall_back_to_older_calls_once(host):
    fake = FakeNvml(
        [FakeGpu(throttle_mask=0x4 | 0x40, temperature=71, processes=[FakeProcess(5_000_010, "ffmpeg", used_memory=GIB)])],
        missing={
            "nvmlDeviceGetComputeRunningProcesses_v3",
            "nvmlDeviceGetComputeRunningProcesses_v2",
            "nvmlDeviceGetCurrentClocksEventReasons",
            "nvmlDeviceGetMemoryInfo_v2",
            "nvmlDeviceGetProcessesUtilizationInfo",
        },
        absent={"nvmlDeviceGetTemperatureV"},
    )
    with monitor_on(fake, host) as monitor:
        for _ in range(3):
            d = monitor.sample().devices[0]
    assert d.throttle_reasons == ("software power cap", "hardware thermal slowdown")
    assert d.temperature_c == 71
    assert d.memory_total_bytes == 16 * GIB
    assert [(p.pid, p.name, p.gpu_memory_bytes) for p in d.processes] == [(5_000_010, "ffmpeg", GIB)]
    for newer, older in [
        ("nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses"),
        ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"),
        ("nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetMemoryInfo"),
        ("nvmlDeviceGetProcessesUtilizationInfo", "nvmlDeviceGetProcessUtilization"),
    ]:
        assert fake.calls[newer] == 1, newer  # tried once, then the older call is remembered
        assert fake.calls[older] == 3, older
    assert fake.calls["nvmlDeviceGetTemperature"] == 3


def test_processes_of_this_node_are_marked(host):
    procs = [
        FakeProcess(5_000_001, "lpc", used_memory=2 * GIB, sm_util=30, encoder_util=60, decoder_util=20),
        FakeProcess(5_000_002, "python3", used_memory=GIB, sm_util=50),
        FakeProcess(5_000_003, "Xorg", kind="graphics", used_memory=None),
    ]
    with monitor_on(FakeNvml([FakeGpu(processes=procs)]), host, node_pids={5_000_001}) as monitor:
        d = monitor.sample().devices[0]
        rows = {p.pid: p for p in d.processes}
        assert rows[5_000_001].is_node and not rows[5_000_002].is_node
        assert (rows[5_000_001].gpu_memory_bytes, rows[5_000_001].encoder_util_pct) == (2 * GIB, 60)
        assert rows[5_000_003].kinds == ("graphics",) and rows[5_000_003].gpu_memory_bytes is NA
        assert [p.pid for p in d.node_processes] == [5_000_001]
        monitor.set_node_pids({5_000_002})
        d = monitor.sample().devices[0]
        assert [p.pid for p in d.node_processes] == [5_000_002]
        # with no newer utilisation sample from NVML, a process keeps its last known figures
        assert {p.pid: p.sm_util_pct for p in d.processes}[5_000_002] == 50


def test_values_over_time_show_up_in_history(clock, host):
    fake = FakeNvml([FakeGpu(temperature=lambda t: 40 + int(t))], clock=clock)
    with monitor_on(fake, host, clock=clock) as monitor:
        for _ in range(4):
            monitor.sample()
            clock.now += 10
    assert [d.temperature_c for d in monitor.history(0)] == [40, 50, 60, 70]


def test_history_is_a_bounded_ring_buffer(host):
    fake = FakeNvml(2)
    with monitor_on(fake, host, history_size=5) as monitor:
        for i in range(12):
            fake.gpus[0].gpu_util = i
            monitor.sample()
        assert [d.gpu_util_pct for d in monitor.history(0)] == [7, 8, 9, 10, 11]
        assert len(monitor.history(1)) == 5 and len(monitor.host_history()) == 5
        assert monitor.history(7) == ()


def test_slow_fields_are_cached_until_their_ttl(clock, host):
    fake = FakeNvml([FakeGpu(power_limit_mw=250_000)], clock=clock)
    with monitor_on(fake, host, slow_ttl=10, clock=clock) as monitor:
        monitor.sample()
        fake.gpus[0].power_limit_mw = 200_000  # the operator lowered the limit
        fake.gpus[0].gpu_util = 99
        clock.now = 5
        d = monitor.sample().devices[0]
        assert d.gpu_util_pct == 99 and d.power_limit_w == 250  # fast field now, slow one cached
        clock.now = 11
        assert monitor.sample().devices[0].power_limit_w == 200
    assert fake.calls["nvmlDeviceGetName"] == 1
    assert fake.calls["nvmlDeviceGetEnforcedPowerLimit"] == 2
    assert fake.calls["nvmlDeviceGetUtilizationRates"] == 3


def test_close_shuts_nvml_down(host):
    fake = FakeNvml(1)
    monitor = monitor_on(fake, host)
    monitor.sample()
    assert fake.initialised == 1
    monitor.close()
    assert fake.initialised == 0
