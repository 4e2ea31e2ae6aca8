// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// On Arbitrum One `block.number` inside a contract is (about) the L1 Ethereum block number, not the
/// L2 number that `eth_blockNumber` returns. The devnet mimics that split: every protocol contract
/// reads "L1" time through this library, which is offset from the anvil block number, so a client
/// that wrongly uses `eth_blockNumber` for round maths is caught by the tests.
library L1Block {
    uint256 internal constant OFFSET = 20_000_000;

    function number() internal view returns (uint256) {
        return block.number + OFFSET;
    }
}
