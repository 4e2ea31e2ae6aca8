"""What every write service shares: the checks on the round and the protocol, and names for addresses."""

from __future__ import annotations

from chain.intents import PreflightError
from chain.reads import RoundInfo


def require_open_round(rnd: RoundInfo) -> None:
    """Refuse when the protocol is paused or the current round is not initialized."""
    if rnd.paused:
        raise PreflightError("the Livepeer protocol is paused by governance", "wait until it is unpaused")
    if not rnd.initialized:
        raise PreflightError(
            f"round {rnd.number} has not been initialized yet, so the protocol accepts no staking actions",
            "initialize it first with `lpc round initialize` (anyone can; it costs a little gas)",
        )
