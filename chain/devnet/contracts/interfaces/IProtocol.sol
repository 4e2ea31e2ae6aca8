// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The calls protocol contracts make to each other. Names and signatures follow the deployed
/// contracts (protocol.md §2, §6.2). Each contract resolves the others from the Controller by name.

interface IRoundsManager {
    function blockNum() external view returns (uint256);
    function blockHash(uint256 _block) external view returns (bytes32);
    function blockHashForRound(uint256 _round) external view returns (bytes32);
    function currentRound() external view returns (uint256);
    function currentRoundStartBlock() external view returns (uint256);
    function currentRoundInitialized() external view returns (bool);
    function currentRoundLocked() external view returns (bool);
    function roundLength() external view returns (uint256);
}

interface IMinter {
    function createReward(uint256 _fracNum, uint256 _fracDenom) external returns (uint256);
    function trustedTransferTokens(address _to, uint256 _amount) external;
    function trustedBurnTokens(uint256 _amount) external;
    function trustedWithdrawETH(address payable _to, uint256 _amount) external;
    function depositETH() external payable returns (bool);
    function setCurrentRewardTokens() external;
    function currentMintableTokens() external view returns (uint256);
    function currentMintedTokens() external view returns (uint256);
    function getGlobalTotalSupply() external view returns (uint256);
}

interface IBondingManager {
    // called by RoundsManager.initializeRound
    function setCurrentRoundTotalActiveStake() external;
    // called by TicketBroker on each winning ticket
    function updateTranscoderWithFees(address _transcoder, uint256 _fees, uint256 _round) external;
    // views used by TicketBroker, BondingVotes, governance and PollCreator
    function getTranscoderPoolSize() external view returns (uint256);
    function isActiveTranscoder(address _transcoder) external view returns (bool);
    function isRegisteredTranscoder(address _transcoder) external view returns (bool);
    function transcoderTotalStake(address _transcoder) external view returns (uint256);
    function pendingStake(address _delegator, uint256 _endRound) external view returns (uint256);
    function currentRoundTotalActiveStake() external view returns (uint256);
    function getDelegator(address _delegator)
        external
        view
        returns (
            uint256 bondedAmount,
            uint256 fees,
            address delegateAddress,
            uint256 delegatedAmount,
            uint256 startRound,
            uint256 lastClaimRound,
            uint256 nextUnbondingLockId
        );
}

/// ERC-5805-style voting power keyed by round. BondingManager writes checkpoints after every change
/// of an account's bonding state and once per round for the total active stake.
interface IBondingVotes {
    function checkpointBondingState(
        address _account,
        uint256 _startRound,
        uint256 _bondedAmount,
        address _delegateAddress,
        uint256 _delegatedAmount,
        uint256 _lastClaimRound,
        uint256 _lastRewardRound
    ) external;

    function checkpointTotalActiveStake(uint256 _totalStake, uint256 _round) external;

    function clock() external view returns (uint48);
    function getPastVotes(address _account, uint256 _round) external view returns (uint256);
    function getPastTotalSupply(uint256 _round) external view returns (uint256);
    function delegatedAt(address _account, uint256 _round) external view returns (address);
    function getVotesAndDelegateAtRoundStart(address _account, uint256 _round)
        external
        view
        returns (uint256 votes, address delegateAddress);
}

interface ILivepeerToken {
    function balanceOf(address _account) external view returns (uint256);
    function totalSupply() external view returns (uint256);
    function transfer(address _to, uint256 _amount) external returns (bool);
    function transferFrom(address _from, address _to, uint256 _amount) external returns (bool);
    function mint(address _to, uint256 _amount) external;
    function burn(uint256 _amount) external;
}
