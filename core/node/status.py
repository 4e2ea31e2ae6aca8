"""Immutable snapshots of a running node, for the console and `/status`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SessionStatus:
    session_id: str
    gateway: str  # the gateway's address (hex) when it sent one, else its IP
    manifest_id: str
    profiles: tuple[str, ...]  # e.g. "240p0 426x240"
    segments_done: int
    segments_failed: int
    pixels: int  # output pixels produced in this session
    realtime_ratio: float | None  # last segment: transcode seconds / source seconds (< 1 = faster)
    last_error: str | None
    queued: int
    idle_s: float
    preview: np.ndarray | None = field(default=None, repr=False, compare=False)  # latest source frame, RGB


@dataclass(frozen=True)
class GatewayShare:
    """One gateway's hold on this node's session slots, and whether new sessions of it were refused."""

    gateway: str  # as in SessionStatus.gateway
    sessions: int  # live sessions it holds now
    refused: int  # new sessions refused to it (since the node started; a bounded table)
    refused_ago_s: float | None  # seconds since the latest refusal, None if never refused
    refused_because: str | None  # "share": it held its share (node.gateway_session_share); "full": no slot free


@dataclass(frozen=True)
class NodeStatus:
    running: bool
    offchain: bool
    service_uri: str  # what gateways are told: https://service-addr
    listening: str  # host:port actually bound
    management: str | None  # host:port of /metrics, None when off
    encoder: str  # e.g. "libx264 (CPU decode)"
    encoder_reason: str
    max_sessions: int
    sessions_used: int
    segments_done: int
    segments_failed: int
    pixels: int
    sessions: tuple[SessionStatus, ...]
    error: str | None = None  # why the node stopped or failed to start
    max_sessions_per_gateway: int = 0  # the most one gateway may hold (0: the node is not serving)
    gateways: tuple[GatewayShare, ...] = ()  # who holds slots and who was refused one
    ai_models: tuple = ()  # core.ai.ports.ModelView per AI model (empty without -aiWorker)
    # per node extension (core/node/extensions.py) its JSON-able status: live sessions, BYOC workers, fleet
    extensions: dict = field(default_factory=dict)
