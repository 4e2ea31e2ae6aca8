"""Revert reasons in words: the protocol's revert strings and custom errors, explained with a fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from chain.abi import CLIENT_ABIS, abi


@dataclass(frozen=True)
class Words:
    reason: str
    fix: str = ""
    raw: str = ""  # the contract's own text or error name

    def __str__(self) -> str:
        return self.reason + (f" — {self.fix}" if self.fix else "")


# contract revert string (or custom error name) -> (plain reason, fix)
KNOWN: dict[str, tuple[str, str]] = {
    "system is paused": ("the Livepeer protocol is paused by governance", "wait until it is unpaused"),
    "current round is not initialized": (
        "the current round has not been initialized yet",
        "initialize it first with `lpc round initialize` (anyone can; it costs a little gas)",
    ),
    "round already initialized": ("this round is already initialized", "nothing to do"),
    "caller must be bonded": (
        "this account is not bonded (or its new bond only becomes active next round)",
        "bond first, or wait for the next round if you bonded in this one",
    ),
    "caller must be unbonded": ("this account is still bonded", "use `lpc stake rebond` instead"),
    "invalid unbonding lock ID": ("there is no such unbonding lock", "list your locks with `lpc account show`"),
    "withdraw round must be before or equal to the current round": (
        "this unbonding lock is still in its unbonding period", "wait until its withdraw round"),
    "insufficient fees to withdraw": ("that is more ETH than the fees earned", "withdraw at most your pending fees"),
    "invalid recipient": ("the recipient is the zero address", "give the address that should receive the fees"),
    "unbond amount must be greater than 0": ("the amount must be greater than zero", ""),
    "amount is greater than bonded amount": ("that is more than the bonded stake", "unbond at most your stake"),
    "delegation amount must be greater than 0": (
        "nothing to bond: the amount is zero and the delegate does not change", "give an amount"),
    "registered transcoders can't delegate towards other addresses": (
        "an orchestrator cannot delegate its stake to another address",
        "unbond fully (leave the pool) before delegating elsewhere",
    ),
    "can't update transcoder params, current round is locked": (
        "the round is in its lock period: reward cut and fee share cannot change now",
        "try again after the next round starts (`lpc round show` shows when)",
    ),
    "transcoder must be registered": (
        "this account is not a registered orchestrator", "self-bond first: `lpc stake bond --to <your address>`"),
    "caller can't be active or must have already called reward for the current round": (
        "an active orchestrator must call reward in this round before changing its rates",
        "run `lpc reward call` first",
    ),
    "caller must be an active transcoder": (
        "this orchestrator is not in the active set this round", "it cannot earn rewards until it is active"),
    "caller has already called reward for the current round": (
        "reward was already called in this round", "wait for the next round"),
    "caller must be the transcoder's reward caller": (
        "this account is not the orchestrator's reward caller",
        "the orchestrator sets it with `lpc reward caller --set ADDR`",
    ),
    "invalid rewardCut percentage": ("the reward cut must be between 0 and 100 %", ""),
    "invalid feeShare percentage": ("the fee share must be between 0 and 100 %", ""),
    "ERC20: insufficient allowance": (
        "the BondingManager is not allowed to move that much LPT", "approve the amount first"),
    "ERC20: transfer amount exceeds balance": ("not enough LPT in the account", "get more LPT or lower the amount"),
    "poll is over": ("this poll has ended", "polls only take votes until their end block"),
    "VoteAlreadyCast": ("this account has already voted on this proposal", "a vote cannot be changed"),
    "InvalidVoteType": ("that is not a valid vote", "use for, against or abstain"),
    "Governor: vote not currently active": ("the proposal is not open for voting", "check its state with `lpc gov show`"),
    "GovernorCompatibilityBravo: vote already cast": ("this account has already voted", ""),
    "FutureLookup": ("voting power for a round that has not ended yet was asked", "try again next round"),
    "MustCallBondingManager": ("voting power follows stake; it cannot be delegated directly", "bond instead"),
}


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    from eth_utils import keccak

    out: dict[bytes, tuple[str, list[str]]] = {}
    for name in CLIENT_ABIS:
        for item in abi(name):
            if item.get("type") == "error":
                types = [i["type"] for i in item.get("inputs", [])]
                sig = f"{item['name']}({','.join(types)})"
                out[keccak(text=sig)[:4]] = (item["name"], types)
    return out


def decode_custom_error(data: str | bytes) -> str | None:
    """`VoteAlreadyCast()` / `FutureLookup(12, 10)` from revert data, or None when unknown."""
    from eth_abi import decode

    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
    if len(raw) < 4:
        return None
    hit = _custom_errors().get(raw[:4])
    if hit is None:
        return None
    name, types = hit
    try:
        args = decode(types, raw[4:]) if types else ()
    except Exception:  # noqa: BLE001
        args = ()
    return f"{name}({', '.join(str(a) for a in args)})"


_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")


def explain_revert(error: BaseException | str) -> Words:
    """Plain words (and a fix) for a revert, from a web3 exception or the revert text itself."""
    if isinstance(error, BaseException):
        data = getattr(error, "data", None)
        text = getattr(error, "message", None) or str(error)
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            custom = decode_custom_error(data)
            if custom:
                text = custom
        elif isinstance(data, dict):
            text = str(data.get("message") or text)
    else:
        text = error
    text = str(text)
    for prefix in ("execution reverted: ", "execution reverted:", "VM Exception while processing transaction: revert "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.strip()
    if _HEX.fullmatch(text):
        text = decode_custom_error(text) or text
    name = text.split("(", 1)[0]
    for key in (text, name):
        if key in KNOWN:
            reason, fix = KNOWN[key]
            return Words(reason, fix, text)
    if text in ("execution reverted", ""):
        return Words("the contract refused the transaction without a reason", "check the inputs", text)
    if "insufficient funds" in text:
        return Words("not enough ETH to pay for gas", "send ETH to this account", text)
    return Words(f"the contract refused: {text}", "", text)
