"""The few settings `lpc` needs before the console's first frame, without the settings model.

Importing the settings model (core/settings.py: pydantic and pydantic-settings) costs about as much as
importing Textual, and the first frame needs only a handful of values: the network, whether an RPC URL
is set, the account, how to find or start the devnet, the theme. The full model is loaded right after
the first frame (console/app.py), and every screen reads that.

Rule: these values are taken without the model only when the model already accepted exactly these
inputs: the same settings.toml bytes, the same LPC_* variables and flags, the same settings code. The
model's verdict for them - a digest of the inputs and the early values it produced - is kept in the data
dir (CHECKED_FILE). Every other start (the first, one after an edit of settings.toml or a variable, an
upgrade) validates in full before anything starts, as before: a bad value is refused in one line before
the devnet or the screen, and nothing is written. The values come from the model, never from a second
reading of the TOML here, so defaults and coercions cannot drift from core/settings.py.

The RPC URL is the one value not kept in CHECKED_FILE (an endpoint URL may carry an API key, and one
given in LPC_RPC_URL or --rpc-url should not land on disk): it is read again from the same sources.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.data_dir import data_dir_problem, resolve_data_dir

if TYPE_CHECKING:
    from console.context import CliContext
    from core.settings import Settings

SETTINGS_FILE = "settings.toml"  # core.settings.SETTINGS_FILE
CHECKED_FILE = "settings-checked.json"
ENV_PREFIX = "LPC_"
# The modules whose code decides what the model accepts: a change to one is a new verdict.
_MODEL_CODE = ("core/settings.py", "core/media/profiles.py", "core/payments/pricing.py")
_REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class EarlySettings:
    """What the console needs before its first frame, as the settings model decided it."""

    data_dir: Path
    network: str  # core.settings.Network's value: "devnet" or "arbitrum-one"
    rpc_url: str | None
    account: str | None
    devnet_port: int | None  # the port the user set; None: the data dir's remembered one (or a new one)
    devnet_block_time: float
    devnet_anvil_path: str | None
    devnet_orchestrators: int
    theme: str
    digest: str  # of the inputs the model accepted
    checked_before: bool  # True: taken from CHECKED_FILE; the model itself is loaded after the first frame

    @classmethod
    def of(cls, settings: Settings, digest: str) -> EarlySettings:
        return cls(data_dir=settings.data_dir, network=settings.network.value, rpc_url=settings.rpc_url,
                   account=settings.account,
                   devnet_port=settings.devnet.port if "port" in settings.devnet.model_fields_set else None,
                   devnet_block_time=settings.devnet.block_time, devnet_anvil_path=settings.devnet.anvil_path,
                   devnet_orchestrators=settings.devnet.orchestrators, theme=settings.console.theme,
                   digest=digest, checked_before=False)

    @property
    def is_devnet(self) -> bool:
        return self.network == "devnet"


def early_settings(ctx: CliContext) -> EarlySettings:
    """The console's early settings for this start: from CHECKED_FILE when the model accepted exactly
    these inputs before, else from the model now (`ctx.settings`: a bad value is a ClickException here,
    before anything started)."""
    import click

    root = resolve_data_dir(ctx.data_dir)
    problem = data_dir_problem(root)
    if problem:
        raise click.ClickException(problem)
    raw = _settings_bytes(root)
    digest = inputs_digest(root, raw, network=ctx.network, rpc_url=ctx.rpc_url)
    if ctx.loaded_settings is None and raw is not None:
        known = _checked(root, digest)
        if known is not None:
            rpc_url = _rpc_url(ctx.rpc_url, raw)
            if rpc_url is not _UNSURE:
                return EarlySettings(data_dir=root, rpc_url=rpc_url, digest=digest, checked_before=True, **known)
    return EarlySettings.of(ctx.settings, digest)


def remember(early: EarlySettings) -> None:
    """Keep the model's verdict for these inputs in the data dir (after the model accepted them and the
    data dir is in use); a data dir that cannot take it only means the next start validates again."""
    if early.checked_before:
        return
    values = {k: v for k, v in asdict(early).items()
              if k not in ("data_dir", "rpc_url", "digest", "checked_before")}
    path = early.data_dir / CHECKED_FILE
    tmp = path.with_name(f".{CHECKED_FILE}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps({"digest": early.digest, "early": values}))
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def inputs_digest(root: Path, raw: bytes | None, *, network: str | None, rpc_url: str | None) -> str:
    """A digest of everything the settings model reads for this start, and of its code."""
    h = hashlib.sha256()
    h.update(repr((str(root), network, rpc_url)).encode())
    h.update(b"\0" + (raw if raw is not None else b"<no settings file>"))
    for key in sorted(k for k in os.environ if k.upper().startswith(ENV_PREFIX)):
        h.update(f"\0{key}={os.environ[key]}".encode())
    for name in _MODEL_CODE:
        try:
            st = (_REPO / name).stat()
            h.update(f"\0{name}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            h.update(f"\0{name}:missing".encode())
    return h.hexdigest()


def _settings_bytes(root: Path) -> bytes | None:
    """settings.toml's bytes; b"" when there is none. None when it cannot be read (the model says why)."""
    try:
        return (root / SETTINGS_FILE).read_bytes()
    except FileNotFoundError:
        return b""
    except OSError:
        return None


def _checked(root: Path, digest: str) -> dict | None:
    try:
        kept = json.loads((root / CHECKED_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("digest") != digest or not isinstance(kept.get("early"), dict):
        return None
    values = kept["early"]
    if set(values) != _EARLY_VALUES:
        return None  # written by another version of this module
    return values


_EARLY_VALUES = {"network", "account", "devnet_port", "devnet_block_time", "devnet_anvil_path",
                 "devnet_orchestrators", "theme"}
_UNSURE = object()


def _rpc_url(flag: str | None, raw: bytes) -> str | None | object:
    """rpc_url as the model reads it (a flag, then LPC_RPC_URL in any case, then settings.toml), or
    _UNSURE when this reading might differ from the model's (then the model is loaded now)."""
    if flag is not None:
        return flag
    named = [k for k in os.environ if k.upper() == ENV_PREFIX + "RPC_URL"]
    if len(named) > 1:
        return _UNSURE
    if named:
        return os.environ[named[0]]
    if b"rpc_url" not in raw:
        return None
    import tomllib

    try:
        value = tomllib.loads(raw.decode("utf-8")).get("rpc_url")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return _UNSURE
    return value if value is None or isinstance(value, str) else _UNSURE
