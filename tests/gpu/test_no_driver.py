"""This machine has no NVIDIA driver: the real pynvml path, not mocked."""

import ctypes.util
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpu import GpuMonitor, prometheus_text

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    ctypes.util.find_library("nvidia-ml") is not None, reason="an NVIDIA driver is installed here"
)


def test_real_nvml_without_a_driver_gives_zero_gpus_a_reason_and_host_figures(host, caplog):
    monitor = GpuMonitor(host_reader=host)  # the real pynvml
    with caplog.at_level(logging.DEBUG, logger="gpu"):
        snaps = [monitor.sample() for _ in range(5)]
    monitor.close()
    snap = snaps[-1]
    assert snap.devices == ()
    assert snap.reason == "NVIDIA driver not found (NVML library missing): no GPU monitoring; showing host figures"
    assert snap.source == "none" and snap.label is None
    assert snap.host.cpu_count >= 1 and len(snap.host.per_cpu_pct) == snap.host.cpu_count
    assert snap.host.memory_total_bytes > 0 and len(snap.host.load_average) == 3
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.INFO  # once, not per sample
    assert "livepeer_gpu_devices 0" in prometheus_text(snap)


def run_lpc(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "gpu", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LPC_GPU_SIMULATE": "", **(env or {})},
    )


def test_lpc_gpu_json_on_this_machine():
    out = run_lpc("--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["devices"] == []
    assert "NVIDIA driver not found" in data["reason"]
    assert data["source"] == "none"
    assert data["host"]["cpu_count"] >= 1 and data["host"]["memory_total_bytes"] > 0
    assert 0 <= data["host"]["cpu_pct"] <= 100
    assert out.stderr == ""  # no log noise


def test_lpc_gpu_table_on_this_machine_says_why_and_shows_the_host():
    out = run_lpc()
    assert out.returncode == 0, out.stderr
    assert "NVIDIA driver not found" in out.stdout and "Load (1/5/15 min)" in out.stdout


def test_lpc_gpu_simulate_is_labelled_simulated():
    out = run_lpc("--simulate", "2", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["source"] == "simulated" and "SIMULATED" in data["label"]
    assert len(data["devices"]) == 2 and all("(simulated)" in d["name"] for d in data["devices"])
    assert any(p["is_node"] for p in data["devices"][0]["processes"])

    table = run_lpc(env={"LPC_GPU_SIMULATE": "8"})
    assert table.returncode == 0, table.stderr
    assert "SIMULATED: 8 fake GPUs" in table.stdout and "★" in table.stdout
