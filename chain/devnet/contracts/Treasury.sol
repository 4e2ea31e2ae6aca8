// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/governance/TimelockController.sol";

/// The community treasury (protocol.md §2.9): an OpenZeppelin 4.9 TimelockController. It holds the
/// treasury's LPT; the LivepeerGovernor is granted the proposer, canceller and executor roles.
contract Treasury is TimelockController {
    constructor(uint256 _minDelay, address[] memory _proposers, address[] memory _executors, address _admin)
        TimelockController(_minDelay, _proposers, _executors, _admin)
    {}
}
