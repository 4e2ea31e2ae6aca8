"""PollCreator / Poll on a real anvil: stake-gated creation, votes as events, end in "L1" blocks."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from chain.devnet.artifacts import load_artifact
from tests.chain.abi import abi_index
from tests.chain.helpers import LPT, register_orchestrator

L1_OFFSET = 20_000_000  # contracts/lib/L1Block.sol
PROPOSAL = bytes.fromhex("1220" + "ab" * 32)  # an IPFS multihash


@pytest.fixture
def creator(chain):
    return chain.c("PollCreator")


@pytest.fixture
def orch(chain):
    chain.next_round()
    addr = chain.accounts[1]
    register_orchestrator(chain, addr, 150 * LPT)
    return addr


def create_poll(chain, creator, who):
    receipt = chain.send(creator.functions.createPoll(PROPOSAL), who)
    (ev,) = creator.events.PollCreated().process_receipt(receipt, errors=DISCARD)
    poll = chain.w3.eth.contract(address=ev.args.poll, abi=load_artifact("Poll").abi)
    return poll, ev, receipt


def test_constants(chain, creator):
    assert creator.functions.QUORUM().call() == 333_300
    assert creator.functions.QUOTA().call() == 500_000
    assert creator.functions.POLL_CREATION_COST().call() == 100 * LPT
    # Devnet: 10 rounds of the devnet's round length (mainnet: the constant 57,600 = 10 × 5,760).
    assert creator.functions.POLL_PERIOD().call() == 10 * chain.protocol.params.round_length
    assert creator.functions.bondingManager().call() == chain.protocol.address("BondingManager")


def test_creating_a_poll_needs_100_lpt_of_stake(chain, creator, orch):
    delegator, poor = chain.accounts[2], chain.accounts[3]
    chain.bond(poor, 99 * LPT, orch)
    reason = chain.revert_reason(creator.functions.createPoll(PROPOSAL), poor)
    assert "PollCreator#createPoll: INSUFFICIENT_STAKE" in reason
    reason = chain.revert_reason(creator.functions.createPoll(PROPOSAL), chain.accounts[4])
    assert "PollCreator#createPoll: INSUFFICIENT_STAKE" in reason

    chain.bond(delegator, 100 * LPT, orch)
    balance = chain.c("LivepeerToken").functions.balanceOf(delegator).call()
    _, ev, _ = create_poll(chain, creator, delegator)  # a delegator with enough stake
    _, ev2, _ = create_poll(chain, creator, orch)  # an orchestrator
    assert ev.args.poll != ev2.args.poll
    # Creation only needs the stake; nothing is spent.
    assert chain.c("LivepeerToken").functions.balanceOf(delegator).call() == balance


def test_poll_end_block_is_in_l1_blocks(chain, creator, orch):
    poll, ev, receipt = create_poll(chain, creator, orch)
    period = creator.functions.POLL_PERIOD().call()
    assert ev.args.proposal == PROPOSAL
    assert (ev.args.quorum, ev.args.quota) == (333_300, 500_000)
    assert ev.args.endBlock == receipt.blockNumber + L1_OFFSET + period
    assert poll.functions.endBlock().call() == ev.args.endBlock
    assert ev.args.endBlock - chain.block_num() == period  # same domain as RoundsManager.blockNum()


def test_votes_until_the_end_block_then_poll_is_over(chain, creator, orch):
    poll, ev, _ = create_poll(chain, creator, orch)
    voter = chain.accounts[5]
    receipt = chain.send(poll.functions.vote(0), voter)
    (vote,) = poll.events.Vote().process_receipt(receipt, errors=DISCARD)
    assert (vote.args.voter, vote.args.choiceID) == (voter, 0)
    chain.send(poll.functions.vote(1), voter)  # changing one's mind is allowed

    # The vote mined in block endBlock is still in time.
    chain.mine(ev.args.endBlock - chain.block_num() - 1)
    chain.send(poll.functions.vote(1), orch)
    assert chain.block_num() == ev.args.endBlock
    chain.mine(1)  # now past endBlock
    assert "poll is over" in chain.revert_reason(poll.functions.vote(0), voter)


def test_poll_abi_matches_mainnet():
    functions = abi_index("PollCreator", "function")
    assert "0x" + keccak(text="createPoll(bytes)")[:4].hex() == "0x4d2942ab"
    assert {"createPoll(bytes)", "QUORUM()", "QUOTA()", "POLL_PERIOD()", "POLL_CREATION_COST()"} <= set(functions)
    events = abi_index("PollCreator", "event")
    sig = "PollCreated(address,bytes,uint256,uint256,uint256)"
    assert "0x" + keccak(text=sig).hex()[:8] == "0x8afbc4e1"
    assert [i["indexed"] for i in events[sig]["inputs"]] == [True, False, False, False, False]
    poll_functions = abi_index("Poll", "function")
    assert "0x" + keccak(text="vote(uint256)")[:4].hex() == "0x0121b93f"
    assert {"vote(uint256)", "endBlock()"} <= set(poll_functions)
    poll_events = abi_index("Poll", "event")
    assert "0x" + keccak(text="Vote(address,uint256)").hex()[:8] == "0xf668ead0"
    assert [i["indexed"] for i in poll_events["Vote(address,uint256)"]["inputs"]] == [True, False]
