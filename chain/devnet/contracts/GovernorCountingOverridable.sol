// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/governance/Governor.sol";

import "./interfaces/IProtocol.sol";

/// Vote counting for the LivepeerGovernor (protocol.md §2.8), written for the devnet.
///
/// Bravo-style support (0 Against, 1 For, 2 Abstain) with a delegator override: an orchestrator's
/// voting power includes its delegators' stake, so when a delegator votes itself its weight is taken
/// out of what its orchestrator (the address it delegated to at the snapshot, if that address was
/// self-delegated then) counts, whichever of the two votes first.
///
/// Quorum: for + against + abstain >= quorum(snapshot). Success: for >= (for + against) * quota / 1e6.
abstract contract GovernorCountingOverridable is Governor {
    error InvalidVoteType(uint8 voteType);
    error VoteAlreadyCast();

    event QuotaUpdate(uint256 previousQuota, uint256 newQuota);

    uint256 public constant PERC_DIVISOR = 1_000_000;

    enum VoteType {
        Against,
        For,
        Abstain
    }

    struct ProposalVoterState {
        bool hasVoted;
        VoteType support;
        uint256 deductions; // weight of this orchestrator's delegators that voted themselves
    }

    struct ProposalTally {
        uint256 againstVotes;
        uint256 forVotes;
        uint256 abstainVotes;
        mapping(address => ProposalVoterState) voters;
    }

    /// Share of for+against that must be For for a proposal to succeed, over PERC_DIVISOR.
    uint256 public quota;

    mapping(uint256 => ProposalTally) private _tallies;

    constructor(uint256 _quota) {
        _setQuota(_quota);
    }

    /// The BondingVotes contract that supplies voting power and delegation history.
    function votes() public view virtual returns (IBondingVotes);

    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure virtual override returns (string memory) {
        return "support=bravo&quorum=for,abstain,against";
    }

    function hasVoted(uint256 _proposalId, address _account) public view virtual override returns (bool) {
        return _tallies[_proposalId].voters[_account].hasVoted;
    }

    /// The tally after delegator overrides. Never sum VoteCast events: their weights are raw.
    function proposalVotes(uint256 _proposalId)
        public
        view
        virtual
        returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)
    {
        ProposalTally storage tally = _tallies[_proposalId];
        return (tally.againstVotes, tally.forVotes, tally.abstainVotes);
    }

    function setQuota(uint256 _quota) external onlyGovernance {
        _setQuota(_quota);
    }

    function _setQuota(uint256 _quota) internal {
        require(_quota <= PERC_DIVISOR, "quota over divisor");
        emit QuotaUpdate(quota, _quota);
        quota = _quota;
    }

    function _quorumReached(uint256 _proposalId) internal view virtual override returns (bool) {
        ProposalTally storage tally = _tallies[_proposalId];
        uint256 total = tally.againstVotes + tally.forVotes + tally.abstainVotes;
        return quorum(proposalSnapshot(_proposalId)) <= total;
    }

    function _voteSucceeded(uint256 _proposalId) internal view virtual override returns (bool) {
        ProposalTally storage tally = _tallies[_proposalId];
        uint256 decisive = tally.againstVotes + tally.forVotes;
        return tally.forVotes >= (decisive * quota) / PERC_DIVISOR;
    }

    function _countVote(uint256 _proposalId, address _account, uint8 _support, uint256 _weight, bytes memory)
        internal
        virtual
        override
    {
        if (_support > uint8(VoteType.Abstain)) {
            revert InvalidVoteType(_support);
        }
        ProposalTally storage tally = _tallies[_proposalId];
        ProposalVoterState storage voter = tally.voters[_account];
        if (voter.hasVoted) {
            revert VoteAlreadyCast();
        }
        voter.hasVoted = true;
        voter.support = VoteType(_support);

        uint256 counted = _applyOverride(_proposalId, tally, voter, _account, _weight);
        _addVotes(tally, voter.support, counted);
    }

    /// Returns the weight this voter adds to its chosen bucket after overrides.
    function _applyOverride(
        uint256 _proposalId,
        ProposalTally storage _tally,
        ProposalVoterState storage _voter,
        address _account,
        uint256 _weight
    ) internal returns (uint256) {
        uint256 snapshot = proposalSnapshot(_proposalId);
        IBondingVotes bondingVotes = votes();
        address delegate = bondingVotes.delegatedAt(_account, snapshot);

        if (delegate == _account) {
            // An orchestrator: its delegators that already voted keep their own weight.
            return _weight > _voter.deductions ? _weight - _voter.deductions : 0;
        }
        if (delegate == address(0) || bondingVotes.delegatedAt(delegate, snapshot) != delegate) {
            // Not delegated to an orchestrator: nothing of this weight sits in anyone else's vote.
            return _weight;
        }

        ProposalVoterState storage orchestrator = _tally.voters[delegate];
        orchestrator.deductions += _weight;
        if (orchestrator.hasVoted) {
            _subVotes(_tally, orchestrator.support, _weight);
        }
        return _weight;
    }

    function _addVotes(ProposalTally storage _tally, VoteType _support, uint256 _amount) private {
        if (_support == VoteType.Against) {
            _tally.againstVotes += _amount;
        } else if (_support == VoteType.For) {
            _tally.forVotes += _amount;
        } else {
            _tally.abstainVotes += _amount;
        }
    }

    /// Saturates at zero: rounding between a delegator's power and its orchestrator's must not revert.
    function _subVotes(ProposalTally storage _tally, VoteType _support, uint256 _amount) private {
        if (_support == VoteType.Against) {
            _tally.againstVotes -= _min(_amount, _tally.againstVotes);
        } else if (_support == VoteType.For) {
            _tally.forVotes -= _min(_amount, _tally.forVotes);
        } else {
            _tally.abstainVotes -= _min(_amount, _tally.abstainVotes);
        }
    }

    function _min(uint256 _a, uint256 _b) private pure returns (uint256) {
        return _a < _b ? _a : _b;
    }
}
