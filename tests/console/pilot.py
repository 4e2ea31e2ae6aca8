"""Helpers every console pilot test uses: the fixed terminal size, waiting until the UI is settled or a
condition holds, and reading what a widget shows as plain text."""

from __future__ import annotations

import time

from textual.widgets import Static
from textual.worker import WorkerCancelled

SIZE = (150, 40)


async def settle(pilot) -> None:
    """Wait until no worker runs and the messages they posted are handled and laid out. A worker of a
    screen we left may have been cancelled: that is fine."""
    for _ in range(6):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def wait_until(pilot, cond, what: str, timeout: float = 20.0):
    """`cond()`'s first true value, letting the app run between tries; AssertionError naming `what` after
    `timeout` seconds (for state that arrives from outside the app: a node, a chain poll)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def plain_text(static: Static, width: int = 120) -> str:
    """What a Static shows, as plain text wrapped at `width` (its content may be a Rich renderable)."""
    from rich.console import Console

    console = Console(width=width, record=True, color_system=None)
    console.print(static.content)
    return console.export_text()
