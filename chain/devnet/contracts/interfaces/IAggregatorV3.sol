// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// What a client may use of a Chainlink price feed: the AggregatorV3Interface functions, plus the two
/// events every Chainlink aggregator emits when a round starts and when its answer is set. The client
/// ABI chain/abi/AggregatorV3.json is generated from this interface, so it holds nothing that only our
/// devnet feed has (such as updateAnswer).
interface IAggregatorV3 {
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 _roundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
