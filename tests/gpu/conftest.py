import pytest

from gpu.host import HostReader


class ManualClock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def host() -> HostReader:
    # No priming wait: CPU % of the first sample is since import, which is fine for these tests.
    return HostReader(prime_interval=0)
