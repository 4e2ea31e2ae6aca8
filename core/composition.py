"""The composition root: builds the chain client (and later the node, GPU monitor and store) from settings.

This is the one module in core that wires chain/ and gpu/ in; everything else in core talks to ports.
"""

from __future__ import annotations

import json

from chain.client import ChainClient, ChainError
from chain.network import ARBITRUM_ONE, ARBITRUM_ONE_PUBLIC_RPC, NetworkProfile, devnet_profile
from core.settings import Network, Settings


def network_profile(settings: Settings) -> tuple[NetworkProfile, str]:
    """The profile and RPC URL for the configured network."""
    if settings.network is Network.ARBITRUM_ONE:
        return ARBITRUM_ONE, settings.rpc_url or ARBITRUM_ONE_PUBLIC_RPC
    running = settings.data_dir / "devnet" / "devnet.json"
    try:
        info = json.loads(running.read_text())
    except FileNotFoundError:
        raise ChainError(
            f"the devnet of {settings.data_dir} is not running; start it with `lpc devnet up` "
            "(or run `lpc`, which starts it)"
        ) from None
    profile = devnet_profile(
        controller=info["controller"],
        poll_creator=info["poll_creator"],
        ai_service_registry=info["ai_service_registry"],
        chain_id=info["chain_id"],
        multicall3=info.get("multicall3", ARBITRUM_ONE.multicall3),
    )
    return profile, settings.rpc_url or info["rpc_url"]


def chain_client(settings: Settings, *, check: bool = True) -> ChainClient:
    profile, rpc_url = network_profile(settings)
    client = ChainClient(rpc_url, profile)
    if check:
        client.check_chain()
    return client


def gpu_monitor(settings: Settings, node_pids: tuple[int, ...] = ()):
    """The GPU monitor for this installation: real NVML, or the labelled double when asked for."""
    from gpu import create_monitor

    return create_monitor(simulate=settings.gpu.simulate, interval=settings.gpu.interval, node_pids=node_pids)
