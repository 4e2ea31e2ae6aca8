// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./interfaces/IAggregatorV3.sol";

/// An ETH/USD price feed with the Chainlink AggregatorV3 ABI, for the devnet: go-livepeer's
/// `-priceFeedAddr` (and lpc) read it exactly like the Arbitrum One feed. Instead of oracle reports,
/// its owner sets each answer with `updateAnswer`, which starts a new round.
///
/// Chainlink behaviour kept: answers are in USD with 8 decimals; every round answers itself
/// (answeredInRound == roundId); `getRoundData` of a round that never existed reverts with
/// "No data present". Round ids count up from 1 (no phase bits in the high part of the id).
contract EthUsdPriceFeed is IAggregatorV3 {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    uint8 public constant override decimals = 8;
    string public constant override description = "ETH / USD";
    uint256 public constant override version = 4;

    address public owner;
    uint80 public latestRound;
    mapping(uint80 => Round) private rounds;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    modifier onlyOwner() {
        require(msg.sender == owner, "caller must be owner");
        _;
    }

    constructor(int256 _initialAnswer) {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        _newRound(_initialAnswer);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "invalid new owner");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// Start a new round whose answer is `_answer` (USD per ETH, 8 decimals), updated now.
    function updateAnswer(int256 _answer) external onlyOwner {
        _newRound(_answer);
    }

    function getRoundData(uint80 _roundId)
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(_roundId);
    }

    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(latestRound);
    }

    function _round(uint80 _roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round storage r = rounds[_roundId];
        require(r.updatedAt > 0, "No data present");
        return (_roundId, r.answer, r.startedAt, r.updatedAt, _roundId);
    }

    function _newRound(int256 _answer) private {
        require(_answer > 0, "answer must be positive");
        uint80 roundId = latestRound + 1;
        latestRound = roundId;
        rounds[roundId] = Round(_answer, uint64(block.timestamp), uint64(block.timestamp));
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(_answer, roundId, block.timestamp);
    }
}
