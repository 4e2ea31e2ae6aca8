"""Account overview: balances, allowance, delegation, pending stake and fees, unbonding locks, voting power."""

from __future__ import annotations

from chain.reads import AccountOverview, DelegatorStatus, UnbondingLock, load_account

__all__ = ["AccountOverview", "DelegatorStatus", "UnbondingLock", "overview"]


def overview(client, address: str) -> AccountOverview:
    """Everything about one account in two JSON-RPC round trips at most."""
    return load_account(client, address)
