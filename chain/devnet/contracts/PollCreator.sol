// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./Poll.sol";
import "./interfaces/IController.sol";
import "./interfaces/IProtocol.sol";
import "./lib/L1Block.sol";

/// Creates LIP signalling polls (protocol.md §2.10). Not registered in the Controller (as on mainnet);
/// it resolves the BondingManager and RoundsManager from the Controller when it needs them.
///
/// Devnet difference: mainnet's POLL_PERIOD is the constant 57,600 (10 rounds of 5,760 L1 blocks).
/// Here rounds are a few blocks long, so the period is 10 × RoundsManager.roundLength(), read when a
/// poll is created; POLL_PERIOD() returns that value, i.e. the period the next poll will get.
contract PollCreator {
    uint256 public constant QUORUM = 333300; // 33.33 % of stake must take part
    uint256 public constant QUOTA = 500000; // 50 % of the votes cast must be Yes
    uint256 public constant POLL_CREATION_COST = 100 * 1e18; // stake the creator must hold (not spent)
    uint256 public constant POLL_PERIOD_ROUNDS = 10;

    IController public immutable controller;

    event PollCreated(address indexed poll, bytes proposal, uint256 endBlock, uint256 quorum, uint256 quota);

    constructor(address _controller) {
        controller = IController(_controller);
    }

    function POLL_PERIOD() public view returns (uint256) {
        return POLL_PERIOD_ROUNDS * IRoundsManager(_resolve("RoundsManager")).roundLength();
    }

    function bondingManager() public view returns (address) {
        return _resolve("BondingManager");
    }

    /// `_proposal` is the IPFS multihash of the LIP text.
    function createPoll(bytes calldata _proposal) external {
        IBondingManager bonding = IBondingManager(bondingManager());
        require(
            bonding.transcoderTotalStake(msg.sender) >= POLL_CREATION_COST ||
                bonding.pendingStake(msg.sender, 0) >= POLL_CREATION_COST,
            "PollCreator#createPoll: INSUFFICIENT_STAKE"
        );
        uint256 endBlock = L1Block.number() + POLL_PERIOD();
        Poll poll = new Poll(endBlock);
        emit PollCreated(address(poll), _proposal, endBlock, QUORUM, QUOTA);
    }

    function _resolve(string memory _name) internal view returns (address) {
        return controller.getContract(keccak256(bytes(_name)));
    }
}
