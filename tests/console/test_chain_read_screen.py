"""The shared read loop of chain-backed screens: reads never overlap, and requests made during a read
collapse into one more read after it (so a burst of polls or sends costs two reads, not N)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from textual.message import Message

from console.app import LivepeerConsole
from console.screens.chain_view import ChainReadScreen, ReadFailed


@dataclass
class Counted(Message):
    n: int


class CountingScreen(ChainReadScreen):
    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self.shown: list = []
        self.lock = threading.Lock()

    def read(self, client, account):
        with self.lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.gate.wait(10)
        with self.lock:
            self.active -= 1
        return Counted(self.calls)

    def on_counted(self, message: Counted) -> None:
        self.shown.append(message.n)

    def on_read_failed(self, message: ReadFailed) -> None:
        self.shown.append(message.reason)


async def test_reads_never_overlap_and_a_burst_collapses_into_one_more_read(console_services):
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.workers.wait_for_complete()
        screen = CountingScreen()
        await app.push_screen(screen)
        screen.reload()
        for _ in range(5):
            screen.reload()  # during the first read: remembered, not started
        await pilot.pause()
        assert screen.calls == 1
        screen.gate.set()
        for _ in range(50):
            await pilot.pause(0.02)
            if len(screen.shown) >= 2 and not screen._reading:
                break
        assert screen.calls == 2 and screen.max_active == 1 and screen.shown == [1, 2]


async def test_no_account_is_a_read_failure_not_a_crash(console_services):
    console_services.account = None
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.workers.wait_for_complete()
        screen = CountingScreen()
        await app.push_screen(screen)
        screen.reload()
        for _ in range(50):
            await pilot.pause(0.02)
            if screen.shown:
                break
        assert screen.calls == 0 and "no account selected" in screen.shown[0]
