"""BondingVotes on a real anvil: round clock, checkpoints written by BondingManager, voting power."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from tests.chain.helpers import LPT, ZERO_ADDRESS, custom_error_data, events


def _error(signature: str, types: list[str], values: list) -> str:
    return "0x" + (keccak(text=signature)[:4] + encode(types, values)).hex()


def test_metadata_and_clock(chain):
    v = chain.c("BondingVotes").functions
    assert v.name().call() == "Livepeer Voting Power"
    assert v.symbol().call() == "vLPT"
    assert v.decimals().call() == 18
    assert v.CLOCK_MODE().call() == "mode=livepeer_round"
    assert v.clock().call() == chain.current_round()
    chain.next_round()
    assert v.clock().call() == chain.current_round()


def test_delegation_must_go_through_the_bonding_manager(chain):
    v = chain.c("BondingVotes").functions
    who = chain.accounts[1]
    assert custom_error_data(chain, v.delegate(who), who) == _error(
        "MustCallBondingManager(string)", ["string"], ["bond"])
    assert custom_error_data(chain, v.delegateBySig(who, 0, 0, 27, b"\0" * 32, b"\0" * 32), who) == _error(
        "MustCallBondingManager(string)", ["string"], ["bondFor"])


def test_only_past_rounds_can_be_queried(chain):
    v = chain.c("BondingVotes").functions
    who = chain.accounts[1]
    rnd = chain.next_round()
    expected = _error("FutureLookup(uint256,uint256)", ["uint256", "uint256"], [rnd, rnd - 1])
    assert custom_error_data(chain, v.getPastVotes(who, rnd), who) == expected
    assert custom_error_data(chain, v.getPastTotalSupply(rnd), who) == expected
    assert custom_error_data(chain, v.delegatedAt(who, rnd), who) == expected
    assert v.getPastVotes(who, rnd - 1).call() == 0


def test_only_the_bonding_manager_writes_checkpoints(chain):
    v = chain.c("BondingVotes").functions
    who = chain.accounts[1]
    data = custom_error_data(chain, v.checkpointTotalActiveStake(1, 1), who)
    assert data == _error("InvalidCaller(address,address)", ["address", "address"],
                          [who, chain.protocol.address("BondingManager")])


def test_voting_power_follows_stake_by_round(chain):
    """Transcoder power = delegated stake; delegator power = its stake with rewards; power counts from
    the round after the change; total supply = active stake."""
    o, d, lonely, target = chain.accounts[1], chain.accounts[2], chain.accounts[3], chain.accounts[4]
    bm = chain.c("BondingManager").functions
    votes = chain.c("BondingVotes")
    v = votes.functions
    r0 = chain.next_round()
    chain.register_transcoder(o, 600 * LPT, 100_000, 0)
    chain.mint_lpt(d, 400 * LPT)
    chain.send(chain.c("LivepeerToken").functions.approve(chain.protocol.address("BondingManager"), 400 * LPT), d)
    receipt = chain.send(bm.bond(400 * LPT, o), d)
    (changed,) = events(receipt, votes, "DelegateChanged")
    assert (changed.args.delegator, changed.args.fromDelegate, changed.args.toDelegate) == (d, ZERO_ADDRESS, o)
    vchanges = events(receipt, votes, "DelegateVotesChanged")
    assert [(e.args.delegate, e.args.previousBalance, e.args.newBalance) for e in vchanges] == [
        (o, 600 * LPT, 1_000 * LPT)]
    (bonded_ev,) = events(receipt, votes, "DelegatorBondedAmountChanged")
    assert (bonded_ev.args.delegate, bonded_ev.args.newBondedAmount, bonded_ev.args.newLastClaimRound) == (
        d, 400 * LPT, r0)
    # a delegator of an address that is not a registered transcoder
    chain.bond(lonely, 50 * LPT, target)

    assert v.getVotes(o).call() == 1_000 * LPT  # effective next round
    assert v.getVotes(d).call() == 400 * LPT
    assert v.getVotes(lonely).call() == 0
    assert v.delegates(d).call() == o
    assert v.totalSupply().call() == 0  # nothing active in r0

    r1 = chain.next_round()
    assert v.getPastVotes(o, r0).call() == 1_000 * LPT
    assert v.getPastVotes(o, r0 - 1).call() == 0
    assert v.getPastVotes(lonely, r0).call() == 0
    assert v.delegatedAt(d, r0).call() == o
    assert v.delegatedAt(d, r0 - 1).call() == ZERO_ADDRESS
    assert v.getTotalActiveStakeAt(r1).call() == 1_000 * LPT == v.totalSupply().call()
    assert v.getVotesAndDelegateAtRoundStart(d, r1).call() == [400 * LPT, o]

    chain.send(bm.reward(), o)
    rewards = bm.transcoderTotalStake(o).call() - 1_000 * LPT
    assert rewards > 0
    assert v.getVotes(o).call() == 1_000 * LPT + rewards
    assert v.getVotes(d).call() == bm.pendingStake(d, 0).call() > 400 * LPT
    assert v.getVotesAndDelegateAtRoundStart(d, r1).call() == [400 * LPT, o]  # unchanged for r1's start

    r2 = chain.next_round()
    assert v.getPastVotes(d, r1).call() == bm.pendingStake(d, 0).call()
    assert v.getPastVotes(o, r1).call() == 1_000 * LPT + rewards
    assert v.getPastTotalSupply(r1).call() == 1_000 * LPT
    assert v.getTotalActiveStakeAt(r2).call() == 1_000 * LPT + rewards

    # the transcoder leaves: its delegators' power is gone from the next round
    chain.send(bm.unbond(bm.pendingStake(o, 0).call()), o)  # everything, rewards included
    assert v.getVotes(o).call() == 0
    assert v.getVotes(d).call() == 0
    assert v.delegates(o).call() == ZERO_ADDRESS


def test_total_active_stake_before_initialization_is_the_pending_snapshot(chain):
    v = chain.c("BondingVotes").functions
    o = chain.accounts[1]
    chain.next_round()
    chain.register_transcoder(o, 70 * LPT)
    rnd = chain.mine_to_next_round()
    assert v.getTotalActiveStakeAt(rnd).call() == 70 * LPT  # what initializeRound will record
    assert v.getTotalActiveStakeAt(rnd - 1).call() == 0
    chain.send(chain.c("RoundsManager").functions.initializeRound(), chain.deployer)
    assert v.getTotalActiveStakeAt(rnd).call() == 70 * LPT


def test_accounts_without_checkpoint_vote_zero_until_checkpointed(chain):
    v = chain.c("BondingVotes").functions
    who = chain.accounts[9]
    assert v.hasCheckpoint(who).call() is False
    assert v.getVotes(who).call() == 0
