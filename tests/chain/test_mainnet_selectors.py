"""Every function in protocol.md §2.11, called on the devnet by its Arbitrum One selector with raw
calldata (no ABI of ours involved): the devnet answers each one the way mainnet would.

Views must return data that decodes with mainnet's return types. Writes are simulated (eth_call) from
a sensible sender: they either succeed or revert with a protocol reason; an unknown selector would
revert with no data at all, which fails the test.
"""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import keccak
from web3.exceptions import ContractLogicError

# (contract, signature, mainnet selector from §2.11, return types or None for writes)
CALLS = [
    ("BondingManager", "bond(uint256,address)", "0xb78d27dc", None),
    ("BondingManager", "bondWithHint(uint256,address,address,address,address,address)", "0x6bd9add4", None),
    ("BondingManager", "unbond(uint256)", "0x27de9e32", None),
    ("BondingManager", "unbondWithHint(uint256,address,address)", "0x9500ed9b", None),
    ("BondingManager", "rebond(uint256)", "0xeaffb3f9", None),
    ("BondingManager", "rebondWithHint(uint256,address,address)", "0x7fc4606f", None),
    ("BondingManager", "rebondFromUnbonded(address,uint256)", "0x3a080e93", None),
    ("BondingManager", "rebondFromUnbondedWithHint(address,uint256,address,address)", "0x0584a373", None),
    ("BondingManager", "withdrawStake(uint256)", "0x25d5971f", None),
    ("BondingManager", "withdrawFees(address,uint256)", "0xad3b1b47", None),
    ("BondingManager", "claimEarnings(uint256)", "0x24b1babf", None),
    ("BondingManager", "reward()", "0x228cb733", None),
    ("BondingManager", "rewardWithHint(address,address)", "0x81871056", None),
    ("BondingManager", "transcoder(uint256,uint256)", "0x43d3461a", None),
    ("BondingManager", "transcoderWithHint(uint256,uint256,address,address)", "0x3550aa10", None),
    ("BondingManager", "pendingStake(address,uint256)", "0x9d0b2c7a", ["uint256"]),
    ("BondingManager", "pendingFees(address,uint256)", "0xf595f1cc", ["uint256"]),
    ("BondingManager", "getDelegator(address)", "0xa64ad595",
     ["uint256", "uint256", "address", "uint256", "uint256", "uint256", "uint256"]),
    ("BondingManager", "getDelegatorUnbondingLock(address,uint256)", "0x412f83b6", ["uint256", "uint256"]),
    ("BondingManager", "getTranscoder(address)", "0x5dce9948", ["uint256"] * 10),
    ("BondingManager", "getTranscoderEarningsPoolForRound(address,uint256)", "0x24454fc4", ["uint256"] * 5),
    ("BondingManager", "getTranscoderPoolSize()", "0x2a4e0d55", ["uint256"]),
    ("BondingManager", "getTranscoderPoolMaxSize()", "0x5a2a75a9", ["uint256"]),
    ("BondingManager", "getFirstTranscoderInPool()", "0x88a6c749", ["address"]),
    ("BondingManager", "getNextTranscoderInPool(address)", "0x235c9603", ["address"]),
    ("BondingManager", "transcoderTotalStake(address)", "0x9ef9df94", ["uint256"]),
    ("BondingManager", "isActiveTranscoder(address)", "0x08802374", ["bool"]),
    ("BondingManager", "isRegisteredTranscoder(address)", "0x68ba170c", ["bool"]),
    ("BondingManager", "transcoderStatus(address)", "0x8b2f1652", ["uint8"]),
    ("BondingManager", "delegatorStatus(address)", "0x1544fc67", ["uint8"]),
    ("BondingManager", "getTotalBonded()", "0x5c50c356", ["uint256"]),
    ("BondingManager", "unbondingPeriod()", "0x6cf6d675", ["uint64"]),
    ("BondingManager", "nextRoundTotalActiveStake()", "0x465501d3", ["uint256"]),
    ("BondingManager", "checkpointBondingState(address)", "0xd52bd62b", None),
    ("BondingManager", "setRewardCaller(address)", "0x0103e60e", None),
    ("BondingManager", "rewardForTranscoder(address)", "0x1a8c41f8", None),
    ("BondingManager", "rewardForTranscoderWithHint(address,address,address)", "0xb556966a", None),
    ("BondingManager", "transcoderToRewardCaller(address)", "0x47621410", ["address"]),
    ("Controller", "getContract(bytes32)", "0xe16c7d98", ["address"]),
    ("RoundsManager", "currentRound()", "0x8a19c8bc", ["uint256"]),
    ("RoundsManager", "currentRoundInitialized()", "0x219bc76c", ["bool"]),
    ("RoundsManager", "currentRoundLocked()", "0x6841f253", ["bool"]),
    ("RoundsManager", "currentRoundStartBlock()", "0x8fa148f2", ["uint256"]),
    ("RoundsManager", "initializeRound()", "0xd4807fb2", None),
    ("RoundsManager", "roundLength()", "0x8b649b94", ["uint256"]),
    ("RoundsManager", "blockNum()", "0x8ae63d6d", ["uint256"]),
    ("Minter", "inflation()", "0xbe0522e0", ["uint256"]),
    ("Minter", "inflationChange()", "0xa7c83514", ["uint256"]),
    ("Minter", "targetBondingRate()", "0x821b771f", ["uint256"]),
    ("Minter", "currentMintableTokens()", "0x9ae6309a", ["uint256"]),
    ("TicketBroker", "fundDeposit()", "0x6caa736b", None),
    ("TicketBroker", "fundReserve()", "0x6f9c3c8f", None),
    ("TicketBroker", "fundDepositAndReserve(uint256,uint256)", "0x511f4073", None),
    ("TicketBroker", "redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)",
     "0xec8b3cb6", None),
    ("TicketBroker", "getSenderInfo(address)", "0xe1a589da", ["(uint256,uint256)", "(uint256,uint256)"]),
    ("TicketBroker", "claimableReserve(address,address)", "0x81779f38", ["uint256"]),
    ("TicketBroker", "unlock()", "0xa69df4b5", None),
    ("TicketBroker", "withdraw()", "0x3ccfd60b", None),
    ("ServiceRegistry", "setServiceURI(string)", "0x5f11301b", None),
    ("ServiceRegistry", "getServiceURI(address)", "0x214c2a4b", ["string"]),
    ("LivepeerGovernor", "propose(address[],uint256[],bytes[],string)", "0x7d5e81e2", None),
    ("LivepeerGovernor", "castVote(uint256,uint8)", "0x56781388", None),
    ("LivepeerGovernor", "castVoteWithReason(uint256,uint8,string)", "0x7b3c71d3", None),
    ("LivepeerGovernor", "state(uint256)", "0x3e4f49e6", None),  # reverts for an unknown id, with a reason
    ("LivepeerGovernor", "proposalVotes(uint256)", "0x544ffc9c", ["uint256", "uint256", "uint256"]),
    ("LivepeerGovernor", "quota()", "0xcebe09c9", ["uint256"]),
    ("BondingVotes", "getPastVotes(address,uint256)", "0x3a46b1a8", ["uint256"]),
    ("PollCreator", "createPoll(bytes)", "0x4d2942ab", None),
]


def _types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : signature.rindex(")")]
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


def _sample(t: str, accounts: list[str]):
    if t.startswith("("):
        return tuple(_sample(x, accounts) for x in _types(t))
    if t.endswith("[]"):
        return []
    return {
        "address": accounts[2], "string": "https://x.example:8935", "bytes": b"\x12\x20" + b"\x01" * 32,
        "bytes32": b"\x00" * 32, "uint8": 1,
    }.get(t, 1)


@pytest.mark.parametrize("contract,signature,selector,returns", CALLS, ids=[c[1].split("(")[0] + "@" + c[0] for c in CALLS])
def test_devnet_answers_the_mainnet_selector(chain, w3, contract, signature, selector, returns):
    assert "0x" + keccak(text=signature)[:4].hex() == selector, "the signature table disagrees with §2.11"
    args = [_sample(t, chain.accounts) for t in _types(signature)]
    data = selector + encode(_types(signature), args).hex()
    to = chain.protocol.address(contract)
    sender = chain.accounts[1]
    try:
        raw = w3.eth.call({"to": to, "from": sender, "data": data})
    except ContractLogicError as exc:
        assert returns is None, f"view {signature} reverted: {exc}"
        reason = exc.data or ""
        assert reason not in ("", "0x", None), f"{signature} reverted without data: selector not implemented?"
        return
    if returns is not None:
        decoded = decode(returns, bytes(raw))
        assert len(decoded) == len(returns)


def test_poll_vote_by_mainnet_selector(chain, w3):
    """Poll.vote(uint256) = 0x0121b93f on a poll created by the devnet PollCreator."""
    assert "0x" + keccak(text="vote(uint256)")[:4].hex() == "0x0121b93f"
    orch = chain.accounts[1]
    chain.next_round()
    chain.bond(orch, 200 * 10**18, orch)
    receipt = chain.send(chain.c("PollCreator").functions.createPoll(b"\x12\x20" + b"\x02" * 32), orch)
    poll = chain.c("PollCreator").events.PollCreated().process_receipt(receipt)[0]["args"]["poll"]
    tx = w3.eth.send_transaction({"to": poll, "from": orch, "data": "0x0121b93f" + encode(["uint256"], [0]).hex()})
    assert w3.eth.wait_for_transaction_receipt(tx).status == 1
