"""The contract between the remote-worker parts (issue #14), orchestrator side and worker side.

    worker: lpc node --transcoder -orchAddr O -orchSecret S [--aiWorker]
        │ gRPC net.Transcoder/RegisterTranscoder (server stream of NotifySegment), and for AI workers
        │ net.AIWorker/RegisterAIWorker (stream of NotifyAIJob); results POSTed back over HTTPS
        ▼
    orchestrator: lpc node --orchestrator -orchSecret S
        RemoteTranscoders (core/fleet/transcoders.py)  — dispatch segments by capacity, redo on a dead worker
        RemoteAIWorkers   (core/fleet/ai_workers.py)   — dispatch AI jobs by capability/model/capacity
        both report WorkerView for /status, metrics and the console's Fleet screen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerView:
    """One connected (or recently gone) remote worker, as the Fleet screen shows it."""

    kind: str  # "transcoder" | "ai-worker"
    address: str  # host:port the worker connected from
    capacity: int  # max sessions (transcoder) or total slots (AI worker)
    in_use: int
    capabilities: tuple[str, ...]  # "transcoding" or "audio-to-text:openai/whisper-tiny.en" …
    encoder: str  # "libx264", "nvenc (GPU 0)" …, or the AI device
    connected_at: float  # unix time
    last_seen: float  # unix time of the last message or result
    segments_done: int = 0  # transcoder: segments (or AI jobs) finished
    jobs_done: int = 0
    errors: int = 0
    per_minute: float = 0.0  # segments or jobs finished in the last minute
    state: str = "connected"  # "connected" | "gone"
    gpu: tuple = ()  # the worker's own GPU figures when it exports them (gpu monitor snapshot rows)
