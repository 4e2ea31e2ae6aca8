"""The seeded pool's service URIs pointed at a closed loopback port: probing them (the Pricing screen asks
every active orchestrator for its price) then fails on this machine, "no TLS answer", instead of asking a
DNS server for the devnet's *.devnet.lpc names."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CLOSED_PORT = 9  # below 1024: nothing a test starts can listen there (checked before use)


def point_pool_at_closed_port(client) -> str:
    """Every orchestrator in the pool advertises https://127.0.0.1:9 (set in one block, as each of them:
    anvil impersonation). Returns the host:port."""
    from chain.reads import load_orchestrator_pool

    try:
        socket.create_connection(("127.0.0.1", CLOSED_PORT), timeout=2).close()
    except ConnectionRefusedError:
        pass
    else:
        pytest.fail(f"something listens on 127.0.0.1:{CLOSED_PORT}; these tests need that port closed")
    registry = client.contract("ServiceRegistry").functions
    rpc = client.w3.provider.make_request
    rpc("evm_setAutomine", [False])  # all in one block: the round moves on by one block only
    try:
        sent = []
        for orch in load_orchestrator_pool(client).orchestrators:
            rpc("anvil_impersonateAccount", [orch.address])
            sent.append(registry.setServiceURI(f"https://127.0.0.1:{CLOSED_PORT}").transact(
                {"from": orch.address, "gas": 200_000}))
            rpc("anvil_stopImpersonatingAccount", [orch.address])
        rpc("evm_mine", [])
    finally:
        rpc("evm_setAutomine", [True])
    assert all(client.w3.eth.get_transaction_receipt(tx).status == 1 for tx in sent)
    return f"127.0.0.1:{CLOSED_PORT}"


def devnet_with_unreachable_peers(data_dir: Path, env: dict[str, str]) -> None:
    """`lpc devnet up` for `data_dir` in `env` (as the console would start it), then the pool pointed at the
    closed port; an `lpc` started after reuses that devnet."""
    from core.composition import chain_client
    from core.settings import load_settings

    repo = Path(__file__).resolve().parents[2]
    up = subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), "devnet", "up", "--json"],
                        env=env, cwd=repo, capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr
    info = json.loads(up.stdout.strip().splitlines()[-1])
    client = chain_client(load_settings(data_dir, rpc_url=info["rpc_url"]))
    point_pool_at_closed_port(client)
