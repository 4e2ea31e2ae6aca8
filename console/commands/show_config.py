"""`lpc node --show-config`: the resolved configuration as TOML-like lines, so an operator can check how a
pasted go-livepeer command line (and settings.toml, LPC_* variables) was understood before starting.

The rule: every field of NodeConfig / PaymentConfig / GatewayConfig is printed under its section with the
value the node would start with; an unset optional value is a comment saying what happens instead; a
password in a URL is replaced by '***' (webhook URLs may carry one); go-livepeer flags that were accepted
with no effect yet are listed by name only. Nothing here holds or prints a key."""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_UNSET = {
    "http_addr": "all interfaces, the service port",
    "cli_addr": "off",
    "rtmp_addr": "off",
    "http_ingest": "on while http_addr is loopback or an auth webhook is set",
    "local_verify": "on chain on, offchain off",
    "orch_webhook_url": "no discovery webhook",
    "auth_webhook_url": "every stream is accepted",
    "price_feed": "the network's",
    "max_face_value": "no cap",
    "max_gas_price": "no cap",
    "reward_for": "this node's own account",
    "ai_models": "every pipeline with a model shipped with lpc, at its defaults",
}
_SKIP = {"data_dir", "extra"}


def redact(text: str) -> str:
    """A URL with its password (user:password@) replaced by ***; anything else as given."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return text


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    text = redact(str(value)).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def section(title: str, obj: Any) -> list[str]:
    lines = [f"[{title}]"]
    for f in fields(obj):
        if f.name in _SKIP:
            continue
        value = getattr(obj, f.name)
        if value is None:
            lines.append(f"# {f.name} is not set: {_UNSET.get(f.name, 'the default applies')}")
        else:
            lines.append(f"{f.name} = {toml_value(value)}")
    return lines


def config_text(settings, node=None, payment=None, gateway=None, inert: dict[str, str] | None = None, *,
                account: str | None = None, ladder: tuple[str, ...] | None = None) -> str:
    """The lines `lpc node --show-config` prints for the configs that would run (None = that part does not)."""
    roles = (["orchestrator", "transcoder"] if node is not None else []) + (["gateway"] if gateway is not None else [])
    offchain = all(c.offchain for c in (node, gateway) if c is not None)
    lines = ["# lpc node --show-config: what would start (nothing was started)",
             f"data_dir = {toml_value(settings.data_dir)}",
             f"network = {toml_value('offchain' if offchain else settings.network.value)}",
             f"roles = {toml_value(roles)}"]
    if not offchain:
        if settings.rpc_url:
            lines.append(f"rpc_url = {toml_value(settings.rpc_url)}")
        signer = account or settings.account
        lines.append(f"account = {toml_value(signer)}" if signer else "# account is not set: pass -ethAcctAddr "
                     "(--account) or `lpc wallet use ADDRESS`")
    if node is not None:
        lines += ["", *section("node", node)]
    if payment is not None and not node.offchain:
        lines += ["", *section("node.payment", payment)]
    if gateway is not None:
        lines += ["", *section("gateway", gateway)]
        for rendition in ladder or ():
            lines.append(f"# rendition: {rendition}")
        lines.append(f"# verification of renditions: {'on' if gateway.verify else 'off'}")
        if not gateway.orch_addrs and not gateway.orch_webhook_url and gateway.offchain:
            lines.append("# No orchestrator specified; transcoding will not happen")
    if inert:
        lines += ["", "# accepted, no effect yet: " + ", ".join(f"-{name}" for name in inert)]
    return "\n".join(lines)
