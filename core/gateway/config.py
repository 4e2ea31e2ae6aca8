"""What a gateway is started with (`lpc node --gateway …`, go-livepeer's `-gateway`). Defaults are
go-livepeer's (gateway-wire.md §1); the go-livepeer flag each field answers to is in its comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings

DEFAULT_RTMP_ADDR = "127.0.0.1:1935"
DEFAULT_GATEWAY_HTTP_ADDR = "127.0.0.1:9935"
DEFAULT_GATEWAY_CLI_ADDR = "127.0.0.1:5935"  # 7935 is the orchestrator's
DEFAULT_TRANSCODING_OPTIONS = "P240p30fps16x9,P360p30fps16x9"
SEGMENT_SECONDS = 2.0  # lpms SegLen
MAX_SEGMENT_BYTES = 300 * 1024 * 1024  # common.MaxSegSize: 5 min × 8 Mb/s


@dataclass(frozen=True)
class GatewayConfig:
    data_dir: Path
    offchain: bool = True  # -network offchain
    rtmp_addr: str | None = DEFAULT_RTMP_ADDR  # -rtmpAddr; None = no RTMP ingest
    http_addr: str = DEFAULT_GATEWAY_HTTP_ADDR  # -httpAddr: HLS out, HTTP push, /healthz (plain HTTP)
    cli_addr: str | None = DEFAULT_GATEWAY_CLI_ADDR  # -cliAddr: management API; None = off
    http_ingest: bool | None = None  # -httpIngest; None = on while http_addr is loopback (or an auth webhook is set)
    orch_addrs: tuple[str, ...] = ()  # -orchAddr, already split at commas
    orch_webhook_url: str | None = None  # -orchWebhookUrl
    orch_blocklist: tuple[str, ...] = ()  # -orchBlocklist: 0x… addresses, lower case; empty blocks nothing
    transcoding_options: str = DEFAULT_TRANSCODING_OPTIONS  # -transcodingOptions: preset names or a JSON file
    max_sessions: int = 10  # -maxSessions: concurrent streams
    max_attempts: int = 3  # -maxAttempts: per segment; <= 0 never transcodes
    max_price_per_unit: int | str = 0  # -maxPricePerUnit: wei, or "0.5USD"; 0 = any price
    pixels_per_unit: int = 1  # -pixelsPerUnit
    ignore_max_price_if_needed: bool = False  # -ignoreMaxPriceIfNeeded
    max_ticket_ev: int = 3 * 10**12  # -maxTicketEV (wei): the most one ticket may be worth
    max_total_ev: int = 2 * 10**13  # -maxTotalEV (wei): the most one segment's tickets may be worth
    deposit_multiplier: int = 1  # -depositMultiplier: face value <= deposit / this
    select_stake_weight: float = 0.7  # -selectStakeWeight
    select_price_weight: float = 0.0  # -selectPriceWeight
    select_rand_freq: float = 0.3  # -selectRandFreq
    select_price_exp_factor: float = 100.0  # -selectPriceExpFactor
    discovery_timeout_s: float = 0.5  # -discoveryTimeout
    local_verify: bool | None = None  # -localVerify; None = on when on chain, off offchain
    auth_webhook_url: str | None = None  # -authWebhookUrl
    current_manifest: bool = False  # -currentManifest
    monitor: bool = False  # -monitor: /metrics on cli_addr
    metrics_per_stream: bool = False  # -metricsPerStream
    segment_s: float = SEGMENT_SECONDS
    max_segment_bytes: int = MAX_SEGMENT_BYTES
    live_window: int = 6  # segments in a media playlist (LIVE_LIST_LENGTH)
    push_idle_s: float = 60.0  # a pushed stream with no push for this long ends
    ai_processing_retry_timeout_s: float = 2.0  # -aiProcessingRetryTimeout: how long an AI request looks for an O
    max_price_per_capability: str | None = None  # -maxPricePerCapability: JSON text or a JSON file (ai_pool.py)
    ai_service_registry: bool = False  # -aiServiceRegistry: on chain, AI orchestrators' URIs from the AI registry
    extra: dict[str, str] = field(default_factory=dict)  # accepted go-livepeer flags with no effect yet

    @property
    def verify(self) -> bool:
        return (not self.offchain) if self.local_verify is None else self.local_verify

    def max_price(self) -> Fraction | None:
        """Wei per pixel, None for "any price". A USD price needs the feed (the broadcaster converts)."""
        if isinstance(self.max_price_per_unit, str):
            return None
        if self.max_price_per_unit <= 0:
            return None
        return Fraction(self.max_price_per_unit, self.pixels_per_unit or 1)


def gateway_config(settings: Settings, overrides: Mapping[str, Any] | None = None) -> GatewayConfig:
    """The GatewayConfig of this installation, the way core.node.config.node_config builds a NodeConfig:
    every `[gateway]` setting (defaults < settings.toml < LPC_GATEWAY__*) lands on the field of the same
    name, the data dir is the installation's, then `overrides` win: explicit flags only, a None is a flag
    that was not given. Overrides of `[gateway]` settings are checked by the settings model (ValueError
    saying what is wrong: an address that is not one, a webhook that is not a URL); `extra` (accepted
    go-livepeer flags with no effect yet) is taken as given; any other unknown name is a TypeError."""
    from pydantic import ValidationError

    from core.settings import GatewaySettings

    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    names = {f.name for f in fields(GatewayConfig)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise TypeError(f"not GatewayConfig fields: {', '.join(unknown)}")
    known = GatewaySettings.model_fields
    setting_given = {k: v for k, v in given.items() if k in known}
    try:
        gateway = (GatewaySettings.model_validate({**settings.gateway.model_dump(), **setting_given})
                   if setting_given else settings.gateway)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())) from None
    values: dict[str, Any] = {name: getattr(gateway, name) for name in names if name in known}
    values["data_dir"] = settings.data_dir
    values.update({k: v for k, v in given.items() if k not in known})
    for name, port in (("rtmp_addr", 1935), ("http_addr", 9935), ("cli_addr", 5935)):
        if values.get(name) is not None:
            try:
                values[name] = default_addr(values[name], "127.0.0.1", port)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    if "extra" in values:
        values["extra"] = dict(values["extra"])
    return GatewayConfig(**values)


def default_addr(addr: str, host: str, port: int) -> str:
    """go-livepeer's defaultAddr, IPv6-safe: '' -> host:port, ':P' -> host:P, 'H' (or '[v6]') -> H:port, a
    full 'H:P' as given. ValueError when the port is not a number from 0 to 65535."""
    addr = addr.strip()
    if not addr:
        return f"{host}:{port}"
    if addr.count(":") >= 2 and not addr.startswith("["):  # a bare IPv6 address
        return f"[{addr}]:{port}"
    if addr.startswith(":"):
        addr = host + addr
    if addr.startswith("["):
        head, _, rest = addr.partition("]")
        if not rest:
            return f"{addr}:{port}" if head else addr
        given = rest[1:] if rest.startswith(":") else None
    elif addr.count(":") == 1:
        given = addr.split(":")[1]
    else:
        return f"{addr}:{port}"
    if given is None or not given.isdigit() or not 0 <= int(given) <= 65535:
        raise ValueError(f"{addr!r}: the port must be a number from 0 to 65535")
    return addr
