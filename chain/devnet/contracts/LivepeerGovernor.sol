// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/governance/Governor.sol";
import "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import "@openzeppelin/contracts/governance/TimelockController.sol";

import "./GovernorCountingOverridable.sol";
import "./interfaces/IController.sol";
import "./interfaces/IProtocol.sol";

/// The treasury governor (protocol.md §2.8, §3.8): OpenZeppelin Governor 4.9 with voting power from
/// BondingVotes (so every timepoint is a round), quorum as a share of past total active stake over
/// 1,000,000, proposals executed through the Treasury timelock, and delegator vote overrides.
/// Mainnet deploys it behind a proxy with an initializer; the devnet uses a plain constructor that
/// resolves BondingVotes and Treasury from the Controller once.
contract LivepeerGovernor is
    Governor,
    GovernorSettings,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorCountingOverridable
{
    IController public immutable controller;

    constructor(
        address _controller,
        uint256 _votingDelay,
        uint256 _votingPeriod,
        uint256 _proposalThreshold,
        uint256 _quorumNumerator,
        uint256 _quota
    )
        Governor("LivepeerGovernor")
        GovernorSettings(_votingDelay, _votingPeriod, _proposalThreshold)
        GovernorVotes(IVotes(_lookup(_controller, "BondingVotes")))
        GovernorVotesQuorumFraction(_quorumNumerator)
        GovernorTimelockControl(TimelockController(payable(_lookup(_controller, "Treasury"))))
        GovernorCountingOverridable(_quota)
    {
        controller = IController(_controller);
    }

    function _lookup(address _controller, string memory _name) private view returns (address addr) {
        addr = IController(_controller).getContract(keccak256(bytes(_name)));
        require(addr != address(0), string.concat(_name, " is not registered in the Controller"));
    }

    /// The BondingVotes contract (the same address as token()).
    function votes() public view override returns (IBondingVotes) {
        return IBondingVotes(address(token));
    }

    function quorumDenominator() public pure override returns (uint256) {
        return PERC_DIVISOR;
    }

    // ------------------------------------------------ resolution of the multiple-inheritance overlaps

    function votingDelay() public view override(IGovernor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(IGovernor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function quorum(uint256 _timepoint) public view override(IGovernor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(_timepoint);
    }

    function state(uint256 _proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(_proposalId);
    }

    function propose(
        address[] memory _targets,
        uint256[] memory _values,
        bytes[] memory _calldatas,
        string memory _description
    ) public override(Governor, IGovernor) returns (uint256) {
        return super.propose(_targets, _values, _calldatas, _description);
    }

    function _execute(
        uint256 _proposalId,
        address[] memory _targets,
        uint256[] memory _values,
        bytes[] memory _calldatas,
        bytes32 _descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._execute(_proposalId, _targets, _values, _calldatas, _descriptionHash);
    }

    function _cancel(
        address[] memory _targets,
        uint256[] memory _values,
        bytes[] memory _calldatas,
        bytes32 _descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(_targets, _values, _calldatas, _descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    function supportsInterface(bytes4 _interfaceId) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.supportsInterface(_interfaceId);
    }
}
