"""Account overview: balances, allowance, delegation, pending stake and fees, unbonding locks, voting power."""

from __future__ import annotations

from chain.reads import AccountOverview, DelegatorStatus, UnbondingLock, load_account

__all__ = ["AccountOverview", "DelegatorStatus", "UnbondingLock", "overview"]


def overview(client, address: str) -> AccountOverview:
    """Everything about one account in two JSON-RPC round trips at most."""
    return load_account(client, address)


def balances(client, addresses: list[str]) -> dict[str, tuple[int, int]]:
    """LPT and ETH balances (wei) of several addresses in one aggregate: address → (lpt, eth)."""
    from eth_utils import to_checksum_address

    from chain.abi import abi
    from chain.multicall import Call, aggregate
    from chain.reads import resolve

    if not addresses:
        return {}
    resolve(client, "LivepeerToken")
    token = client.contract("LivepeerToken").functions
    mc = client.w3.eth.contract(address=client.profile.multicall3, abi=abi("Multicall3")).functions
    addrs = [to_checksum_address(a) for a in addresses]
    calls = []
    for a in addrs:
        calls += [Call.of(token.balanceOf(a)), Call.of(mc.getEthBalance(a))]
    values = aggregate(client.w3, client.profile.multicall3, calls)
    return {a: (values[2 * i], values[2 * i + 1]) for i, a in enumerate(addrs)}
