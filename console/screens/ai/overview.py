"""What the AI screen reads in one poll, and the words it says before a worker is started. No Textual.

    overview = services.ai_overview()     # AIOverview: whose worker, its models (ModelView rows), the device
    start_note(views)                      # "M starts … about 690 MB of memory once loaded …"
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ai.ports import ModelView

SOURCES = {
    "node": "the AI worker of this console's node",
    "console": "an AI worker started in this console (M stops it and frees its models)",
}


@dataclass(frozen=True)
class AIOverview:
    """One read of the worker the screen shows: `source` "node" (the in-process node's -aiWorker),
    "console" (started from the screen) or "" (none: `models` is empty)."""

    source: str
    models: tuple[ModelView, ...] = ()
    device: str = ""  # "cpu" | "cuda:0": where the models run
    device_reason: str = ""  # why that device, in words (core.ai.device.probe_device)

    @property
    def servable(self) -> tuple[ModelView, ...]:
        """The models a request can go to (warm, cold or loading): what the try-it panel offers."""
        return tuple(m for m in self.models if m.state != "unavailable")

    @property
    def memory_bytes(self) -> int:
        """The resident weights of the loaded models, as far as they are known."""
        return sum(m.memory_bytes or 0 for m in self.models if m.state == "warm")


def mebibytes(n: int | None) -> str:
    if n is None:
        return "—"
    if n >= 10 * 2**30:
        return f"{n / 2**30:.0f} GiB"
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    return f"{n / 2**20:.0f} MiB"


def start_note(views: tuple[ModelView, ...]) -> str:
    """What starting a worker would load and the memory it takes, from the rows of a worker built and not
    started (their memory is the weights' size: file sizes before a load)."""
    serving = [v for v in views if v.state != "unavailable"]
    if not serving:
        return "no pipeline has a model with weights here: starting a worker would serve nothing"
    known = [v.memory_bytes for v in serving if v.memory_bytes]
    names = ", ".join(f"{v.pipeline} ({v.model_id})" for v in serving)
    memory = (f"about {mebibytes(sum(known))} of memory once loaded" if len(known) == len(serving)
              else f"at least {mebibytes(sum(known))} of memory once loaded" if known
              else "memory unknown until loaded")
    return f"{len(serving)} model{'s' if len(serving) != 1 else ''}: {names}; {memory}"
