"""Prometheus exposition and the N/A value."""

import copy
import json
import pickle

from gpu import NA, GpuMonitor, is_na, or_none, prometheus_text
from gpu.device_reader import decode_throttle_reasons
from gpu.fake_nvml import FakeGpu, FakeNvml


def test_prometheus_text_has_each_gpu_labelled_and_leaves_out_na(host):
    fake = FakeNvml([FakeGpu(name='Odd "name"', gpu_util=50, temperature=70, power_mw=123_400),
                     FakeGpu(gpu_util=10, unsupported={"temperature"})])
    with GpuMonitor(fake, host_reader=host) as monitor:
        text = prometheus_text(monitor.sample())
    lines = text.splitlines()
    assert "livepeer_gpu_devices 2" in lines
    assert 'livepeer_gpu_monitor_info{source="simulated"} 1' in lines
    labels0 = '{gpu="0",uuid="GPU-00000000-0000-4000-8000-000000000000",name="Odd \\"name\\""}'
    assert f"livepeer_gpu_utilization_ratio{labels0} 0.5" in lines
    assert f"livepeer_gpu_temperature_celsius{labels0} 70" in lines
    assert f"livepeer_gpu_power_watts{labels0} 123.4" in lines
    assert [l for l in lines if l.startswith("livepeer_gpu_temperature_celsius")] == [
        f"livepeer_gpu_temperature_celsius{labels0} 70"
    ]  # GPU 1's N/A temperature is left out, not exported as 0
    for family in ("memory_used_bytes", "memory_total_bytes", "encoder_utilization_ratio", "decoder_utilization_ratio"):
        assert f"# TYPE livepeer_gpu_{family} gauge" in lines
        assert sum(l.startswith(f"livepeer_gpu_{family}{{") for l in lines) == 2
    assert text.endswith("\n")


def test_na_reads_as_na_everywhere():
    assert str(NA) == "N/A" and f"{NA:>6}" == "   N/A" and f"{NA:.1f}" == "N/A"
    assert not NA and is_na(NA) and or_none(NA) is None and or_none(3) == 3
    assert copy.deepcopy(NA) is NA and pickle.loads(pickle.dumps(NA)) is NA


def test_snapshot_json_turns_na_into_null(host):
    with GpuMonitor(FakeNvml([FakeGpu(unsupported={"fan"})]), host_reader=host) as monitor:
        data = json.loads(monitor.sample().to_json())
    assert data["devices"][0]["fan_pct"] is None
    assert data["devices"][0]["throttle_reasons"] == ["idle"]
    assert set(data) >= {"devices", "host", "reason"}


def test_throttle_reasons_in_words():
    assert decode_throttle_reasons(0) == ()
    assert decode_throttle_reasons(0x20 | 0x80) == ("software thermal slowdown", "hardware power brake")
    assert decode_throttle_reasons(0x1000) == ("other (0x1000)",)
