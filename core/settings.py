"""One typed settings model for an installation: defaults < settings.toml in the data dir < LPC_* env < flags.

The data dir holds all state of one installation (database, devnet state, logs, settings.toml).
Secrets never live here: private keys are only in the OS keyring.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from core.data_dir import data_dir_problem, default_data_dir, resolve_data_dir  # noqa: F401 - the rules live there
from core.media.profiles import MAX_LADDER_PIXELS

SETTINGS_FILE = "settings.toml"


class Network(str, Enum):
    DEVNET = "devnet"
    ARBITRUM_ONE = "arbitrum-one"


class DevnetSettings(BaseModel):
    port: int = Field(8545, ge=1, le=65535, description="anvil JSON-RPC port on 127.0.0.1")
    block_time: float = Field(10.0, ge=0, description="seconds between timer-mined blocks (0 = only on transactions)")
    anvil_path: str | None = Field(None, description="anvil binary; default: the one the set-up command installed")
    # at least 6: the seeded votes, poll and ticket payments are spread over six orchestrators
    orchestrators: int = Field(12, ge=6, le=2000, description="orchestrators in the seeded network (6 or more)")


class GpuSettings(BaseModel):
    interval: float = Field(1.0, gt=0, le=60, description="seconds between GPU samples")
    simulate: int | None = Field(
        None, ge=1, le=16, description="show N simulated GPUs from the NVML test double (clearly labelled)"
    )
    alert_temperature_c: int = Field(83, ge=30, le=120, description="alert when a GPU is at least this hot")
    alert_memory_pct: float = Field(95.0, gt=0, le=100, description="alert when GPU memory use reaches this")
    alert_throttling: bool = Field(True, description="alert when clocks are held back (thermal/power)")


class NodeSettings(BaseModel):
    """The orchestrator/transcoder node (flag names follow go-livepeer's)."""

    service_addr: str = Field("127.0.0.1:8935", description="HOST:PORT advertised to gateways (-serviceAddr)")
    http_addr: str | None = Field(None, description="HOST:PORT to bind the service port (-httpAddr)")
    cli_addr: str | None = Field("127.0.0.1:7935", description="management port with /metrics (-cliAddr); "
                                                               "'none' turns it off")
    max_sessions: int | str = Field(10, description="concurrent sessions, or 'auto' to measure at start-up")
    price_per_unit: int | str = Field(0, description="per pixels_per_unit pixels: wei (1200), or an amount in the "
                                                     "price feed's currency ('0.5USD') (-pricePerUnit)")
    pixels_per_unit: int = Field(1, ge=1, description="(-pixelsPerUnit)")
    price_feed: str | None = Field(None, description="ETH/<currency> Chainlink feed for currency prices "
                                                     "(-priceFeedAddr); default: the network's (ETH/USD)")
    price_feed_poll_s: float = Field(60.0, gt=0, description="seconds between price feed reads")
    offchain: bool = Field(True, description="run without the chain (no payments)")
    idle_timeout_s: float = Field(70.0, gt=0, le=3600,
                                  description="seconds a session lives after its last segment (go-livepeer: 70)")
    gateway_session_share: float = Field(
        0.5, gt=0, le=1, description="offchain: the share of max_sessions one gateway IP may hold (more is refused "
                                     "OrchestratorCapped, so one client cannot take every slot); 1 = no limit. "
                                     "On chain gateways pay per segment and are not limited (as go-livepeer)")
    max_renditions: int = Field(8, ge=1, le=32, description="renditions one segment may ask for (more: refused, 413)")
    max_ladder_pixels: int = Field(MAX_LADDER_PIXELS, ge=1, description="output pixels per frame a segment's renditions "
                                   "may add up to (default two 4096x2160 frames; more: refused, 413)")
    encoder_threads: int = Field(0, ge=0, le=256, description="threads encoding renditions, shared by every "
                                                              "session; 0 = one per CPU core")
    gateway_max_prices: dict[str, float] = Field(
        default_factory=dict, description="known gateways' max price, wei per pixel, by address (headroom on Pricing)")
    ai_worker: bool = Field(False, description="serve the AI pipelines with in-process models (-aiWorker)")
    ai_models: str | None = Field(None, description="aiModels.json path, or inline pipeline:model_id:warm[,...] "
                                                    "(-aiModels); default: every pipeline with a bundled model")
    ai_models_dir: Path | None = Field(None, description="user-supplied model weights (-aiModelsDir); "
                                                         "default: <data dir>/models, as go-livepeer")

    @field_validator("price_per_unit")
    @classmethod
    def _check_price(cls, v: int | str) -> int | str:
        from core.payments.pricing import PriceError, parse_price

        try:
            amount = parse_price(v)
        except PriceError as exc:
            raise ValueError(str(exc)) from None
        return int(amount.value) if amount.currency == "WEI" else str(amount)

    @field_validator("cli_addr")
    @classmethod
    def _check_cli_addr(cls, v: str | None) -> str | None:
        return None if v is None or v.strip().lower() in ("", "none") else v

    @field_validator("price_feed")
    @classmethod
    def _check_feed(cls, v: str | None) -> str | None:
        if v is not None and not (v.startswith("0x") and len(v) == 42 and all(c in "0123456789abcdefABCDEF" for c in v[2:])):
            raise ValueError(f"{v!r} is not a 0x address (40 hex digits)")
        return v

    @field_validator("gateway_max_prices")
    @classmethod
    def _check_caps(cls, v: dict[str, float]) -> dict[str, float]:
        for address, cap in v.items():
            if not (address.startswith("0x") and len(address) == 42
                    and all(c in "0123456789abcdefABCDEF" for c in address[2:])):
                raise ValueError(f"gateway_max_prices: {address!r} is not a gateway address (0x and 40 hex digits)")
            if not cap > 0:
                raise ValueError(f"gateway_max_prices: the max price of {address} must be above 0 wei per pixel")
        return v

    @field_validator("max_sessions")
    @classmethod
    def _check_sessions(cls, v: int | str) -> int | str:
        if isinstance(v, str) and v != "auto":
            if not v.isdigit():
                raise ValueError("max_sessions must be a number or 'auto'")
            v = int(v)
        if isinstance(v, int) and v < 1:
            raise ValueError("max_sessions must be at least 1")
        return v


def _addr_or_none(v: str | None) -> str | None:
    return None if v is None or v.strip().lower() in ("", "none") else v.strip()


def _comma_list(v: Any) -> Any:
    """'a,b' (go-livepeer's comma list, or one LPC_* variable, also as a JSON list) or a TOML list -> stripped
    entries, empties dropped."""
    if isinstance(v, str) and v.strip().startswith("["):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a JSON list; give a list or 'a,b'") from None
    if isinstance(v, str):
        v = v.split(",")
    if isinstance(v, (list, tuple)):
        return tuple(str(x).strip() for x in v if str(x).strip())
    return v


class GatewaySettings(BaseModel):
    """The gateway (`lpc node --gateway`, go-livepeer's -gateway). Field names are core.gateway.config's
    GatewayConfig fields; the defaults are go-livepeer's (gateway-wire.md §1)."""

    offchain: bool = Field(True, description="run without the chain: no tickets, latency-ordered selection "
                                             "(-network offchain)")
    rtmp_addr: str | None = Field("127.0.0.1:1935", description="RTMP ingest HOST:PORT (-rtmpAddr); ':P' is "
                                  "127.0.0.1:P, 'HOST' is HOST:1935; 'none' turns RTMP off")
    http_addr: str = Field("127.0.0.1:9935", description="plain HTTP HOST:PORT: HLS out, HTTP push, /healthz "
                                                         "(-httpAddr with -gateway)")
    cli_addr: str | None = Field("127.0.0.1:5935", description="management API HOST:PORT (-cliAddr with "
                                                               "-gateway); 'none' turns it off")
    http_ingest: bool | None = Field(None, description="HTTP push (-httpIngest); unset: on while http_addr is "
                                                       "loopback or an auth webhook is set")
    orch_addrs: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="orchestrators to use, a list or 'host:port,host:port' (-orchAddr)")
    orch_webhook_url: str | None = Field(None, description="discovery webhook, GET answering "
                                                           "[{\"address\": ...}] (-orchWebhookUrl)")
    orch_blocklist: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="orchestrator ETH addresses never used (-orchBlocklist); empty blocks nothing")
    transcoding_options: str = Field("P240p30fps16x9,P360p30fps16x9",
                                     description="the ladder: preset names, or a JSON file's path (-transcodingOptions)")
    max_sessions: int = Field(10, ge=1, description="concurrent streams (-maxSessions with -gateway)")
    max_attempts: int = Field(3, description="transcode attempts per segment; 0 or less never transcodes "
                                             "(-maxAttempts)")
    max_price_per_unit: int | str = Field(0, description="the most paid per pixels_per_unit pixels: wei, or "
                                                         "'0.5USD' with the price feed; 0 = any price (-maxPricePerUnit)")
    pixels_per_unit: int = Field(1, ge=1, description="(-pixelsPerUnit)")
    ignore_max_price_if_needed: bool = Field(False, description="use orchestrators over the max price when none "
                                                                "is under it (-ignoreMaxPriceIfNeeded)")
    max_ticket_ev: int = Field(3 * 10**12, ge=0, description="on chain: the most one ticket may be worth, wei "
                                                             "(-maxTicketEV)")
    max_total_ev: int = Field(2 * 10**13, ge=0, description="on chain: the most one segment's tickets may be worth, "
                                                            "wei (-maxTotalEV)")
    deposit_multiplier: int = Field(1, ge=1, description="on chain: a ticket's face value may be at most the "
                                                         "deposit / this (-depositMultiplier)")
    select_stake_weight: float = Field(0.7, ge=0, description="on chain selection: stake weight (-selectStakeWeight)")
    select_price_weight: float = Field(0.0, ge=0, description="on chain selection: price weight (-selectPriceWeight)")
    select_rand_freq: float = Field(0.3, ge=0, description="on chain selection: random weight (-selectRandFreq)")
    select_price_exp_factor: float = Field(100.0, gt=0, description="(-selectPriceExpFactor)")
    discovery_timeout_s: float = Field(0.5, gt=0, description="seconds to wait for GetOrchestrator answers; "
                                                                     "a Go duration ('500ms') is read too "
                                                                     "(-discoveryTimeout)")
    local_verify: bool | None = Field(None, description="check rendition pixels and signatures (-localVerify); "
                                                        "unset: on chain on, offchain off")
    auth_webhook_url: str | None = Field(None, description="POSTed each new stream's URL; non-200 refuses it "
                                                           "(-authWebhookUrl)")
    current_manifest: bool = Field(False, description="also serve the newest stream at /stream/current.m3u8 "
                                                      "(-currentManifest)")
    monitor: bool = Field(False, description="Prometheus /metrics on cli_addr (-monitor)")
    metrics_per_stream: bool = Field(False, description="a manifestID label on the metrics (-metricsPerStream)")
    ai_processing_retry_timeout_s: float = Field(2.0, gt=0, le=600, description="seconds an AI request may spend "
                                                 "looking for an orchestrator that takes it (-aiProcessingRetryTimeout)")
    max_price_per_capability: str | None = Field(None, description="the most paid per AI pipeline and model: JSON "
                                                 "text or a JSON file, as go-livepeer (-maxPricePerCapability)")
    ai_service_registry: bool = Field(False, description="on chain, find AI orchestrators at the URIs they set in "
                                      "the AI ServiceRegistry instead of the ServiceRegistry (-aiServiceRegistry)")

    @field_validator("rtmp_addr", "cli_addr")
    @classmethod
    def _check_optional_addr(cls, v: str | None) -> str | None:
        return _addr_or_none(v)

    @field_validator("orch_addrs", mode="before")
    @classmethod
    def _split_orchs(cls, v: Any) -> Any:
        return _comma_list(v)

    @field_validator("orch_blocklist", mode="before")
    @classmethod
    def _check_blocklist(cls, v: Any) -> Any:
        v = _comma_list(v)
        if isinstance(v, tuple):
            for a in v:
                if not (a.startswith(("0x", "0X")) and len(a) == 42 and all(c in "0123456789abcdefABCDEF" for c in a[2:])):
                    raise ValueError(f"{a!r} is not an orchestrator's ETH address (0x and 40 hex digits); "
                                     "the blocklist holds addresses, not URLs")
            v = tuple(dict.fromkeys("0x" + a[2:].lower() for a in v))
        return v

    @field_validator("orch_webhook_url", "auth_webhook_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r}: a webhook URL starts with http:// or https://")
        return v

    @field_validator("max_price_per_unit")
    @classmethod
    def _check_max_price(cls, v: int | str) -> int | str:
        from core.payments.pricing import PriceError, parse_price

        try:
            amount = parse_price(v)
        except PriceError as exc:
            raise ValueError(str(exc)) from None
        return int(amount.value) if amount.currency == "WEI" else str(amount)

    @field_validator("discovery_timeout_s", mode="before")
    @classmethod
    def _read_duration(cls, v: Any) -> Any:
        if isinstance(v, str):
            from core.gateway.flags import parse_go_duration

            try:
                return float(v)
            except ValueError:
                return parse_go_duration(v)
        return v


class ConsoleSettings(BaseModel):
    theme: str = "livepeer-dark"
    refresh_seconds: float = Field(5.0, gt=0)


class Settings(BaseSettings):
    """Everything configurable. Read with `load_settings`; never built at import time."""

    model_config = SettingsConfigDict(env_prefix="LPC_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    network: Network = Network.DEVNET
    rpc_url: str | None = Field(None, description="JSON-RPC endpoint; the devnet's own when unset on devnet")
    account: str | None = Field(None, description="default account address (its key is in the keyring)")
    devnet: DevnetSettings = Field(default_factory=DevnetSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    gpu: GpuSettings = Field(default_factory=GpuSettings)
    node: NodeSettings = Field(default_factory=NodeSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @field_validator("rpc_url")
    @classmethod
    def _check_rpc(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("rpc_url must start with http://, https://, ws:// or wss://")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: flags, then LPC_* variables, then settings.toml, then the defaults.
        return (init_settings, env_settings, _FileSource(settings_cls, _FILE_VALUES.get({})))


_FILE_VALUES: ContextVar[dict[str, Any]] = ContextVar("lpc_settings_file_values")


class _FileSource(PydanticBaseSettingsSource):
    """The values of settings.toml, read by load_settings for the chosen data dir."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]):
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ is used instead
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


class SettingsError(ValueError):
    """The settings file or a value is invalid; the message says where and how to fix it."""


def read_settings_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path} is not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}): save it "
                            "as UTF-8, or move it aside to start from the defaults") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}); fix or delete the file") from None


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(data_dir: str | os.PathLike | None = None, **flags: Any) -> Settings:
    """Build the settings for one run. `flags` are command-line values (None = not given); nested
    values use a double underscore, e.g. `devnet__port=8546`."""
    root = resolve_data_dir(data_dir)
    file_values = read_settings_file(root)
    file_values.pop("data_dir", None)
    given: dict[str, Any] = {}
    for key, value in flags.items():
        if value is None:
            continue
        parts = key.split("__")
        cursor = given
        for p in parts[:-1]:
            cursor = cursor.setdefault(p, {})
        cursor[parts[-1]] = value
    given["data_dir"] = root
    token = _FILE_VALUES.set(file_values)
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SettingsError(
            f"invalid settings ({problems}); check the flags, LPC_* variables and {root / SETTINGS_FILE}"
        ) from None
    finally:
        _FILE_VALUES.reset(token)


def write_setting(data_dir: Path, dotted_key: str, value: Any) -> None:
    """Persist one value into settings.toml (used by `lpc wallet use` and the Settings screen)."""
    values = read_settings_file(data_dir)
    cursor = values
    parts = dotted_key.split(".")
    for p in parts[:-1]:
        cursor = cursor.setdefault(p, {})
    cursor[parts[-1]] = value
    Settings.model_validate({**values, "data_dir": data_dir})  # refuse to write an invalid file
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (SETTINGS_FILE + ".tmp")
    tmp.write_text(_to_toml(values))
    tmp.replace(data_dir / SETTINGS_FILE)


def _to_toml(values: dict[str, Any], prefix: str = "") -> str:
    simple = {k: v for k, v in values.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in values.items() if isinstance(v, dict)}
    lines = [f"{k} = {_toml_value(v)}" for k, v in simple.items()]
    for name, table in tables.items():
        full = f"{prefix}{name}"
        lines.append(f"\n[{full}]")
        lines.append(_to_toml(table, prefix=full + ".").strip())
    return "\n".join(lines).strip() + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):  # [gateway] orch_addrs, orch_blocklist
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Enum):
        v = v.value
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'
