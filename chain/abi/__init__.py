"""The contract ABIs the client uses (package data), identical to the Arbitrum One ABIs for every
function and event the console, node and gateway call. Regenerated from the devnet artifacts by
`python -m chain.devnet.compile`; tests check them against the mainnet selectors."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ABI_DIR = Path(__file__).resolve().parent
CLIENT_ABIS = (
    "Controller", "LivepeerToken", "BondingManager", "RoundsManager", "Minter", "TicketBroker",
    "ServiceRegistry", "BondingVotes", "LivepeerGovernor", "Treasury", "PollCreator", "Poll", "Multicall3",
    "AggregatorV3",
)


@cache
def abi(name: str) -> list:
    return json.loads((ABI_DIR / f"{name}.json").read_text())
