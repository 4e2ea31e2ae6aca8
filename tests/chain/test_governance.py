"""LivepeerGovernor + Treasury on a real anvil: proposals, votes with delegator overrides, quorum and
quota outcomes, and a treasury transfer queued and executed through the timelock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from tests.chain.abi import abi_index
from tests.chain.helpers import LPT, custom_error_data, register_orchestrator

AGAINST, FOR, ABSTAIN = 0, 1, 2
PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
ORCH_STAKE = 1_000 * LPT
DELEGATOR_STAKE = 400 * LPT


@dataclass
class Proposal:
    id: int
    targets: list
    values: list
    calldatas: list
    description: str

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)

    @property
    def exec_args(self) -> tuple:
        return (self.targets, self.values, self.calldatas, self.description_hash)


@pytest.fixture
def gov(chain):
    return chain.c("LivepeerGovernor")


@pytest.fixture
def stakers(chain):
    """An active orchestrator O (1,000 LPT self-bond) with one delegator D (400 LPT)."""
    chain.next_round()
    orch, delegator = chain.accounts[1], chain.accounts[2]
    register_orchestrator(chain, orch, ORCH_STAKE)
    chain.bond(delegator, DELEGATOR_STAKE, orch)
    chain.next_round()
    return orch, delegator


def advance_to_round(chain, target: int) -> None:
    while chain.current_round() < target:
        chain.next_round()


def propose_transfer(chain, gov, proposer, recipient, amount, description="Fund the devnet grants") -> Proposal:
    token = chain.c("LivepeerToken")
    targets = [token.address]
    values = [0]
    calldatas = [token.encode_abi("transfer", args=[recipient, amount])]
    receipt = chain.send(gov.functions.propose(targets, values, calldatas, description), proposer)
    (created,) = gov.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    pid = created.args.proposalId
    assert pid == gov.functions.hashProposal(targets, values, calldatas, keccak(text=description)).call()
    assert created.args.proposer == proposer and created.args.description == description
    return Proposal(pid, targets, values, calldatas, description)


def open_voting(chain, gov, proposal: Proposal) -> None:
    advance_to_round(chain, gov.functions.proposalSnapshot(proposal.id).call() + 1)
    assert gov.functions.state(proposal.id).call() == ACTIVE


def close_voting(chain, gov, proposal: Proposal) -> None:
    advance_to_round(chain, gov.functions.proposalDeadline(proposal.id).call() + 1)


def votes(gov, proposal: Proposal) -> tuple[int, int, int]:
    return tuple(gov.functions.proposalVotes(proposal.id).call())


# ------------------------------------------------------------------ settings and wiring


def test_governor_settings_and_wiring(chain, gov):
    p = chain.protocol.params
    assert gov.functions.name().call() == "LivepeerGovernor"
    assert gov.functions.COUNTING_MODE().call() == "support=bravo&quorum=for,abstain,against"
    assert gov.functions.votingDelay().call() == p.voting_delay
    assert gov.functions.votingPeriod().call() == p.voting_period
    assert gov.functions.proposalThreshold().call() == p.proposal_threshold
    assert gov.functions.quorumDenominator().call() == 1_000_000
    assert gov.functions.quorumNumerator().call() == p.quorum_numerator
    now = gov.functions.clock().call()
    assert gov.get_function_by_signature("quorumNumerator(uint256)")(now).call() == p.quorum_numerator
    assert gov.functions.quota().call() == p.quota
    bonding_votes = chain.protocol.address("BondingVotes")
    assert gov.functions.votes().call() == bonding_votes
    assert gov.functions.token().call() == bonding_votes
    assert gov.functions.timelock().call() == chain.protocol.address("Treasury")
    assert now == chain.current_round()  # timepoints are rounds
    assert gov.functions.CLOCK_MODE().call() == chain.c("BondingVotes").functions.CLOCK_MODE().call()


def test_treasury_roles_belong_to_the_governor(chain, gov):
    treasury = chain.c("Treasury")
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        role_id = getattr(treasury.functions, role)().call()
        assert treasury.functions.hasRole(role_id, gov.address).call(), role
        assert not treasury.functions.hasRole(role_id, chain.accounts[5]).call(), role
    assert treasury.functions.getMinDelay().call() == chain.protocol.params.treasury_min_delay


# ------------------------------------------------------------------ proposing


def test_proposing_needs_stake_over_the_threshold(chain, gov, stakers):
    stranger = chain.accounts[9]
    token = chain.c("LivepeerToken")
    calldata = token.encode_abi("transfer", args=[stranger, LPT])
    reason = chain.revert_reason(gov.functions.propose([token.address], [0], [calldata], "no stake"), stranger)
    assert "proposer votes below proposal threshold" in reason

    orch, _ = stakers
    proposal = propose_transfer(chain, gov, orch, stranger, LPT)
    assert gov.functions.state(proposal.id).call() == PENDING
    assert gov.functions.proposalProposer(proposal.id).call() == orch
    snapshot = gov.functions.proposalSnapshot(proposal.id).call()
    assert snapshot == chain.current_round() + chain.protocol.params.voting_delay
    assert gov.functions.proposalDeadline(proposal.id).call() == snapshot + chain.protocol.params.voting_period
    # Voting has not started yet.
    assert "vote not currently active" in chain.revert_reason(gov.functions.castVote(proposal.id, FOR), orch)


# ------------------------------------------------------------------ voting and overrides


def test_vote_with_reason_then_delegator_override(chain, gov, stakers):
    orch, delegator = stakers
    proposal = propose_transfer(chain, gov, orch, chain.accounts[9], LPT)
    open_voting(chain, gov, proposal)
    snapshot = gov.functions.proposalSnapshot(proposal.id).call()
    assert gov.functions.getVotes(orch, snapshot).call() == ORCH_STAKE + DELEGATOR_STAKE
    assert gov.functions.getVotes(delegator, snapshot).call() == DELEGATOR_STAKE

    receipt = chain.send(gov.functions.castVoteWithReason(proposal.id, FOR, "ship it"), orch)
    (cast,) = gov.events.VoteCast().process_receipt(receipt, errors=DISCARD)
    assert (cast.args.voter, cast.args.support, cast.args.reason) == (orch, FOR, "ship it")
    assert cast.args.weight == ORCH_STAKE + DELEGATOR_STAKE
    assert votes(gov, proposal) == (0, ORCH_STAKE + DELEGATOR_STAKE, 0)
    assert gov.functions.hasVoted(proposal.id, orch).call()
    assert not gov.functions.hasVoted(proposal.id, delegator).call()

    # The delegator disagrees: its 400 LPT leave the orchestrator's For and count as Against.
    receipt = chain.send(gov.functions.castVote(proposal.id, AGAINST), delegator)
    (cast,) = gov.events.VoteCast().process_receipt(receipt, errors=DISCARD)
    assert cast.args.weight == DELEGATOR_STAKE  # raw weight; the tally is in proposalVotes
    assert votes(gov, proposal) == (DELEGATOR_STAKE, ORCH_STAKE, 0)


def test_delegator_voting_first_reduces_the_orchestrator_weight(chain, gov, stakers):
    orch, delegator = stakers
    proposal = propose_transfer(chain, gov, orch, chain.accounts[9], LPT)
    open_voting(chain, gov, proposal)
    chain.send(gov.functions.castVote(proposal.id, ABSTAIN), delegator)
    assert votes(gov, proposal) == (0, 0, DELEGATOR_STAKE)
    receipt = chain.send(gov.functions.castVote(proposal.id, AGAINST), orch)
    (cast,) = gov.events.VoteCast().process_receipt(receipt, errors=DISCARD)
    assert cast.args.weight == ORCH_STAKE + DELEGATOR_STAKE
    assert votes(gov, proposal) == (ORCH_STAKE, 0, DELEGATOR_STAKE)


def test_bad_vote_type_and_double_vote_are_custom_errors(chain, gov, stakers):
    orch, _ = stakers
    proposal = propose_transfer(chain, gov, orch, chain.accounts[9], LPT)
    open_voting(chain, gov, proposal)
    data = custom_error_data(chain, gov.functions.castVote(proposal.id, 3), orch)
    assert data == "0x" + keccak(text="InvalidVoteType(uint8)")[:4].hex() + (3).to_bytes(32, "big").hex()
    chain.send(gov.functions.castVote(proposal.id, FOR), orch)
    data = custom_error_data(chain, gov.functions.castVote(proposal.id, AGAINST), orch)
    assert data == "0x" + keccak(text="VoteAlreadyCast()")[:4].hex()


# ------------------------------------------------------------------ outcomes


def test_quorum_is_a_share_of_past_active_stake(chain, gov, stakers):
    orch, delegator = stakers
    proposal = propose_transfer(chain, gov, orch, chain.accounts[9], LPT)
    open_voting(chain, gov, proposal)
    snapshot = gov.functions.proposalSnapshot(proposal.id).call()
    total = chain.c("BondingVotes").functions.getPastTotalSupply(snapshot).call()
    assert total == ORCH_STAKE + DELEGATOR_STAKE
    assert gov.functions.quorum(snapshot).call() == total * 333_300 // 1_000_000

    # Only the delegator votes: 400 LPT For is unanimous but under the 466.62 LPT quorum.
    chain.send(gov.functions.castVote(proposal.id, FOR), delegator)
    close_voting(chain, gov, proposal)
    assert votes(gov, proposal) == (0, DELEGATOR_STAKE, 0)
    assert gov.functions.state(proposal.id).call() == DEFEATED


def test_quota_decides_between_for_and_against(chain, gov, stakers):
    orch, delegator = stakers
    passing = propose_transfer(chain, gov, orch, chain.accounts[9], LPT, "orchestrator for, delegator against")
    failing = propose_transfer(chain, gov, orch, chain.accounts[9], LPT, "orchestrator against, delegator for")
    open_voting(chain, gov, passing)
    chain.send(gov.functions.castVote(passing.id, FOR), orch)
    chain.send(gov.functions.castVote(passing.id, AGAINST), delegator)
    chain.send(gov.functions.castVote(failing.id, AGAINST), orch)
    chain.send(gov.functions.castVote(failing.id, FOR), delegator)
    close_voting(chain, gov, passing)
    # 1,000 For vs 400 Against: 1,000 >= 50 % of 1,400.
    assert votes(gov, passing) == (DELEGATOR_STAKE, ORCH_STAKE, 0)
    assert gov.functions.state(passing.id).call() == SUCCEEDED
    # 400 For vs 1,000 Against: quorum reached, quota missed.
    assert votes(gov, failing) == (ORCH_STAKE, DELEGATOR_STAKE, 0)
    assert gov.functions.state(failing.id).call() == DEFEATED


def test_treasury_transfer_is_queued_and_executed(chain, gov, stakers):
    orch, _ = stakers
    treasury = chain.protocol.address("Treasury")
    token = chain.c("LivepeerToken")
    grantee = chain.accounts[9]
    chain.mint_lpt(treasury, 1_000 * LPT)
    proposal = propose_transfer(chain, gov, orch, grantee, 250 * LPT)
    open_voting(chain, gov, proposal)
    chain.send(gov.functions.castVote(proposal.id, FOR), orch)
    assert "Governor: proposal not successful" in chain.revert_reason(
        gov.functions.queue(*proposal.exec_args), orch
    )
    close_voting(chain, gov, proposal)
    assert gov.functions.state(proposal.id).call() == SUCCEEDED

    receipt = chain.send(gov.functions.queue(*proposal.exec_args), grantee)  # anyone may queue
    (queued,) = gov.events.ProposalQueued().process_receipt(receipt, errors=DISCARD)
    assert queued.args.proposalId == proposal.id
    assert gov.functions.state(proposal.id).call() == QUEUED
    assert gov.functions.proposalEta(proposal.id).call() > 0

    receipt = chain.send(gov.functions.execute(*proposal.exec_args), grantee)
    assert len(gov.events.ProposalExecuted().process_receipt(receipt, errors=DISCARD)) == 1
    assert gov.functions.state(proposal.id).call() == EXECUTED
    assert token.functions.balanceOf(grantee).call() == 250 * LPT
    assert token.functions.balanceOf(treasury).call() == 750 * LPT


def test_treasury_cannot_be_spent_directly(chain):
    treasury = chain.c("Treasury")
    token = chain.c("LivepeerToken")
    calldata = token.encode_abi("transfer", args=[chain.accounts[9], LPT])
    salt = b"\x00" * 32
    reason = chain.revert_reason(
        treasury.functions.schedule(token.address, 0, calldata, salt, salt, 0), chain.accounts[9]
    )
    assert "AccessControl: account" in reason and "is missing role" in reason


# ------------------------------------------------------------------ ABI conformance (protocol.md §2.8, §2.11)

GOVERNOR_SELECTORS = {
    "propose(address[],uint256[],bytes[],string)": "0x7d5e81e2",
    "castVote(uint256,uint8)": "0x56781388",
    "castVoteWithReason(uint256,uint8,string)": "0x7b3c71d3",
    "state(uint256)": "0x3e4f49e6",
    "proposalVotes(uint256)": "0x544ffc9c",
    "quota()": "0xcebe09c9",
}
GOVERNOR_TOPIC_PREFIXES = {
    "ProposalCreated(uint256,address,address[],uint256[],string[],bytes[],uint256,uint256,string)": "0x7d84a626",
    "VoteCast(address,uint256,uint8,uint256,string)": "0xb8e13888",
}
GOVERNOR_SURFACE = {
    "castVoteWithReasonAndParams(uint256,uint8,string,bytes)",
    "castVoteBySig(uint256,uint8,uint8,bytes32,bytes32)",
    "castVoteWithReasonAndParamsBySig(uint256,uint8,string,bytes,uint8,bytes32,bytes32)",
    "queue(address[],uint256[],bytes[],bytes32)",
    "execute(address[],uint256[],bytes[],bytes32)",
    "cancel(address[],uint256[],bytes[],bytes32)",
    "hashProposal(address[],uint256[],bytes[],bytes32)",
    "proposalSnapshot(uint256)",
    "proposalDeadline(uint256)",
    "proposalEta(uint256)",
    "proposalProposer(uint256)",
    "quorum(uint256)",
    "quorumNumerator()",
    "quorumNumerator(uint256)",
    "quorumDenominator()",
    "votingDelay()",
    "votingPeriod()",
    "proposalThreshold()",
    "hasVoted(uint256,address)",
    "getVotes(address,uint256)",
    "clock()",
    "CLOCK_MODE()",
    "COUNTING_MODE()",
    "name()",
    "version()",
    "token()",
    "timelock()",
    "votes()",
}
GOVERNOR_EVENTS = {
    "VoteCast(address,uint256,uint8,uint256,string)": [True, False, False, False, False],
    "VoteCastWithParams(address,uint256,uint8,uint256,string,bytes)": [True] + [False] * 5,
    "ProposalCreated(uint256,address,address[],uint256[],string[],bytes[],uint256,uint256,string)": [False] * 9,
    "ProposalQueued(uint256,uint256)": [False, False],
    "ProposalExecuted(uint256)": [False],
    "ProposalCanceled(uint256)": [False],
}


def test_governor_abi_matches_mainnet():
    functions = abi_index("LivepeerGovernor", "function")
    for sig, selector in GOVERNOR_SELECTORS.items():
        assert sig in functions, sig
        assert "0x" + keccak(text=sig)[:4].hex() == selector
    assert GOVERNOR_SURFACE <= set(functions), GOVERNOR_SURFACE - set(functions)
    assert [o["name"] for o in functions["proposalVotes(uint256)"]["outputs"]] == [
        "againstVotes",
        "forVotes",
        "abstainVotes",
    ]
    assert functions["state(uint256)"]["outputs"][0]["type"] == "uint8"
    assert functions["clock()"]["outputs"][0]["type"] == "uint48"
    events = abi_index("LivepeerGovernor", "event")
    for sig, prefix in GOVERNOR_TOPIC_PREFIXES.items():
        assert sig in events and "0x" + keccak(text=sig).hex()[:8] == prefix
    for sig, indexed in GOVERNOR_EVENTS.items():
        assert [i["indexed"] for i in events[sig]["inputs"]] == indexed, sig
    errors = abi_index("LivepeerGovernor", "error")
    assert {"InvalidVoteType(uint8)", "VoteAlreadyCast()"} <= set(errors)


def test_service_registry_abi_matches_mainnet():
    functions = abi_index("ServiceRegistry", "function")
    assert "0x" + keccak(text="setServiceURI(string)")[:4].hex() == "0x5f11301b"
    assert "0x" + keccak(text="getServiceURI(address)")[:4].hex() == "0x214c2a4b"
    assert {"setServiceURI(string)", "getServiceURI(address)"} <= set(functions)
    events = abi_index("ServiceRegistry", "event")
    assert [i["indexed"] for i in events["ServiceURIUpdate(address,string)"]["inputs"]] == [True, False]


def test_service_uri_in_both_registries(chain):
    orch = chain.accounts[1]
    registry, ai = chain.c("ServiceRegistry"), chain.c("AIServiceRegistry")
    receipt = chain.send(registry.functions.setServiceURI("https://127.0.0.1:8935"), orch)
    (ev,) = registry.events.ServiceURIUpdate().process_receipt(receipt, errors=DISCARD)
    assert (ev.args.addr, ev.args.serviceURI) == (orch, "https://127.0.0.1:8935")
    chain.send(ai.functions.setServiceURI("https://127.0.0.1:9935"), orch)
    assert registry.functions.getServiceURI(orch).call() == "https://127.0.0.1:8935"
    assert ai.functions.getServiceURI(orch).call() == "https://127.0.0.1:9935"
    assert registry.functions.getServiceURI(chain.accounts[2]).call() == ""
    assert registry.address != ai.address
