"""Helpers every console pilot test uses: the fixed terminal size, waiting until the UI is settled, and
reading what a Static shows."""

from __future__ import annotations

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


def text(static: Static) -> str:
    """What a Static shows, as plain text (its content may be a Rich renderable)."""
    from rich.console import Console

    console = Console(width=120, record=True, color_system=None)
    console.print(static.content)
    return console.export_text()
