// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./lib/L1Block.sol";

/// A LIP signalling poll (protocol.md §2.10). Votes are only recorded as events; the stake-weighted
/// tally is computed off-chain. 0 = Yes, 1 = No; voting again replaces the earlier vote off-chain.
/// `endBlock` is in the protocol's "L1" block domain, the same one as RoundsManager.blockNum().
contract Poll {
    uint256 public endBlock;

    event Vote(address indexed voter, uint256 choiceID);

    modifier isActive() {
        require(L1Block.number() <= endBlock, "poll is over");
        _;
    }

    constructor(uint256 _endBlock) {
        endBlock = _endBlock;
    }

    function vote(uint256 _choiceID) external isActive {
        emit Vote(msg.sender, _choiceID);
    }
}
