"""The sampler thread: one sample at a time, clean stop, subscribers told of every sample."""

import threading

from gpu import GpuMonitor
from gpu.fake_nvml import FakeNvml


def test_samples_never_overlap(host):
    fake = FakeNvml(1)
    monitor = GpuMonitor(fake, host_reader=host, interval=0)
    lock = threading.Lock()
    active = 0
    max_active = 0
    thread_inside = threading.Event()
    release = threading.Event()

    def sample_starts(name, index):
        nonlocal active, max_active
        if name == "nvmlDeviceGetUtilizationRates":
            with lock:
                active += 1
                max_active = max(max_active, active)
            thread_inside.set()
            release.wait(10)  # hold the first sample open while others ask for one

    def sample_ends(snapshot):
        nonlocal active
        with lock:
            active -= 1

    fake.on_call = sample_starts
    monitor.subscribe(sample_ends)
    monitor.start()
    assert thread_inside.wait(10)
    results = []
    callers = [threading.Thread(target=lambda: results.append(monitor.sample())) for _ in range(3)]
    for c in callers:
        c.start()
    release.set()
    for c in callers:
        c.join(10)
    monitor.close()
    assert len(results) == 3
    assert max_active == 1
    stamps = [d.timestamp for d in monitor.history(0)]
    assert stamps == sorted(stamps) and len(stamps) >= 4


def test_start_and_stop_cleanly_and_restart(host):
    fake = FakeNvml(2)
    monitor = GpuMonitor(fake, host_reader=host, interval=3600)  # only the first sample comes by itself
    got = []
    arrived = threading.Event()

    def on_snapshot(snapshot):
        got.append(snapshot)
        arrived.set()

    monitor.subscribe(on_snapshot)
    monitor.start()
    monitor.start()  # a second start is a no-op, not a second thread
    assert arrived.wait(10)
    monitor.stop()  # interrupts the hour-long wait at once
    assert not monitor.running
    assert [t.name for t in threading.enumerate()].count("gpu-sampler") == 0
    assert len(got) == 1 and monitor.latest() is got[0] and len(got[0].devices) == 2

    arrived.clear()
    monitor.start()
    assert arrived.wait(10)
    monitor.close()
    assert len(got) == 2 and not monitor.running
    assert fake.initialised == 0


def test_a_failing_subscriber_does_not_stop_sampling(host):
    monitor = GpuMonitor(FakeNvml(1), host_reader=host)
    seen = []

    def broken(snapshot):
        raise RuntimeError("widget went away")

    monitor.subscribe(broken)
    unsubscribe = monitor.subscribe(seen.append)
    monitor.sample()
    monitor.sample()
    unsubscribe()
    monitor.sample()
    assert len(seen) == 2
    monitor.close()
