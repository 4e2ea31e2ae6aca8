"""ABI conformance of our staking contracts with Arbitrum One (protocol.md §2.1-§2.4, §2.7, §2.11).

Selectors and topics are computed from the compiled artifacts and compared with values computed
independently from the mainnet ABIs; indexed flags are compared too because web3 decodes logs by them.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak

from chain.devnet.artifacts import load_artifact

# §2.11, functions
SELECTORS = {
    "BondingManager": {
        "bond": "0xb78d27dc", "bondWithHint": "0x6bd9add4", "unbond": "0x27de9e32", "unbondWithHint": "0x9500ed9b",
        "rebond": "0xeaffb3f9", "rebondWithHint": "0x7fc4606f", "rebondFromUnbonded": "0x3a080e93",
        "rebondFromUnbondedWithHint": "0x0584a373", "withdrawStake": "0x25d5971f", "withdrawFees": "0xad3b1b47",
        "claimEarnings": "0x24b1babf", "reward": "0x228cb733", "rewardWithHint": "0x81871056",
        "transcoder": "0x43d3461a", "transcoderWithHint": "0x3550aa10", "pendingStake": "0x9d0b2c7a",
        "pendingFees": "0xf595f1cc", "getDelegator": "0xa64ad595", "getDelegatorUnbondingLock": "0x412f83b6",
        "getTranscoder": "0x5dce9948", "getTranscoderEarningsPoolForRound": "0x24454fc4",
        "getTranscoderPoolSize": "0x2a4e0d55", "getTranscoderPoolMaxSize": "0x5a2a75a9",
        "getFirstTranscoderInPool": "0x88a6c749", "getNextTranscoderInPool": "0x235c9603",
        "transcoderTotalStake": "0x9ef9df94", "isActiveTranscoder": "0x08802374",
        "isRegisteredTranscoder": "0x68ba170c", "transcoderStatus": "0x8b2f1652", "delegatorStatus": "0x1544fc67",
        "getTotalBonded": "0x5c50c356", "unbondingPeriod": "0x6cf6d675", "nextRoundTotalActiveStake": "0x465501d3",
        "checkpointBondingState": "0xd52bd62b", "setRewardCaller": "0x0103e60e",
        "rewardForTranscoder": "0x1a8c41f8", "rewardForTranscoderWithHint": "0xb556966a",
        "transcoderToRewardCaller": "0x47621410",
    },
    "RoundsManager": {
        "currentRound": "0x8a19c8bc", "currentRoundInitialized": "0x219bc76c", "currentRoundLocked": "0x6841f253",
        "currentRoundStartBlock": "0x8fa148f2", "initializeRound": "0xd4807fb2", "roundLength": "0x8b649b94",
        "blockNum": "0x8ae63d6d",
    },
    "Minter": {
        "inflation": "0xbe0522e0", "inflationChange": "0xa7c83514", "targetBondingRate": "0x821b771f",
        "currentMintableTokens": "0x9ae6309a",
    },
    "BondingVotes": {"getPastVotes": "0x3a46b1a8"},
    "Controller": {"getContract": "0xe16c7d98"},
}

# §2.11, event topic0 prefixes
TOPICS = {
    "BondingManager": {
        "Bond": "0xe5917769", "Unbond": "0x2d5d98d1", "Rebond": "0x9f5b64cc", "WithdrawStake": "0x1340f1a8",
        "WithdrawFees": "0x4f1b51dd", "Reward": "0x619caafa", "TreasuryReward": "0x40e20071",
        "TranscoderUpdate": "0x73468544", "EarningsClaimed": "0xd7eab076", "RewardCallerSet": "0x15932b87",
    },
    "RoundsManager": {"NewRound": "0x22f2fc17"},
}

# §2.1-§2.4, §2.7: every signature with its return types
FUNCTIONS = {
    "BondingManager": {
        "bond(uint256,address)": [],
        "bondWithHint(uint256,address,address,address,address,address)": [],
        "bondForWithHint(uint256,address,address,address,address,address,address)": [],
        "unbond(uint256)": [], "unbondWithHint(uint256,address,address)": [],
        "rebond(uint256)": [], "rebondWithHint(uint256,address,address)": [],
        "rebondFromUnbonded(address,uint256)": [],
        "rebondFromUnbondedWithHint(address,uint256,address,address)": [],
        "withdrawStake(uint256)": [], "withdrawFees(address,uint256)": [], "claimEarnings(uint256)": [],
        "transferBond(address,uint256,address,address,address,address)": [],
        "checkpointBondingState(address)": [],
        "transcoder(uint256,uint256)": [], "transcoderWithHint(uint256,uint256,address,address)": [],
        "reward()": [], "rewardWithHint(address,address)": [],
        "setRewardCaller(address)": [], "rewardForTranscoder(address)": [],
        "rewardForTranscoderWithHint(address,address,address)": [],
        "transcoderToRewardCaller(address)": ["address"],
        "pendingStake(address,uint256)": ["uint256"], "pendingFees(address,uint256)": ["uint256"],
        "getDelegator(address)": ["uint256", "uint256", "address", "uint256", "uint256", "uint256", "uint256"],
        "getDelegatorUnbondingLock(address,uint256)": ["uint256", "uint256"],
        "isValidUnbondingLock(address,uint256)": ["bool"],
        "getTranscoder(address)": ["uint256"] * 10,
        "getTranscoderEarningsPoolForRound(address,uint256)": ["uint256"] * 5,
        "getTranscoderPoolSize()": ["uint256"], "getTranscoderPoolMaxSize()": ["uint256"],
        "getFirstTranscoderInPool()": ["address"], "getNextTranscoderInPool(address)": ["address"],
        "transcoderTotalStake(address)": ["uint256"], "isActiveTranscoder(address)": ["bool"],
        "isRegisteredTranscoder(address)": ["bool"], "transcoderStatus(address)": ["uint8"],
        "delegatorStatus(address)": ["uint8"], "getTotalBonded()": ["uint256"],
        "currentRoundTotalActiveStake()": ["uint256"], "nextRoundTotalActiveStake()": ["uint256"],
        "unbondingPeriod()": ["uint64"], "treasuryRewardCutRate()": ["uint256"],
        "nextRoundTreasuryRewardCutRate()": ["uint256"], "treasuryBalanceCeiling()": ["uint256"],
        "setUnbondingPeriod(uint64)": [], "setNumActiveTranscoders(uint256)": [],
        "setTreasuryRewardCutRate(uint256)": [], "setTreasuryBalanceCeiling(uint256)": [],
        "updateTranscoderWithFees(address,uint256,uint256)": [], "setCurrentRoundTotalActiveStake()": [],
        "getController()": ["address"],
    },
    "RoundsManager": {
        "currentRound()": ["uint256"], "currentRoundInitialized()": ["bool"], "currentRoundLocked()": ["bool"],
        "currentRoundStartBlock()": ["uint256"], "initializeRound()": [], "roundLength()": ["uint256"],
        "roundLockAmount()": ["uint256"], "lastInitializedRound()": ["uint256"],
        "lastRoundLengthUpdateRound()": ["uint256"], "lastRoundLengthUpdateStartBlock()": ["uint256"],
        "blockNum()": ["uint256"], "blockHash(uint256)": ["bytes32"], "blockHashForRound(uint256)": ["bytes32"],
        "lipUpgradeRound(uint256)": ["uint256"], "setRoundLength(uint256)": [], "setRoundLockAmount(uint256)": [],
        "setLIPUpgradeRound(uint256,uint256)": [],
    },
    "Minter": {
        "inflation()": ["uint256"], "inflationChange()": ["uint256"], "targetBondingRate()": ["uint256"],
        "currentMintableTokens()": ["uint256"], "currentMintedTokens()": ["uint256"],
        "getGlobalTotalSupply()": ["uint256"], "getController()": ["address"],
        "createReward(uint256,uint256)": ["uint256"], "trustedTransferTokens(address,uint256)": [],
        "trustedBurnTokens(uint256)": [], "trustedWithdrawETH(address,uint256)": [], "depositETH()": ["bool"],
        "setCurrentRewardTokens()": [],
    },
    "LivepeerToken": {
        "name()": ["string"], "symbol()": ["string"], "decimals()": ["uint8"], "totalSupply()": ["uint256"],
        "balanceOf(address)": ["uint256"], "allowance(address,address)": ["uint256"],
        "approve(address,uint256)": ["bool"], "transfer(address,uint256)": ["bool"],
        "transferFrom(address,address,uint256)": ["bool"], "mint(address,uint256)": [],
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)": [], "burn(uint256)": [],
        "DOMAIN_SEPARATOR()": ["bytes32"], "nonces(address)": ["uint256"],
    },
    "BondingVotes": {
        "clock()": ["uint48"], "CLOCK_MODE()": ["string"], "getVotes(address)": ["uint256"],
        "getPastVotes(address,uint256)": ["uint256"], "totalSupply()": ["uint256"],
        "getPastTotalSupply(uint256)": ["uint256"], "delegates(address)": ["address"],
        "delegatedAt(address,uint256)": ["address"],
        "getVotesAndDelegateAtRoundStart(address,uint256)": ["uint256", "address"],
        "getTotalActiveStakeAt(uint256)": ["uint256"], "hasCheckpoint(address)": ["bool"],
        "name()": ["string"], "symbol()": ["string"], "decimals()": ["uint8"],
        "delegate(address)": [], "delegateBySig(address,uint256,uint256,uint8,bytes32,bytes32)": [],
        "checkpointBondingState(address,uint256,uint256,address,uint256,uint256,uint256)": [],
        "checkpointTotalActiveStake(uint256,uint256)": [],
    },
}

# events with (type, indexed) per field
EVENTS = {
    "BondingManager": {
        "Bond": [("address", True), ("address", True), ("address", True), ("uint256", False), ("uint256", False)],
        "Unbond": [("address", True), ("address", True), ("uint256", False), ("uint256", False), ("uint256", False)],
        "Rebond": [("address", True), ("address", True), ("uint256", False), ("uint256", False)],
        "WithdrawStake": [("address", True), ("uint256", False), ("uint256", False), ("uint256", False)],
        "WithdrawFees": [("address", True), ("address", False), ("uint256", False)],
        "Reward": [("address", True), ("uint256", False)],
        "TreasuryReward": [("address", True), ("address", False), ("uint256", False)],
        "TranscoderUpdate": [("address", True), ("uint256", False), ("uint256", False)],
        "TranscoderActivated": [("address", True), ("uint256", False)],
        "TranscoderDeactivated": [("address", True), ("uint256", False)],
        "TranscoderSlashed": [("address", True), ("address", False), ("uint256", False), ("uint256", False)],
        "EarningsClaimed": [("address", True), ("address", True)] + [("uint256", False)] * 4,
        "TransferBond": [("address", True), ("address", True)] + [("uint256", False)] * 3,
        "ParameterUpdate": [("string", False)], "SetController": [("address", False)],
        "RewardCallerSet": [("address", True), ("address", True)],
    },
    "RoundsManager": {"NewRound": [("uint256", True), ("bytes32", False)]},
    "Minter": {"SetCurrentRewardTokens": [("uint256", False), ("uint256", False)]},
    "LivepeerToken": {
        "Mint": [("address", True), ("uint256", False)], "Burn": [("address", True), ("uint256", False)],
        "Transfer": [("address", True), ("address", True), ("uint256", False)],
        "Approval": [("address", True), ("address", True), ("uint256", False)],
    },
    "BondingVotes": {
        "DelegateChanged": [("address", True), ("address", True), ("address", True)],
        "DelegateVotesChanged": [("address", True), ("uint256", False), ("uint256", False)],
        "DelegatorBondedAmountChanged": [("address", True)] + [("uint256", False)] * 4,
    },
}


def _signature(entry: dict) -> str:
    return f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"


def _functions(contract: str) -> dict[str, dict]:
    abi = load_artifact(contract).abi
    return {_signature(e): e for e in abi if e["type"] == "function"}


@pytest.mark.parametrize("contract", sorted(SELECTORS))
def test_function_selectors_match_mainnet(contract):
    by_name: dict[str, set[str]] = {}
    for sig in _functions(contract):
        by_name.setdefault(sig.split("(")[0], set()).add("0x" + keccak(text=sig)[:4].hex())
    for name, selector in SELECTORS[contract].items():
        assert selector in by_name.get(name, set()), f"{contract}.{name}: {by_name.get(name)} != {selector}"


@pytest.mark.parametrize("contract", sorted(TOPICS))
def test_event_topics_match_mainnet(contract):
    abi = load_artifact(contract).abi
    topics = {e["name"]: "0x" + keccak(text=_signature(e)).hex() for e in abi if e["type"] == "event"}
    for name, prefix in TOPICS[contract].items():
        assert topics[name].startswith(prefix), f"{contract}.{name}: {topics[name]} !~ {prefix}"


@pytest.mark.parametrize("contract", sorted(FUNCTIONS))
def test_every_function_exists_with_its_return_types(contract):
    fns = _functions(contract)
    for sig, outputs in FUNCTIONS[contract].items():
        assert sig in fns, f"{contract} lacks {sig}"
        assert [o["type"] for o in fns[sig]["outputs"]] == outputs, sig


@pytest.mark.parametrize("contract", sorted(EVENTS))
def test_events_have_mainnet_fields_and_indexing(contract):
    abi = load_artifact(contract).abi
    evs = {e["name"]: e for e in abi if e["type"] == "event"}
    for name, fields in EVENTS[contract].items():
        assert name in evs, f"{contract} lacks event {name}"
        assert [(i["type"], i["indexed"]) for i in evs[name]["inputs"]] == fields, name


def test_payable_and_view_mutability():
    assert _functions("Minter")["depositETH()"]["stateMutability"] == "payable"
    bm = _functions("BondingManager")
    for sig in ("pendingStake(address,uint256)", "getDelegator(address)", "getTotalBonded()"):
        assert bm[sig]["stateMutability"] == "view"
