"""Governance, polls and earnings on the seeded devnet: tallies from the contracts, votes sent and
decoded, refusals before signing; per-round earnings that add up to pendingStake/pendingFees."""

from __future__ import annotations

import pytest

from chain.intents import PreflightError
from chain.reads import load_account
from chain.services import governance
from chain.services.earnings import earnings
from chain.services.governance import ProposalState
from tests.chain.seeded import *  # noqa: F403
from tests.chain.seeded import Dev


def _active(client):
    return next(p for p in governance.list_proposals(client) if p.state is ProposalState.ACTIVE)


def test_proposals_carry_the_governors_state_and_tally(client):
    proposals = governance.list_proposals(client)
    assert {p.state for p in proposals} >= {ProposalState.ACTIVE, ProposalState.EXECUTED}
    gov = client.contract("LivepeerGovernor").functions
    for p in proposals:
        assert (p.against_votes, p.for_votes, p.abstain_votes) == tuple(gov.proposalVotes(p.id).call())
        assert p.state == gov.state(p.id).call()
        assert (p.snapshot, p.deadline) == (gov.proposalSnapshot(p.id).call(), gov.proposalDeadline(p.id).call())
        assert p.quorum == gov.quorum(p.snapshot).call()
        assert p.title.startswith("LIP-D")


def test_vote_with_reason_and_a_delegator_override(client, dev: Dev):
    p = _active(client)
    orch = dev.orchestrator(3)
    power = governance.voting_power(client, orch.address, p)
    assert power == client.contract("BondingVotes").functions.getPastVotes(orch.address, p.snapshot).call() > 0
    plan = governance.vote(client, orch.address, p.id, "for", "Benchmarks help everyone.")
    (intent,) = plan.intents
    assert intent.action == "castVoteWithReason" and "Vote for" in intent.summary
    ev = send(client, plan, orch)[0].event("VoteCast")
    assert ev.args["support"] == 1 and ev.args["reason"] == "Benchmarks help everyone."
    assert ev.args["weight"] == power
    after = governance.find_proposal(client, p.id)
    assert after.for_votes == p.for_votes + power

    # a delegator of orchestrator 1 (who voted for) votes against: its weight leaves the "for" bucket
    dele = dev.delegator(5)
    d_power = governance.voting_power(client, dele.address, p)
    send(client, governance.vote(client, dele.address, p.id, "against"), dele)
    final = governance.find_proposal(client, p.id)
    assert final.against_votes == after.against_votes + d_power
    assert final.for_votes == after.for_votes - d_power


def test_vote_refusals(client, dev: Dev):
    p = _active(client)
    with pytest.raises(PreflightError, match="has already voted"):
        governance.vote(client, dev.orchestrator(1).address, p.id, "against")
    with pytest.raises(PreflightError, match="no voting power") as err:
        governance.vote(client, dev.account(57).address, p.id, "for")
    assert "before the snapshot round" in err.value.fix
    executed = next(x for x in governance.list_proposals(client) if x.state is ProposalState.EXECUTED)
    with pytest.raises(PreflightError, match="is Executed, not open for voting"):
        governance.vote(client, dev.orchestrator(3).address, executed.id, "for")
    with pytest.raises(PreflightError, match="not a vote"):
        governance.vote(client, dev.orchestrator(3).address, p.id, "maybe")
    with pytest.raises(PreflightError, match="no proposal 12345"):
        governance.vote(client, dev.orchestrator(3).address, 12345, "for")


def test_poll_tally_and_vote(client, dev: Dev):
    (poll,) = governance.list_polls(client)
    assert poll.active and poll.voters == 5
    bm = client.contract("BondingManager").functions
    stake = [bm.transcoderTotalStake(dev.orchestrator(i).address).call() for i in range(6)]
    d0 = bm.pendingStake(dev.delegator(0).address, 0).call()  # delegates to orchestrator 0 and voted no
    assert poll.yes == (stake[0] - d0) + stake[1] + stake[5]
    assert poll.no == stake[2] + d0
    voter = dev.delegator(7)
    plan = governance.poll_vote(client, voter.address, poll.address, "yes")
    ev = send(client, plan, voter)[0].event("Vote")
    assert ev.args["voter"] == voter.address and ev.args["choiceID"] == 0
    assert governance.list_polls(client)[0].voters == 6
    with pytest.raises(PreflightError, match="not a poll choice"):
        governance.poll_vote(client, voter.address, poll.address, "abstain")
    with pytest.raises(PreflightError, match="not a poll created by the PollCreator"):
        governance.poll_vote(client, voter.address, client.address("BondingManager"), "yes")
    rm = client.contract("RoundsManager").functions
    dev.mine(poll.end_block - rm.blockNum().call() + 1)
    with pytest.raises(PreflightError, match="ended at L1 block"):
        governance.poll_vote(client, voter.address, poll.address, "no")


def test_earnings_per_round_add_up_to_pending_stake_and_fees(client, dev: Dev):
    for who, is_orch in ((dev.delegator(0), False), (dev.orchestrator(0), True)):
        e = earnings(client, who.address)
        acct = load_account(client, who.address)
        assert e.rounds and e.rounds[-1].round == acct.round.number
        assert e.rounds[-1].stake + e.commission_rewards == acct.pending_stake
        assert acct.fees + sum(r.fees for r in e.rounds) + e.commission_fees == acct.pending_fees
        assert (e.commission_rewards > 0) == is_orch
        assert any(r.rewards > 0 for r in e.rounds)
        assert e.claimed and all(c.end_round <= acct.last_claim_round for c in e.claimed)
