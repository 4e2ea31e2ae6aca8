"""What a gateway is started with (`lpc node --gateway …`, go-livepeer's `-gateway`). Defaults are
go-livepeer's (gateway-wire.md §1); the go-livepeer flag each field answers to is in its comment."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

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
