// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./Manager.sol";
import "./interfaces/IProtocol.sol";
import "./lib/L1Block.sol";
import "./lib/PreciseMath.sol";

/// Round progression (protocol.md §2.2, §3.6). Rounds are counted in "L1" blocks (`blockNum()`, which
/// differs from the anvil block number as it does on Arbitrum One). A round must be initialized once
/// before anything else happens in it; initialization snapshots the active stake and the round's
/// mintable tokens and records a block hash that winning tickets are checked against.
contract RoundsManager is Manager {
    uint256 public roundLength;
    uint256 public roundLockAmount; // MathUtils percentage (1e6 = 100 %) of the round that is locked
    uint256 public lastInitializedRound;
    uint256 public lastRoundLengthUpdateRound;
    uint256 public lastRoundLengthUpdateStartBlock;
    uint256 public nextRoundLength; // a round length change takes effect when the next round is initialized

    mapping(uint256 => bytes32) internal _roundBlockHash;
    mapping(uint256 => uint256) public lipUpgradeRound;

    event NewRound(uint256 indexed round, bytes32 blockHash);

    constructor(address _controller) Manager(_controller) {}

    // --- owner parameters ---

    function setRoundLength(uint256 _roundLength) external onlyControllerOwner {
        require(_roundLength > 0, "round length cannot be 0");
        if (roundLength == 0) {
            // The first setting anchors the round numbering at the current block.
            roundLength = _roundLength;
            lastRoundLengthUpdateRound = currentRound();
            lastRoundLengthUpdateStartBlock = currentRoundStartBlock();
        } else {
            nextRoundLength = _roundLength;
        }
        emit ParameterUpdate("roundLength");
    }

    function setRoundLockAmount(uint256 _roundLockAmount) external onlyControllerOwner {
        require(MathUtils.validPerc(_roundLockAmount), "round lock amount must be a valid percentage");
        roundLockAmount = _roundLockAmount;
        emit ParameterUpdate("roundLockAmount");
    }

    function setLIPUpgradeRound(uint256 _lip, uint256 _round) external onlyControllerOwner {
        require(lipUpgradeRound[_lip] == 0, "LIP upgrade round already set");
        lipUpgradeRound[_lip] = _round;
        emit ParameterUpdate("lipUpgradeRound");
    }

    // --- round initialization ---

    function initializeRound() external whenSystemNotPaused {
        uint256 round = currentRound();
        require(lastInitializedRound < round, "round already initialized");
        lastInitializedRound = round;

        bytes32 hash = blockhash(block.number - 1);
        _roundBlockHash[round] = hash;

        IBondingManager(_resolve("BondingManager")).setCurrentRoundTotalActiveStake();
        IMinter(_resolve("Minter")).setCurrentRewardTokens();

        if (nextRoundLength > 0 && nextRoundLength != roundLength) {
            // Re-anchor so that the new length applies from this round's start.
            lastRoundLengthUpdateStartBlock = currentRoundStartBlock();
            lastRoundLengthUpdateRound = round;
            roundLength = nextRoundLength;
        }
        nextRoundLength = 0;

        emit NewRound(round, hash);
    }

    // --- views ---

    function blockNum() public view returns (uint256) {
        return L1Block.number();
    }

    /// Hash of a recent "L1" block (same numbering as `blockNum()`), only for the last 256 blocks.
    function blockHash(uint256 _block) public view returns (bytes32) {
        uint256 current = blockNum();
        require(_block < current, "can only retrieve past block hashes");
        require(current - _block <= 256, "can only retrieve hashes for last 256 blocks");
        return blockhash(_block - L1Block.OFFSET);
    }

    function blockHashForRound(uint256 _round) external view returns (bytes32) {
        return _roundBlockHash[_round];
    }

    function currentRound() public view returns (uint256) {
        return lastRoundLengthUpdateRound + (blockNum() - lastRoundLengthUpdateStartBlock) / roundLength;
    }

    function currentRoundStartBlock() public view returns (uint256) {
        return lastRoundLengthUpdateStartBlock + (currentRound() - lastRoundLengthUpdateRound) * roundLength;
    }

    function currentRoundInitialized() external view returns (bool) {
        return lastInitializedRound == currentRound();
    }

    function currentRoundLocked() external view returns (bool) {
        uint256 lockedBlocks = MathUtils.percOf(roundLength, roundLockAmount);
        return blockNum() - currentRoundStartBlock() >= roundLength - lockedBlocks;
    }
}
