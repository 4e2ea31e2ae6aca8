"""Move the devnet's entry points to their Arbitrum One addresses, so the `arbitrum-one` profile runs
unchanged against a local anvil and no code path is tested only on devnet addresses.

The Controller, the PollCreator, the AI service registry and the ETH/USD price feed (the addresses the
arbitrum-one profile hard-codes; Multicall3 is already at its usual address) are copied with their
storage to the mainnet addresses through anvil's `anvil_setCode` / `anvil_setStorageAt` /
`anvil_setNonce`. Every reference to the old addresses is rewritten, in storage values (e.g. each
Manager's `controller` slot) and in contract code (immutables such as the PollCreator's and the
governor's controller). The old addresses are then emptied, so anything that still used them would fail
loudly instead of passing by accident.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

from eth_utils import to_checksum_address
from web3 import Web3

from chain.devnet.deploy import Deployment
from chain.network import ARBITRUM_ONE


def _rpc(w3: Web3, method: str, params: list):
    resp = w3.provider.make_request(method, params)
    if "error" in resp:
        raise RuntimeError(f"{method} failed: {resp['error'].get('message')}")
    return resp.get("result")


def _dump_accounts(w3: Web3) -> dict[str, dict]:
    dumped = _rpc(w3, "anvil_dumpState", [])
    state = json.loads(gzip.decompress(bytes.fromhex(dumped[2:])))
    return {k.lower(): v for k, v in state["accounts"].items()}


def _storage(account: dict) -> dict[str, str]:
    storage = account.get("storage") or {}
    if isinstance(storage, str):  # some anvil versions serialise the map as a Python-ish string
        storage = json.loads(storage.replace("'", '"'))
    return storage


def place_at_mainnet_addresses(w3: Web3, deployment: Deployment) -> Deployment:
    """Relocate the deployment's Controller, PollCreator, AI registry and price feed (when it has one) to
    their Arbitrum One addresses on this anvil; returns the deployment with the new addresses."""
    moves = {
        deployment.controller: ARBITRUM_ONE.controller,
        deployment.poll_creator: ARBITRUM_ONE.poll_creator,
        deployment.ai_service_registry: ARBITRUM_ONE.ai_service_registry,
    }
    if deployment.price_feed:
        moves[deployment.price_feed] = ARBITRUM_ONE.price_feed
    moves = {to_checksum_address(a): to_checksum_address(b) for a, b in moves.items() if a.lower() != b.lower()}
    if not moves:
        return deployment
    old_hex = {a.lower()[2:]: b.lower()[2:] for a, b in moves.items()}

    def rewrite(hex_text: str) -> str:
        """Replace every old address in code or a storage word (packed slots hold them mid-word)."""
        for a, b in old_hex.items():
            hex_text = hex_text.replace(a, b)
        return hex_text

    rewrite_code = rewrite

    accounts = _dump_accounts(w3)
    for old in moves:
        if (accounts.get(old.lower(), {}).get("code") or "0x") == "0x":
            raise RuntimeError(f"no contract at {old} to move (was this devnet already placed at mainnet addresses?)")
    for addr, acct in accounts.items():
        code = acct.get("code") or "0x"
        if code == "0x" or addr[2:] in old_hex:
            continue
        new_code = rewrite_code(code)
        if new_code != code:  # immutables that hold an old address
            _rpc(w3, "anvil_setCode", [to_checksum_address(addr), new_code])
        for slot, value in _storage(acct).items():
            word = _word(value)
            if rewrite(word) != word:
                _rpc(w3, "anvil_setStorageAt", [to_checksum_address(addr), _slot(slot), rewrite(word)])

    for old, new in moves.items():
        acct = accounts[old.lower()]
        _rpc(w3, "anvil_setCode", [new, rewrite_code(acct["code"])])
        _rpc(w3, "anvil_setNonce", [new, hex(int(str(acct.get("nonce", 1)), 0))])
        for slot, value in _storage(acct).items():
            _rpc(w3, "anvil_setStorageAt", [new, _slot(slot), rewrite(_word(value))])
        for slot in _storage(acct):
            _rpc(w3, "anvil_setStorageAt", [old, _slot(slot), "0x" + "00" * 32])
        _rpc(w3, "anvil_setCode", [old, "0x"])
    return replace(
        deployment,
        controller=to_checksum_address(ARBITRUM_ONE.controller),
        poll_creator=to_checksum_address(ARBITRUM_ONE.poll_creator),
        ai_service_registry=to_checksum_address(ARBITRUM_ONE.ai_service_registry),
        price_feed=to_checksum_address(ARBITRUM_ONE.price_feed) if deployment.price_feed else None,
    )


def _word(value) -> str:
    return "0x" + format(int(str(value), 16) if isinstance(value, str) else int(value), "064x")


def _slot(slot) -> str:
    return "0x" + format(int(str(slot), 16), "064x")
