"""What a node is started with. Flag names of `lpc node` map one to one onto these fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings

from core.media.profiles import MAX_LADDER_PIXELS

DEFAULT_SERVICE_PORT = 8935
DEFAULT_CLI_ADDR = "127.0.0.1:7935"


def split_host_port(addr: str, default_port: int) -> tuple[str, int]:
    """'host:port', '[v6]:port', 'host' or ':port' -> (host, port)."""
    addr = addr.strip()
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        port = rest.lstrip(":")
    elif addr.count(":") == 1:
        host, port = addr.split(":")
    else:
        host, port = addr, ""
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ValueError(f"{addr!r}: the port must be a number") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"{addr!r}: port out of range")
    return host, number


@dataclass(frozen=True)
class NodeConfig:
    data_dir: Path
    service_addr: str = f"127.0.0.1:{DEFAULT_SERVICE_PORT}"  # advertised to gateways (-serviceAddr)
    http_addr: str | None = None  # bind for the service port (-httpAddr); default: all interfaces, service port
    cli_addr: str | None = DEFAULT_CLI_ADDR  # management port with /metrics (-cliAddr); None = off
    max_sessions: int | str = 10  # an int, or "auto" to measure this machine at start-up
    price_per_unit: int | str = 0  # wei, or '0.5USD' on chain (-pricePerUnit)
    pixels_per_unit: int = 1  # (-pixelsPerUnit)
    offchain: bool = True
    encoder: str = "auto"  # auto | nvenc | x264
    x264_preset: str = "veryfast"
    encoder_threads: int = 0  # threads encoding renditions, shared by all sessions; 0 = one per core
    idle_timeout_s: float = 70.0  # a session with no segment for this long ends
    gateway_session_share: float = 0.5  # offchain: share of max_sessions one gateway IP may hold (1 = no limit)
    session_queue: int = 4  # segments waiting per session before OrchestratorBusy
    max_segment_bytes: int = 300 * 1024 * 1024  # 5 min x 8 Mbps, as go-livepeer
    max_segment_seconds: float = 300.0
    max_renditions: int = 8  # renditions one segment may ask for; more is refused before the body is read
    max_ladder_pixels: int = MAX_LADDER_PIXELS  # output pixels per frame over a segment's renditions (2 x 4K)
    upload_timeout_min_s: float = 10.0  # a segment body must arrive within max(this, factor x duration)
    upload_timeout_factor: float = 2.0  # (go-livepeer's gateway itself gives up at max(2 s, duration / 2))
    token_ttl_s: int = 30 * 60
    rendition_ttl_s: float = 120.0  # how long finished renditions stay downloadable
    keep_alive_s: float = 20.0  # an idle gateway connection is closed after this (gateways reuse them)
    tls_shutdown_timeout_s: float = 5.0  # how long a closing TLS connection waits for the peer's close_notify
    transcoding: bool = True  # -transcoder: transcode segments; False on an AI-only node (-aiWorker alone)
    ai_worker: bool = False  # -aiWorker: serve the AI routes with in-process models
    ai_models: str | None = None  # -aiModels: aiModels.json path or inline form; None = the bundled defaults
    ai_models_dir: Path | None = None  # -aiModelsDir; node_config fills in <data dir>/models

    def models_dir(self) -> Path:
        """Where user-supplied weights live: -aiModelsDir, else <data dir>/models (go-livepeer's default)."""
        return self.ai_models_dir if self.ai_models_dir is not None else self.data_dir / "models"

    def bind(self) -> tuple[str, int]:
        _, service_port = split_host_port(self.service_addr, DEFAULT_SERVICE_PORT)
        if self.http_addr:
            return split_host_port(self.http_addr, service_port)
        return "0.0.0.0", service_port


def node_config(settings: Settings, overrides: Mapping[str, Any] | None = None) -> NodeConfig:
    """The NodeConfig of this installation: every `[node]` setting (defaults < settings.toml < LPC_NODE__*)
    lands on the NodeConfig field of the same name, the data dir is the installation's (so the console's
    node and `lpc node` share one TLS certificate), then `overrides` win: explicit flags only, a None is a
    flag that was not given. A field added to both NodeSettings and NodeConfig under one name flows
    through without touching this function. Overrides of `[node]` settings are checked by the settings
    model (ValueError saying what is wrong); an unknown name is a TypeError."""
    from pydantic import ValidationError

    from core.settings import NodeSettings

    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    names = {f.name for f in fields(NodeConfig)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise TypeError(f"not NodeConfig fields: {', '.join(unknown)}")
    node_given = {k: v for k, v in given.items() if k in NodeSettings.model_fields}
    try:
        node = NodeSettings.model_validate({**settings.node.model_dump(), **node_given}) if node_given else settings.node
    except ValidationError as exc:
        raise ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from None
    values: dict[str, Any] = {name: getattr(node, name) for name in names if name in NodeSettings.model_fields}
    values["data_dir"] = settings.data_dir
    if values.get("ai_models_dir") is None:
        values["ai_models_dir"] = settings.data_dir / "models"  # go-livepeer's <datadir>/models
    values.update({k: v for k, v in given.items() if k not in NodeSettings.model_fields})
    return NodeConfig(**values)
