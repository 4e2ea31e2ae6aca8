"""Rounds: the current round (progress, lock window) and initializing it."""

from __future__ import annotations

from eth_utils import to_checksum_address

from chain.client import ChainClient
from chain.intents import PreflightError, StateChange, TxPlan, build_intent, make_plan
from chain.multicall import Call, aggregate
from chain.reads import RoundInfo, load_round_info

__all__ = ["RoundInfo", "initialize", "load_round_info"]


def initialize(client: ChainClient, sender: str) -> TxPlan:
    """Initialize the current round (anyone can; nothing else works in a round until someone does)."""
    sender = to_checksum_address(sender)
    rnd = load_round_info(client)
    if rnd.paused:
        raise PreflightError("the Livepeer protocol is paused by governance", "wait until it is unpaused")
    if rnd.initialized:
        raise PreflightError(f"round {rnd.number} is already initialized", "nothing to do until the next round "
                             f"starts, in {rnd.blocks_left} blocks")
    mc = client.w3.eth.contract(address=client.profile.multicall3, abi=_mc_abi())
    (balance,) = aggregate(client.w3, client.profile.multicall3, [Call.of(mc.functions.getEthBalance(sender))])
    rm = client.contract("RoundsManager")
    intent = build_intent(
        client, sender=sender, contract="RoundsManager", fn=rm.functions.initializeRound(), action="initializeRound",
        summary=f"Initialize round {rnd.number} (sets its inflation and active stake; opens it for staking)",
        changes=[StateChange("last initialized round", str(rnd.last_initialized_round), str(rnd.number))],
    )
    return make_plan(client, f"initialize round {rnd.number}", [intent], eth_balance=balance)


def _mc_abi():
    from chain.abi import abi

    return abi("Multicall3")
